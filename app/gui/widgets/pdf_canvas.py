"""A ``QPdfView`` that draws highlight rectangles over spans of page text.

Why a subclass: QtPdf has no public page-geometry API, so we lay pages out the way
``QPdfViewPrivate::calculateDocumentLayout`` does (custom zoom only: page size =
points x logical DPI / 72 x zoom, rounded; pages stacked with ``pageSpacing`` inside
``documentMargins`` and centred horizontally) and map PDF points → viewport pixels by
subtracting the scroll position. ``tests/test_gui_viewer.py`` checks this mapping against
the rendered pixels.

Scanned pages have no PDF text layer, so ``getSelectionAtIndex`` finds nothing there: for
pages read by OCR, :meth:`PdfCanvas.span_rects` draws from the OCR boxes instead
(:func:`app.text.layout.span_boxes`, same page-point space). Every highlight goes through it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Callable

from PySide6.QtCore import QMargins, QPointF, QRectF, QSize, QSizeF, Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView

from app.text.layout import PageLayout, span_boxes
from app.types import Span

COLORS: dict[str, QColor] = {
    "citation": QColor(40, 110, 240, 80),
    "evidence": QColor(40, 110, 240, 50),
    "high": QColor(230, 40, 40, 85),
    "medium": QColor(245, 140, 0, 85),
    "low": QColor(240, 210, 0, 90),
    "info": QColor(120, 120, 120, 70),
    "find": QColor(0, 180, 80, 90),
}


class Highlight:
    """A span shown in a kind's colour. Its rectangles (PDF points, origin top-left of the
    page) are computed when first needed: asking PDFium for them costs ~6 ms a span, and a find
    with 500 hits only ever paints the few on screen."""

    def __init__(self, span: Span, kind: str, rects: list[QRectF] | None = None,
                 resolve: Callable[[Span], list[QRectF]] | None = None) -> None:
        self.span, self.kind = span, kind
        self._rects, self._resolve = rects, resolve

    @property
    def rects(self) -> list[QRectF]:
        if self._rects is None:
            self._rects = self._resolve(self.span) if self._resolve is not None else []
        return self._rects

    @rects.setter
    def rects(self, rects: list[QRectF] | None) -> None:
        """Set them, or None: compute them again when next needed (e.g. OCR boxes arrived)."""
        self._rects = rects

    @property
    def placed(self) -> bool:
        """True once the rectangles are known (asking for them is then free)."""
        return self._rects is not None

    def __repr__(self) -> str:
        return f"Highlight({self.span!r}, {self.kind!r})"


#: Highlights placed per paint (each asks PDFium, ~6 ms); the rest follow on the next passes,
#: so a page with hundreds of find hits fills in over a few frames instead of freezing.
PLACE_PER_PAINT = 6


class PdfCanvas(QPdfView):
    def __init__(self, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.setPageMode(QPdfView.PageMode.MultiPage)
        self.setZoomMode(QPdfView.ZoomMode.Custom)
        self.highlights: list[Highlight] = []
        self._doc_serial = 0
        self._points: list[QSizeF] | None = None
        self._geom_key: tuple | None = None
        self._geom: tuple[list[QSize], list[int], list[int], int] = ([], [], [], 0)
        #: OCR'd pages of the open document: page → where its OCR text sits (see span_rects).
        self.ocr_layouts: dict[int, PageLayout] = {}
        self._flash: list[Highlight] = []
        self._flash_on = True
        self._flash_ticks = 0
        self._flash_timer = QTimer(self)
        self._flash_timer.setInterval(150)
        self._flash_timer.timeout.connect(self._flash_step)
        # Deliberately NOT a child of the view: a child would be deleted inside ~QWidget,
        # after ~QPdfView, and its closing statusChanged signal would reach the half-destroyed
        # view (segfault). Owned by this Python object, it dies after the view is gone.
        self.pdf = QPdfDocument()
        self.setDocument(self.pdf)
        # pages on a grey desk with room around them, as in any PDF reader
        self.setDocumentMargins(QMargins(18, 14, 18, 14))
        self.setPageSpacing(14)
        pal = self.viewport().palette()
        pal.setColor(QPalette.ColorRole.Dark, QColor(118, 122, 128))
        self.viewport().setPalette(pal)
        self.setPalette(pal)

    # -- geometry -------------------------------------------------------------------
    def scale(self) -> float:
        """Pixels per PDF point at the current zoom."""
        screen = QGuiApplication.primaryScreen()
        dpi = screen.logicalDotsPerInch() if screen is not None else 96.0
        return dpi / 72.0 * self.zoomFactor()

    def _geometry(self) -> tuple[list[QSize], list[int], list[int], int]:
        """Page sizes (pixels), each page's top and bottom in document pixels, and the document
        width — computed once per document and zoom. Why cached: ``pagePointSize`` takes QtPdf's
        global PDFium lock (which the page renderer holds while it draws), and per-call
        recomputation made a scroll over a 190-page 10-K cost ~130 ms and a paint with 500
        find hits over a second."""
        doc = self.document()
        if doc is None:
            return [], [], [], 0
        m, spacing, scale = self.documentMargins(), self.pageSpacing(), self.scale()
        key = (self._doc_serial, doc.pageCount(), scale, m.top(), m.left(), m.right(), spacing)
        if key != self._geom_key:
            if self._points is None or len(self._points) != doc.pageCount():
                self._points = [QSizeF(doc.pagePointSize(p)) for p in range(doc.pageCount())]
            sizes = [(pt * scale).toSize() for pt in self._points]
            tops, y = [], m.top()
            for sz in sizes:
                tops.append(y)
                y += sz.height() + spacing
            bottoms = [t + sz.height() for t, sz in zip(tops, sizes)]
            width = max((sz.width() for sz in sizes), default=0) + m.left() + m.right()
            self._geom, self._geom_key = (sizes, tops, bottoms, width), key
        return self._geom

    def _page_sizes(self) -> list[QSize]:
        return self._geometry()[0]

    def page_rect(self, page: int) -> QRectF:
        """Where ``page`` is drawn, in viewport pixels (may lie outside the visible area)."""
        sizes, tops, _bottoms, total_w = self._geometry()
        if not 0 <= page < len(sizes):
            return QRectF()
        x = (max(total_w, self.viewport().width()) - sizes[page].width()) // 2
        return QRectF(x - self.horizontalScrollBar().value(), tops[page] - self.verticalScrollBar().value(),
                      sizes[page].width(), sizes[page].height())

    def visible_pages(self) -> range:
        """The pages that intersect the viewport."""
        _sizes, tops, bottoms, _w = self._geometry()
        y = self.verticalScrollBar().value()
        first = bisect_left(bottoms, y)
        last = bisect_right(tops, y + self.viewport().height())
        return range(first, max(first, last))

    def to_viewport(self, page: int, rect_pt: QRectF) -> QRectF:
        """A rectangle in page points (origin top-left) → viewport pixels."""
        pr, s = self.page_rect(page), self.scale()
        return QRectF(pr.x() + rect_pt.x() * s, pr.y() + rect_pt.y() * s, rect_pt.width() * s, rect_pt.height() * s)

    def current_page(self) -> int:
        """The page under the top third of the viewport."""
        sizes, _tops, bottoms, _w = self._geometry()
        p = bisect_left(bottoms, self.verticalScrollBar().value() + self.viewport().height() / 3)
        return min(p, max(0, len(sizes) - 1))

    def scroll_to(self, page: int, y_pt: float = 0.0, x_pt: float | None = None) -> None:
        """Scroll so that point ``y_pt`` of ``page`` sits a little below the top edge."""
        pr = self.page_rect(page)
        if pr.isNull():
            return
        vs = self.verticalScrollBar()
        vs.setValue(int(vs.value() + pr.y() + y_pt * self.scale() - self.viewport().height() * 0.25))
        if x_pt is not None:
            hs = self.horizontalScrollBar()
            target = pr.x() + x_pt * self.scale()
            if not 0 <= target <= self.viewport().width() - 40:
                hs.setValue(int(hs.value() + target - 40))
        self.viewport().update()

    # -- highlights -----------------------------------------------------------------
    def span_rects(self, span: Span) -> list[QRectF]:
        """Rectangles (page points) of a span of page text: from the PDF's text layer, or
        from the OCR boxes on an OCR'd page."""
        doc = self.document()
        if doc is None or not 0 <= span.page < doc.pageCount() or span.end <= span.start:
            return []
        layout = self.ocr_layouts.get(span.page)
        if layout is not None:
            return [QRectF(x0, y0, x1 - x0, y1 - y0) for x0, y0, x1, y1 in span_boxes(layout, span.start, span.end)]
        sel = doc.getSelectionAtIndex(span.page, span.start, span.end - span.start)
        return [poly.boundingRect() for poly in sel.bounds() if not poly.boundingRect().isEmpty()]

    def set_highlights(self, spans: list[Span], kind: str, replace_kinds: tuple[str, ...] | None = None) -> list[Highlight]:
        """Show ``spans`` in ``kind``'s colour, replacing earlier highlights of those kinds."""
        drop = replace_kinds if replace_kinds is not None else (kind,)
        self.highlights = [h for h in self.highlights if h.kind not in drop]
        new = [Highlight(s, kind, resolve=self.span_rects) for s in spans]
        self.highlights.extend(new)
        self.viewport().update()
        return new

    def clear_highlights(self) -> None:
        self.highlights = []
        self._flash = []
        self.viewport().update()

    def flash(self, highlights: list[Highlight]) -> None:
        """Blink the given highlights a few times so the eye finds them."""
        self._flash, self._flash_ticks, self._flash_on = highlights, 0, True
        self._flash_timer.start()

    def _flash_step(self) -> None:
        self._flash_ticks += 1
        self._flash_on = not self._flash_on
        if self._flash_ticks >= 8:
            self._flash_timer.stop()
            self._flash_on = False
        self.viewport().update()

    def highlight_viewport_rects(self, kind: str | None = None) -> list[tuple[int, QRectF]]:
        """(page, rect in viewport pixels) of every highlight (tests and hit-testing)."""
        return [(h.span.page, self.to_viewport(h.span.page, r))
                for h in self.highlights if kind is None or h.kind == kind for r in h.rects]

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self.highlights:
            return
        painter = QPainter(self.viewport())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        visible = QRectF(self.viewport().rect())
        pages = self.visible_pages()
        budget, more = PLACE_PER_PAINT, False
        for h in self.highlights:
            if h.span.page not in pages:  # e.g. most of 500 find hits: skip without any geometry
                continue
            if not h.placed:
                if budget <= 0:
                    more = True
                    continue
                budget -= 1
            color = QColor(COLORS.get(h.kind, COLORS["citation"]))
            flashing = h in self._flash and self._flash_on
            if flashing:  # pulse between strong (outlined) and normal, never hidden
                color.setAlpha(min(255, color.alpha() + 70))
                edge = QColor(color)
                edge.setAlpha(230)
                painter.setPen(QPen(edge, 2))
            else:
                painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            for r in h.rects:
                vr = self.to_viewport(h.span.page, r).adjusted(-1, -1, 1, 1)
                if vr.intersects(visible):
                    painter.drawRect(vr)
        painter.end()
        if more:
            QTimer.singleShot(0, self.viewport().update)

    def load_file(self, path: str, password: str | None = None) -> bool:
        doc = self.pdf
        if password:
            doc.setPassword(password)
        err = doc.load(path)
        self._doc_serial += 1  # page geometry is recomputed for the new document
        self._points = None
        self.ocr_layouts = {}
        self.clear_highlights()
        self.verticalScrollBar().setValue(0)
        return err == QPdfDocument.Error.None_

    def zoom_to_width(self) -> None:
        doc = self.document()
        if doc is None or doc.pageCount() == 0:
            return
        screen = QGuiApplication.primaryScreen()
        dpi = screen.logicalDotsPerInch() if screen is not None else 96.0
        m = self.documentMargins()
        width = self.viewport().width() - m.left() - m.right() - 2
        if not self.verticalScrollBar().isVisible():  # it appears once pages overflow
            width -= self.verticalScrollBar().sizeHint().width()
        self.setZoomFactor(max(0.1, width / (doc.pagePointSize(0).width() * dpi / 72.0)))


__all__ = ["PdfCanvas", "Highlight", "COLORS", "QPointF"]
