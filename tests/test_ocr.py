"""OCR of scanned pages: the real RapidOCR models on page images the test renders itself,
character accuracy measured against the known text, and the geometry that lets the viewer
highlight OCR text (layout JSON, span → boxes, reading order, the catalog column)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.ingest.ocr import OcrEngine, char_accuracy, ocr_threads
from app.ingest.pdf_text import read_pdf
from app.ingest.reading_order import reading_order
from app.samples.pdf_writer import write_mixed_pdf
from app.samples.scan import SAMPLE_LINES, ScannedPage, render_scan
from app.store.catalog import Catalog
from app.text.layout import OcrLine, PageLayout, page_layouts, span_boxes
from app.types import DocumentRecord, PageText
from ocr_helpers import CLEAN_ACCURACY_FLOOR, assert_boxes_on_word

# -- pure parts ------------------------------------------------------------------------

def test_layout_round_trips_and_maps_spans_to_parts_of_lines() -> None:
    line1 = OcrLine(0, 10, (10, 20, 110, 20, 110, 32, 10, 32), tuple(i / 10 for i in range(11)))
    line2 = OcrLine(11, 15, (10, 40, 50, 40, 50, 52, 10, 52))  # no edges: spread evenly
    layout = PageLayout((line1, line2))
    again = PageLayout.from_json(layout.to_json())
    assert again == layout
    assert span_boxes(layout, 2, 5) == [pytest.approx((30, 20, 60, 32))]
    assert span_boxes(layout, 12, 14) == [pytest.approx((20, 40, 40, 52))]
    # across the line break: one box per line, nothing for the "\n" between them
    assert span_boxes(layout, 8, 13) == [pytest.approx((90, 20, 110, 32)), pytest.approx((10, 40, 30, 52))]
    assert span_boxes(layout, 10, 11) == []
    assert PageLayout.from_json("") is None and PageLayout.from_json("{broken") is None
    pages = [PageText(0, "text layer"), PageText(1, "x", ocr=True, layout=layout.to_json())]
    assert set(page_layouts(pages)) == {1}


def test_skewed_line_boxes_follow_the_line() -> None:
    # a line rising 10 pt over 100 pt: its first half sits lower than its second half
    line = OcrLine(0, 10, (0, 10, 100, 0, 100, 12, 0, 22))
    (left,), (right,) = span_boxes(PageLayout((line,)), 0, 5), span_boxes(PageLayout((line,)), 5, 10)
    assert left[1] > right[1] and left[3] > right[3]


def test_reading_order_columns_rows_and_tables() -> None:
    h = 10.0
    header = (50, 10, 550, 10 + h)
    left = [(50, 40 + 14 * i, 280, 40 + 14 * i + h) for i in range(4)]
    right = [(320, 40 + 14 * i, 550, 40 + 14 * i + h) for i in range(4)]
    boxes = [right[0], left[2], header, left[0], right[3], left[1], right[1], left[3], right[2]]
    lines = reading_order(boxes)
    order = [boxes[i] for line in lines for i in line]
    assert order == [header, *left, *right], "two text columns are read one after the other"
    # a table: label column and short number cells, read row by row
    rows = [[(50, 100 + 14 * i, 200, 100 + 14 * i + h), (400, 100 + 14 * i, 440, 100 + 14 * i + h),
             (480, 100 + 14 * i, 520, 100 + 14 * i + h)] for i in range(5)]
    flat = [b for row in rows for b in row][::-1]
    lines = reading_order(flat)
    assert [[flat[i] for i in line] for line in lines] == rows
    # tight leading: padded boxes of neighbouring lines overlap, rows are still told apart
    tight = [(50, 100 + 12 * i, 500, 100 + 12 * i + 15) for i in range(6)]
    assert reading_order(tight[::-1]) == [[5 - i] for i in range(6)]


def test_char_accuracy() -> None:
    assert char_accuracy("Revenue was  $4,213\nmillion", "Revenue was $4,213 million") == 1.0
    assert char_accuracy("abcdefghij", "abcdefghiX") == pytest.approx(0.9)
    assert char_accuracy("abc", "") == 0.0
    assert ocr_threads(2) == 1 and ocr_threads(8) == 4 and ocr_threads(1) == 1


def test_catalog_gains_the_layout_column_and_keeps_old_rows(tmp_path: Path) -> None:
    """A catalog written before OCR boxes existed opens, gets the column, and its rows read."""
    path = tmp_path / "catalog.sqlite"
    Catalog(path).close()
    db = sqlite3.connect(path)
    db.executescript("""
        ALTER TABLE pages RENAME TO pages_new;
        CREATE TABLE pages (workspace TEXT NOT NULL, doc_id TEXT NOT NULL, page INTEGER NOT NULL,
            text TEXT NOT NULL, has_text INTEGER NOT NULL, ocr INTEGER NOT NULL, PRIMARY KEY (workspace, doc_id, page));
        DROP TABLE pages_new;
        INSERT INTO pages VALUES ('default', 'old', 0, 'old text', 1, 0);
    """)
    db.commit()
    db.close()
    with Catalog(path) as cat:
        assert cat.pages("default", "old") == [PageText(0, "old text")]
        layout = PageLayout((OcrLine(0, 4, (1, 2, 3, 2, 3, 4, 1, 4)),))
        rec = DocumentRecord(id="new", path="/x.pdf", title="x", page_count=2, doc_type="other", status="indexed")
        cat.commit_document(rec, [PageText(0, "text"), PageText(1, "scan", ocr=True, layout=layout.to_json())], [])
        pages = cat.pages("default", "new")
        assert PageLayout.from_json(pages[1].layout) == layout and pages[0].layout == ""
        assert cat.get("default", "new").ocr_pages == [1]  # type: ignore[union-attr]


# -- the real OCR engine -----------------------------------------------------------------

@pytest.fixture(scope="module")
def engine() -> OcrEngine:
    return OcrEngine()


def _scan_pdf(path: Path, page: ScannedPage) -> Path:
    return write_mixed_pdf(path, [page.image])


@pytest.mark.slow
def test_clean_scan_is_read_accurately_with_boxes_on_the_words(engine: OcrEngine, tmp_path: Path) -> None:
    scan = render_scan(SAMPLE_LINES, dpi=200, font_pt=12)
    parsed = read_pdf(_scan_pdf(tmp_path / "scan.pdf", scan), ocr=engine)
    page = parsed.pages[0]
    assert page.ocr and page.has_text
    accuracy = char_accuracy(scan.text, page.text)
    print(f"\nOCR character accuracy, clean 12 pt at 200 dpi: {accuracy:.4f}")
    assert accuracy >= CLEAN_ACCURACY_FLOOR
    assert page.text.count("\n") == len(SAMPLE_LINES) - 1, "one line of text per printed line, in order"
    assert parsed.title.startswith("Item 7"), "the title of a scanned document comes from its OCR text"
    layout = PageLayout.from_json(page.layout)
    assert layout is not None
    checked = 0
    for word in scan.words:
        if len(word.word) < 6 or page.text.count(word.word) != 1:
            continue  # short or repeated words: no unique place to check
        start = page.text.index(word.word)
        assert_boxes_on_word(span_boxes(layout, start, start + len(word.word)), word)
        checked += 1
    assert checked >= 20


@pytest.mark.slow
def test_noisy_small_print_is_still_readable(engine: OcrEngine, tmp_path: Path) -> None:
    scan = render_scan(SAMPLE_LINES[:6], dpi=150, font_pt=9, noise=30, seed=3)
    parsed = read_pdf(_scan_pdf(tmp_path / "noisy.pdf", scan), ocr=engine)
    accuracy = char_accuracy(scan.text, parsed.pages[0].text)
    print(f"\nOCR character accuracy, noisy 9 pt at 150 dpi: {accuracy:.4f}")
    assert accuracy >= 0.9


@pytest.mark.slow
def test_blank_and_text_pages(engine: OcrEngine, tmp_path: Path) -> None:
    from app.samples.pdf_writer import GrayImage

    blank = GrayImage(850, 1100, bytes([255]) * (850 * 1100))
    path = write_mixed_pdf(tmp_path / "m.pdf", ["A text page with its own text layer.", blank])
    events: list[tuple[int, int]] = []
    parsed = read_pdf(path, ocr=engine, on_ocr=lambda p, done, total: events.append((done, total)))
    assert parsed.pages[0] == PageText(0, parsed.pages[0].text, True, False)
    assert parsed.pages[1].ocr and not parsed.pages[1].has_text and parsed.pages[1].layout == ""
    assert events == [(0, 1), (1, 1)]
