"""The PDF viewer: PDF points → widget pixels with zoom and scroll (checked against the
rendered page), spans → highlight rectangles, show_span, find."""

from __future__ import annotations

from pathlib import Path

import conftest_gui
import pytest
from PySide6.QtCore import QRectF

from app.gui.widgets.viewer import Viewer, find_spans
from app.types import Span

pytestmark = pytest.mark.gui


@pytest.fixture
def viewer(qtbot, tmp_path: Path) -> Viewer:  # type: ignore[no-untyped-def]
    return _open(qtbot, conftest_gui.write_contract(tmp_path / "c.pdf"), "doc1", "Contract")


def _open(qtbot, pdf: Path, doc_id: str, title: str) -> Viewer:  # type: ignore[no-untyped-def]
    """A shown viewer with ``pdf`` open."""
    v = Viewer()
    qtbot.addWidget(v)
    v.resize(900, 700)
    v.show()
    qtbot.waitExposed(v)
    assert v.open_document(doc_id, str(pdf), title)
    return v


def _dark_bbox(v: Viewer, area: QRectF) -> QRectF | None:
    """Bounding box of dark (text) pixels inside ``area`` of the rendered viewport."""
    v.canvas.highlights = []  # look at the page itself
    v.canvas.viewport().repaint()
    img = v.canvas.viewport().grab().toImage()
    xs, ys = [], []
    r = area.toAlignedRect().intersected(img.rect())
    for y in range(r.top(), r.bottom() + 1):
        for x in range(r.left(), r.right() + 1):
            c = img.pixelColor(x, y)
            if c.red() < 100 and c.green() < 100 and c.blue() < 100:
                xs.append(x)
                ys.append(y)
    return QRectF(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)) if xs else None


@pytest.mark.parametrize("zoom", [0.7, 1.0, 1.6])
def test_span_rect_matches_rendered_text(viewer: Viewer, qtbot, zoom: float) -> None:  # type: ignore[no-untyped-def]
    viewer.canvas.setZoomFactor(zoom)
    text = viewer.page_texts[1]
    start = text.index("3. Indemnity")
    span = Span(1, start, start + len("3. Indemnity"))
    assert viewer.show_span("doc1", [span], "citation")
    qtbot.wait(50)
    rects = viewer.canvas.highlight_viewport_rects("citation")
    assert rects and rects[0][0] == 1
    rect = rects[0][1]
    page = viewer.canvas.page_rect(1)
    assert page.contains(rect), "highlight must lie inside its page"
    assert viewer.canvas.viewport().rect().intersects(rect.toAlignedRect()), "show_span scrolls it into view"
    # the line stands alone (page margin to its left, line break after it): widen the probe
    # sideways only, so neighbouring lines above and below stay out of it
    probe = rect.adjusted(-40, 0, 40, 0)
    # QPdfView renders pages in the background: wait until the glyphs are on screen
    qtbot.waitUntil(lambda: _dark_bbox(viewer, probe) is not None, timeout=10000)
    ink = _dark_bbox(viewer, probe)
    assert ink is not None
    tol = 3 + 2 * zoom  # pixels
    assert abs(ink.left() - rect.left()) <= tol and abs(ink.right() - rect.right()) <= tol
    assert ink.height() >= rect.height() * 0.5  # the glyphs fill the box vertically
    assert viewer.current_page() == 1


def test_scrolling_moves_highlights_with_the_page(viewer: Viewer, qtbot) -> None:  # type: ignore[no-untyped-def]
    span = Span(0, 0, 8)
    viewer.canvas.set_highlights([span], "high")
    before = viewer.canvas.highlight_viewport_rects("high")[0][1]
    viewer.canvas.verticalScrollBar().setValue(viewer.canvas.verticalScrollBar().value() + 40)
    after = viewer.canvas.highlight_viewport_rects("high")[0][1]
    assert after.top() == pytest.approx(before.top() - 40, abs=1)


def test_navigation_zoom_and_find(viewer: Viewer, qtbot) -> None:  # type: ignore[no-untyped-def]
    viewer.go_to_page(2)
    assert viewer.current_page() == 2
    viewer.set_zoom(2.0)
    assert viewer.current_page() == 2 and viewer.canvas.zoomFactor() == pytest.approx(2.0)
    viewer.find_box.setText("agreement")
    hits = [h for h in viewer.canvas.highlights if h.kind == "find"]
    assert len(hits) == 4 and all(h.rects for h in hits)
    viewer.find_next()
    viewer.find_next()
    assert viewer.find_status.text() == "2 of 4"


def test_find_spans_tolerates_line_breaks() -> None:
    pages = ["one two\r\nthree", "Two three"]
    assert find_spans(pages, "two three") == [Span(0, 4, 14), Span(1, 0, 9)]
    assert find_spans(pages, "   ") == []


def test_missing_file_is_reported(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    v = Viewer()
    qtbot.addWidget(v)
    assert not v.open_document("x", str(tmp_path / "gone.pdf"), "Gone")
    assert "missing" in v.title.text() and v.doc_id is None


def test_long_document_find_waits_for_a_pause_and_places_lazily(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from app.samples.pdf_writer import write_text_pdf

    pdf = write_text_pdf(tmp_path / "long.pdf", [f"Section {i}\n" + "the ledger " * 12 for i in range(40)], title="Long")
    v = _open(qtbot, pdf, "long", "Long")
    qtbot.keyClicks(v.find_box, "ledger")
    assert not [h for h in v.canvas.highlights if h.kind == "find"]  # not searched per keystroke
    qtbot.waitUntil(lambda: v.find_status.text() == "480 found", timeout=5000)
    hits = [h for h in v.canvas.highlights if h.kind == "find"]
    shown = v.canvas.visible_pages()
    assert 0 < len(shown) < 40
    qtbot.waitUntil(lambda: all(h.placed for h in hits if h.span.page in shown), timeout=5000)
    assert not any(h.placed for h in hits if h.span.page > shown[-1] + 1)  # off-screen hits cost nothing
    v.go_to_page(30)
    assert v.current_page() == 30 and 30 in v.canvas.visible_pages()
    qtbot.waitUntil(lambda: all(h.placed for h in hits if h.span.page == 30), timeout=5000)
    rects = [(h.span.page, v.canvas.to_viewport(h.span.page, r)) for h in hits if h.span.page == 30 for r in h.rects]
    assert len(rects) == 12 and all(v.canvas.page_rect(30).contains(r) for _p, r in rects)
