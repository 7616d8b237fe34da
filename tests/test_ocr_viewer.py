"""The viewer highlights spans on OCR'd pages (no PDF text layer there) from the OCR boxes,
checked against the pixels QtPdf renders for the scanned word."""

from __future__ import annotations

import conftest_gui  # noqa: F401 - sets the offscreen platform before Qt loads
import pytest
from PySide6.QtCore import QRectF

from app.embed.fake import FakeEmbedder
from app.gui.widgets.viewer import Viewer
from app.samples.pdf_writer import write_mixed_pdf
from app.samples.scan import SAMPLE_LINES
from app.service import Service
from app.settings import Settings
from app.types import Span
from ocr_helpers import clean_scan, word_box

pytestmark = [pytest.mark.gui, pytest.mark.slow]

LINES = SAMPLE_LINES[:6]


@pytest.fixture(scope="module")
def scanned_doc(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A text page and a scanned page, ingested once through the Service (OCR in the child)."""
    folder = tmp_path_factory.mktemp("scan")
    pdf = write_mixed_pdf(folder / "scan.pdf", ["A text page first.", clean_scan(LINES).image])
    svc = Service(folder / "data", Settings(), embedder=FakeEmbedder())
    try:
        doc = svc.ingest([pdf]).added[0]
        pages = svc.page_texts(doc.id)  # as the main window hands them to the viewer
    finally:
        svc.close()
    assert pages[1].ocr
    return pdf, doc.id, pages


@pytest.fixture
def ocr_viewer(qtbot, scanned_doc) -> Viewer:  # type: ignore[no-untyped-def]
    pdf, doc_id, pages = scanned_doc
    v = Viewer()
    qtbot.addWidget(v)
    v.resize(900, 700)
    v.show()
    qtbot.waitExposed(v)
    assert v.open_document(doc_id, str(pdf), "Scan", pages)
    return v


def _ink_columns(v: Viewer, area: QRectF) -> tuple[float, float] | None:
    """Leftmost and rightmost dark pixel columns inside ``area`` of the rendered viewport."""
    v.canvas.highlights = []
    v.canvas.viewport().repaint()
    img = v.canvas.viewport().grab().toImage()
    r = area.toAlignedRect().intersected(img.rect())
    cols = [x for x in range(r.left(), r.right() + 1)
            if any(img.pixelColor(x, y).lightness() < 110 for y in range(r.top(), r.bottom() + 1))]
    return (min(cols), max(cols)) if cols else None


@pytest.mark.parametrize("zoom", [0.8, 1.5])
def test_ocr_span_is_highlighted_on_the_scanned_word(ocr_viewer: Viewer, qtbot, zoom: float) -> None:  # type: ignore[no-untyped-def]
    v = ocr_viewer
    v.canvas.setZoomFactor(zoom)
    assert v.canvas.ocr_layouts.keys() == {1}
    text = v.page_texts[1]
    assert v.canvas.document().getAllText(1).text().strip() == "", "the scanned page has no text layer"
    start = text.index("impairment")
    assert v.show_span(v.doc_id, [Span(1, start, start + len("impairment"))], "citation")
    qtbot.wait(50)
    rects = v.canvas.highlight_viewport_rects("citation")
    assert len(rects) == 1 and rects[0][0] == 1
    rect = rects[0][1]
    assert v.canvas.page_rect(1).contains(rect)
    assert v.canvas.viewport().rect().intersects(rect.toAlignedRect()), "show_span scrolls it into view"
    # where the word was printed (known from rendering the scan), in viewport pixels
    word = word_box(clean_scan(LINES), "impairment")
    expected = v.canvas.to_viewport(1, QRectF(word.x0, word.y0, word.x1 - word.x0, word.y1 - word.y0))
    tol = 1 + 2.5 * zoom  # pixels (about 2 pt)
    assert abs(rect.left() - expected.left()) <= tol and abs(rect.right() - expected.right()) <= tol, (rect, expected)
    assert rect.top() <= expected.top() + 1 and rect.bottom() >= expected.bottom() - 1, (rect, expected)
    # and QtPdf draws the scanned word there (the canvas's page space is the OCR boxes' space);
    # it renders the page image in the background: wait until it is drawn
    probe = expected.adjusted(-tol, 0, tol, 0)
    qtbot.waitUntil(lambda: _ink_columns(v, probe) is not None, timeout=10_000)
    ink = _ink_columns(v, probe)
    assert ink is not None and abs(ink[0] - expected.left()) <= tol and abs(ink[1] - expected.right()) <= tol


def test_find_and_multi_line_spans_on_the_ocr_page(ocr_viewer: Viewer) -> None:
    v = ocr_viewer
    v.find_box.setText("million")
    hits = [h for h in v.canvas.highlights if h.kind == "find"]
    assert len(hits) == 3 and all(h.span.page == 1 and len(h.rects) == 1 for h in hits)
    text = v.page_texts[1]
    a, b = text.index("Revenue"), text.index("capacity") + len("capacity")
    rects = v.canvas.span_rects(Span(1, a, b))
    assert len(rects) == 2 and rects[0].bottom() <= rects[1].top() + 2, "one box per line, top to bottom"
