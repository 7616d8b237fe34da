"""Helpers shared by the OCR tests (not a test module): scanned pages the tests render
themselves, and the check that a highlight box lies on a word's ink."""

from __future__ import annotations

from app.samples.scan import SAMPLE_LINES, ScannedPage, WordBox, render_scan

Box = tuple[float, float, float, float]

#: Floor for clean 12 pt text scanned at 200 dpi (measured 0.9989; see bench/README.md "OCR").
CLEAN_ACCURACY_FLOOR = 0.95


def clean_scan(lines: list[str] | None = None) -> ScannedPage:
    return render_scan(lines or SAMPLE_LINES, dpi=200, font_pt=12)


def word_box(page: ScannedPage, word: str) -> WordBox:
    found = [w for w in page.words if w.word == word]
    assert len(found) == 1, f"{word!r} must occur once on the page"
    return found[0]


def overlap(a: Box, b: WordBox) -> float:
    """Share of the word's ink box covered by box ``a``."""
    w = max(0.0, min(a[2], b.x1) - max(a[0], b.x0))
    h = max(0.0, min(a[3], b.y1) - max(a[1], b.y0))
    return w * h / ((b.x1 - b.x0) * (b.y1 - b.y0))


def assert_boxes_on_word(boxes: list[Box], word: WordBox, slack: float = 4.0) -> None:
    """The highlight covers the word's ink and stays within a few points of it (so it does
    not spill onto the neighbouring words or lines)."""
    assert len(boxes) == 1, boxes
    box = boxes[0]
    assert overlap(box, word) >= 0.9, (box, word)
    assert box[0] >= word.x0 - slack and box[2] <= word.x1 + slack, (box, word)
    assert box[1] >= word.y0 - 2 * slack and box[3] <= word.y1 + 2 * slack, (box, word)
