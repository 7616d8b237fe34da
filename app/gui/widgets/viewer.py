"""The centre pane: the PDF, page navigation, zoom, find, and highlighted spans.

``show_span(doc_id, spans, kind)`` is how every other panel points at evidence: it opens
the document if needed, scrolls to the first span's page and flashes the highlight.
Page texts may be given as ``PageText``s: those of OCR'd pages carry the OCR boxes, which
the canvas then uses to highlight on pages without a PDF text layer.
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QLineEdit, QSpinBox, QToolButton, QVBoxLayout,
                               QWidget)

from app.gui.widgets.elided_label import ElidedLabel
from app.gui.widgets.pdf_canvas import PdfCanvas
from app.text.layout import page_layouts
from app.types import PageText, Span

PageTexts = Sequence["str | PageText"]
FIND_DELAY_MS = 250
FIND_INSTANT_PAGES = 30
DocResolver = Callable[[str], "tuple[str, PageTexts] | None"]  # doc_id -> (path, page texts)


class Viewer(QWidget):
    document_opened = Signal(str)  # doc_id

    def __init__(self, resolver: DocResolver | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.resolver = resolver
        self.doc_id: str | None = None
        self._page_texts: list[str] = []
        self._find_hits: list[Span] = []
        self._find_index = -1
        self._fit_pending = False
        self.canvas = PdfCanvas(self)
        self.title = ElidedLabel("No document open")
        bold = self.title.font()
        bold.setBold(True)
        self.title.setFont(bold)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._toolbar())
        layout.addWidget(self.canvas, 1)
        layout.addLayout(self._findbar())
        self.canvas.verticalScrollBar().valueChanged.connect(self._sync_page)
        QShortcut(QKeySequence.StandardKey.Find, self, activated=self.start_find,
                  context=Qt.ShortcutContext.WindowShortcut)

    # -- layout -----------------------------------------------------------------------
    def _button(self, text: str, tip: str, slot: Callable[[], None]) -> QToolButton:
        b = QToolButton(self)
        b.setText(text)
        b.setToolTip(tip)
        b.clicked.connect(slot)
        return b

    def _toolbar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 4, 2)
        bar.addWidget(self.title, 1)
        bar.addWidget(self._button("◀", "Previous page (PgUp)", lambda: self.go_to_page(self.current_page() - 1)))
        self.page_box = QSpinBox(self)
        self.page_box.setMinimum(1)
        self.page_box.setKeyboardTracking(False)
        self.page_box.valueChanged.connect(lambda v: self.go_to_page(v - 1) if v - 1 != self.current_page() else None)
        self.page_count_label = QLabel("/ 0")
        bar.addWidget(self.page_box)
        bar.addWidget(self.page_count_label)
        bar.addWidget(self._button("▶", "Next page (PgDn)", lambda: self.go_to_page(self.current_page() + 1)))
        bar.addSpacing(8)
        bar.addWidget(self._button("−", "Zoom out (Ctrl+-)", lambda: self.set_zoom(self.canvas.zoomFactor() / 1.2)))
        self.zoom_label = QLabel("100%")
        self.zoom_label.setMinimumWidth(self.zoom_label.fontMetrics().horizontalAdvance("000%") + 4)
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.zoom_label.setToolTip("Zoom")
        self.canvas.zoomFactorChanged.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f}%"))
        bar.addWidget(self.zoom_label)
        bar.addWidget(self._button("+", "Zoom in (Ctrl++)", lambda: self.set_zoom(self.canvas.zoomFactor() * 1.2)))
        bar.addWidget(self._button("↔", "Fit width", self.fit_width))
        QShortcut(QKeySequence.StandardKey.ZoomIn, self, activated=lambda: self.set_zoom(self.canvas.zoomFactor() * 1.2))
        QShortcut(QKeySequence.StandardKey.ZoomOut, self, activated=lambda: self.set_zoom(self.canvas.zoomFactor() / 1.2))
        return bar

    def _findbar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 4)
        self.find_box = QLineEdit(self)
        self.find_box.setPlaceholderText("Find in document (Ctrl+F)")
        self.find_box.setClearButtonEnabled(True)
        self.find_box.returnPressed.connect(self._find_enter)
        # in a long document typing restarts a short timer: the search runs once the user
        # pauses, not per keystroke (a short document is searched at once)
        self._find_timer = QTimer(self)
        self._find_timer.setSingleShot(True)
        self._find_timer.setInterval(FIND_DELAY_MS)
        self._find_timer.timeout.connect(lambda: self._find_changed(self.find_box.text()))
        self.find_box.textChanged.connect(self._find_typed)
        self.find_status = QLabel("")
        bar.addWidget(self.find_box, 1)
        bar.addWidget(self.find_status)
        bar.addWidget(self._button("↑", "Previous match", self.find_previous))
        bar.addWidget(self._button("↓", "Next match (Enter)", self.find_next))
        return bar

    # -- documents --------------------------------------------------------------------
    def open_document(self, doc_id: str, path: str, title: str = "", page_texts: PageTexts | None = None) -> bool:
        if doc_id == self.doc_id:
            return True
        if not self.canvas.load_file(path):
            self.title.setText(f"Cannot display {title or path}: the file is missing or unreadable.")
            self.doc_id = None
            return False
        self.doc_id = doc_id
        doc = self.canvas.document()
        self._apply_page_texts(page_texts or ())
        self.title.setText(title or path)
        self.title.setToolTip(path)
        self._fit_pending = True
        self._fit_if_shown()
        self.page_box.setMaximum(max(1, doc.pageCount()))
        self.page_count_label.setText(f"/ {doc.pageCount()}")
        self._find_changed(self.find_box.text())
        self.document_opened.emit(doc_id)
        return True

    def set_page_texts(self, doc_id: str, page_texts: PageTexts) -> None:
        """The stored page texts of ``doc_id``, read in a background job after it was opened (the
        GUI thread never waits on the catalog): find uses them, and OCR'd pages get their boxes
        (highlights already shown are placed again)."""
        if doc_id != self.doc_id:
            return
        self._apply_page_texts(page_texts)
        for h in self.canvas.highlights:
            h.rects = None  # placed again (OCR boxes may have arrived) when next painted
        self.canvas.viewport().update()
        self._find_changed(self.find_box.text())

    def _apply_page_texts(self, page_texts: PageTexts) -> None:
        self.canvas.ocr_layouts = page_layouts(p for p in page_texts if not isinstance(p, str))
        self.page_texts = [p if isinstance(p, str) else p.text for p in page_texts]

    @property
    def page_texts(self) -> list[str]:
        """Page texts (find, tests): the stored ones, else — until the job delivers them — QtPdf's,
        read on demand (the same text: both are PDFium's)."""
        if not self._page_texts and self.doc_id is not None:
            doc = self.canvas.document()
            self._page_texts = [doc.getAllText(p).text() for p in range(doc.pageCount())]
        return self._page_texts

    @page_texts.setter
    def page_texts(self, texts: list[str]) -> None:
        self._page_texts = list(texts)

    def _texts(self) -> list[str]:
        return self.page_texts

    def _fit_if_shown(self) -> None:
        """Open documents at page width (once the viewport has its real size)."""
        if self._fit_pending and self.isVisible() and self.canvas.viewport().width() > 200:
            self._fit_pending = False
            self.canvas.zoom_to_width()
            self.canvas.verticalScrollBar().setValue(0)

    def showEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().showEvent(event)
        self._fit_if_shown()

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().resizeEvent(event)
        self._fit_if_shown()

    def close_document(self) -> None:
        self.doc_id = None
        self.page_texts = []
        doc = self.canvas.document()
        if doc is not None:
            doc.close()
        self.canvas.clear_highlights()
        self.title.setText("No document open")
        self.page_count_label.setText("/ 0")

    def _ensure(self, doc_id: str) -> bool:
        if doc_id == self.doc_id:
            return True
        found = self.resolver(doc_id) if self.resolver else None
        if not found:
            return False
        path, texts = found
        return self.open_document(doc_id, path, page_texts=texts)

    # -- navigation -------------------------------------------------------------------
    def page_count(self) -> int:
        doc = self.canvas.document()
        return doc.pageCount() if doc is not None else 0

    def current_page(self) -> int:
        return self.canvas.current_page()

    def go_to_page(self, page: int) -> None:
        if self.page_count():
            self.canvas.scroll_to(max(0, min(page, self.page_count() - 1)), 0.0)
            self.canvas.verticalScrollBar().setValue(
                self.canvas.verticalScrollBar().value() + int(self.canvas.viewport().height() * 0.25))

    def set_zoom(self, factor: float) -> None:
        page = self.current_page()
        self.canvas.setZoomFactor(max(0.25, min(6.0, factor)))
        self.go_to_page(page)

    def fit_width(self) -> None:
        page = self.current_page()
        self.canvas.zoom_to_width()
        self.go_to_page(page)

    def _sync_page(self) -> None:
        self.page_box.blockSignals(True)
        self.page_box.setValue(self.current_page() + 1)
        self.page_box.blockSignals(False)

    def show_span(self, doc_id: str, spans: list[Span], kind: str = "citation") -> bool:
        """Open ``doc_id``, scroll to the first span and flash the highlights. False if the
        document cannot be shown."""
        if not self._ensure(doc_id):
            return False
        if not spans:
            return True
        replace = ("citation", "evidence", "high", "medium", "low", "info") if kind != "find" else ("find",)
        new = self.canvas.set_highlights(list(spans), kind, replace_kinds=replace)
        first = next((h for h in new if h.rects), None)
        if first is not None:
            r = first.rects[0]
            self.canvas.scroll_to(first.span.page, r.y(), r.x())
        else:
            self.canvas.scroll_to(spans[0].page, 0.0)
        self.canvas.flash(new)
        self._sync_page()
        return True

    # -- find -------------------------------------------------------------------------
    def start_find(self) -> None:
        self.find_box.setFocus()
        self.find_box.selectAll()

    def _find_changed(self, text: str) -> None:
        self._find_hits = find_spans(self._texts(), text) if text.strip() else []
        self._find_index = -1
        self.canvas.set_highlights(self._find_hits, "find")
        self.find_status.setText(f"{len(self._find_hits)} found" if text.strip() else "")

    def _find_typed(self, text: str) -> None:
        if self.page_count() > FIND_INSTANT_PAGES:
            self._find_timer.start()
        else:
            self._find_changed(text)

    def _find_enter(self) -> None:
        if self._find_timer.isActive():  # Enter before the pause: search now
            self.find_now()
        self.find_next()

    def find_now(self) -> None:
        """Run the pending search at once (what the pause after typing does)."""
        self._find_timer.stop()
        self._find_changed(self.find_box.text())

    def find_next(self, step: int = 1) -> None:
        if not self._find_hits:
            return
        self._find_index = (self._find_index + step) % len(self._find_hits)
        hit = self._find_hits[self._find_index]
        rects = self.canvas.span_rects(hit)
        self.canvas.scroll_to(hit.page, rects[0].y() if rects else 0.0)
        self.find_status.setText(f"{self._find_index + 1} of {len(self._find_hits)}")

    def find_previous(self) -> None:
        self.find_next(-1)


def find_spans(page_texts: list[str], needle: str, limit: int = 500) -> list[Span]:
    """Case-insensitive matches of ``needle`` in the page texts; any run of whitespace in
    the needle matches any whitespace (PDF line breaks are ``\\r\\n``)."""
    words = needle.split()
    if not words:
        return []
    pattern = re.compile(r"\s+".join(re.escape(w) for w in words), re.IGNORECASE)
    out: list[Span] = []
    for page, text in enumerate(page_texts):
        for m in pattern.finditer(text):
            out.append(Span(page, m.start(), m.end()))
            if len(out) >= limit:
                return out
    return out
