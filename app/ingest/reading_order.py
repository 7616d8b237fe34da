"""Put the text boxes OCR found on a page into reading order.

The detector returns one box per stretch of text, in no useful order. We order them by a
recursive XY-cut: a region is split at a vertical gutter when one runs through all of it
and both sides read like text columns (so two-column pages are read column by column),
otherwise at its widest horizontal gap; a region that is one row (boxes overlapping in y,
e.g. the cells of a table row) is read left to right and becomes one line of page text.

Why the "text column" test: a financial table also has wide vertical gaps between its label
and number columns, but it must be read row by row ("Revenue 4,213 3,760"), never as a
column of labels followed by columns of numbers. Its number cells are short, text lines are
long, so a side must have a median box width of at least ``COLUMN_MIN_WIDTH`` line heights.

Boxes overlap vertically when lines are set tight (the detector pads them), so rows are
told apart by the middle half of each box (``CORE``), which never overlaps between lines.
"""

from __future__ import annotations

from statistics import median
from typing import Sequence

Box = tuple[float, float, float, float]  # x0, y0, x1, y1

#: Fraction of a box's height kept, centred, when deciding which boxes share a row.
CORE = 0.5
#: A vertical gutter must be at least this many median box heights wide.
GUTTER_MIN = 1.2
#: Each side of a column split needs boxes at least this many box heights wide (text lines).
COLUMN_MIN_WIDTH = 8.0


def reading_order(boxes: Sequence[Box]) -> list[list[int]]:
    """Indices of ``boxes`` as lines in reading order; each line lists its boxes left to right."""
    if not boxes:
        return []
    height = median(b[3] - b[1] for b in boxes) or 1.0
    return _cut(list(range(len(boxes))), boxes, height)


def _cut(idx: list[int], boxes: Sequence[Box], height: float) -> list[list[int]]:
    # an explicit stack instead of recursion: a page of 200 one-line regions stays flat
    out: list[list[int]] = []
    stack = [idx]
    while stack:
        part = stack.pop()
        split = _column_split(part, boxes, height) or _row_split(part, boxes)
        if split is None:
            out.append(sorted(part, key=lambda i: boxes[i][0]))
        else:
            first, second = split
            stack.extend((second, first))  # first is processed next
    return out


def _column_split(idx: list[int], boxes: Sequence[Box], height: float) -> tuple[list[int], list[int]] | None:
    """Split at the widest vertical gutter running through the whole region, if the
    regions on both sides are text columns."""
    if len(idx) < 4:
        return None
    spans = sorted((boxes[i][0], boxes[i][2]) for i in idx)
    best_at, best_w, reach = None, 0.0, spans[0][1]
    for x0, x1 in spans[1:]:
        if x0 - reach > best_w:
            best_at, best_w = (reach + x0) / 2, x0 - reach
        reach = max(reach, x1)
    if best_at is None or best_w < GUTTER_MIN * height:
        return None
    left = [i for i in idx if boxes[i][2] <= best_at]
    right = [i for i in idx if boxes[i][0] >= best_at]
    if not (_is_column(left, boxes, height) and _is_column(right, boxes, height)):
        return None
    return left, right


def _is_column(idx: list[int], boxes: Sequence[Box], height: float) -> bool:
    return len(idx) >= 2 and median(boxes[i][2] - boxes[i][0] for i in idx) >= COLUMN_MIN_WIDTH * height


def _core(b: Box) -> tuple[float, float]:
    pad = (b[3] - b[1]) * (1 - CORE) / 2
    return b[1] + pad, b[3] - pad


def _row_split(idx: list[int], boxes: Sequence[Box]) -> tuple[list[int], list[int]] | None:
    """Split at the widest horizontal gap between box cores; None when all boxes share a row."""
    cores = sorted((_core(boxes[i]), i) for i in idx)
    best_at, best_w, reach = None, -1.0, cores[0][0][1]
    for (y0, y1), _ in cores[1:]:
        if y0 > reach and y0 - reach > best_w:
            best_at, best_w = (reach + y0) / 2, y0 - reach
        reach = max(reach, y1)
    if best_at is None:
        return None
    top = [i for (c, i) in cores if c[1] <= best_at]
    bottom = [i for (c, i) in cores if c[1] > best_at]
    return (top, bottom) if top and bottom else None
