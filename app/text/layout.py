"""Where the characters of an OCR'd page sit on the page, and spans → highlight boxes.

Why: a scanned page has no PDF text layer, so the viewer's usual route from a span to
rectangles (QtPdf's ``getSelectionAtIndex``) finds nothing there. OCR keeps, for every line
it read, the line's quadrilateral on the page and where each character's cell begins and
ends along it; :func:`span_boxes` turns any span of the OCR page text into rectangles from
that. Pure Python, no Qt and no numpy, so the store, the ingest child and the GUI share it.

Coordinates are PDF points of the page *as displayed* (rotation applied), origin top-left,
y downwards — the space of QtPdf's selection rectangles and of :class:`PdfCanvas`'s
highlights. Offsets are into the OCR page text, 0-based and end-exclusive, as for text pages.
Stored as compact JSON in ``PageText.layout`` (the ``pages.layout`` column of the catalog).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 (points, top-left origin)
Quad = tuple[float, float, float, float, float, float, float, float]  # TL, TR, BR, BL corners

LAYOUT_VERSION = 1


@dataclass(frozen=True)
class OcrLine:
    """One line of OCR text: ``page_text[start:end]``, drawn inside ``quad``.

    ``edges`` has ``end - start + 1`` fractions (0..1) along the line's reading direction
    (top-left → top-right corner): character ``start + i`` covers ``edges[i]..edges[i+1]``.
    Empty ``edges`` means "spread the characters evenly over the line"."""

    start: int
    end: int
    quad: Quad
    edges: tuple[float, ...] = ()

    def fractions(self, a: int, b: int) -> tuple[float, float]:
        """Where characters ``a..b`` (page offsets inside this line) begin and end, 0..1."""
        n = self.end - self.start
        i, j = a - self.start, b - self.start
        if len(self.edges) == n + 1:
            return self.edges[i], self.edges[j]
        return i / n, j / n


@dataclass(frozen=True)
class PageLayout:
    lines: tuple[OcrLine, ...]

    def to_json(self) -> str:
        rows = [[ln.start, ln.end, [round(v, 1) for v in ln.quad], [round(e, 4) for e in ln.edges]]
                for ln in self.lines]
        return json.dumps({"v": LAYOUT_VERSION, "lines": rows}, separators=(",", ":"))

    @classmethod
    def from_json(cls, data: str) -> "PageLayout | None":
        """The layout stored in ``data``; None for "" (a text-layer page) or unreadable data."""
        if not data:
            return None
        try:
            raw = json.loads(data)
            if raw.get("v") != LAYOUT_VERSION:
                return None
            lines = tuple(OcrLine(int(s), int(e), tuple(float(v) for v in q), tuple(float(f) for f in edges))  # type: ignore[arg-type]
                          for s, e, q, edges in raw["lines"])
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
        return cls(lines)


def _lerp(p: tuple[float, float], q: tuple[float, float], t: float) -> tuple[float, float]:
    return p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t


def _sub_box(quad: Quad, fa: float, fb: float) -> Box:
    """Bounding box of the part of ``quad`` between fractions ``fa`` and ``fb`` of its length."""
    tl, tr, br, bl = (quad[0], quad[1]), (quad[2], quad[3]), (quad[4], quad[5]), (quad[6], quad[7])
    pts = [_lerp(tl, tr, fa), _lerp(tl, tr, fb), _lerp(bl, br, fa), _lerp(bl, br, fb)]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return min(xs), min(ys), max(xs), max(ys)


def span_boxes(layout: PageLayout, start: int, end: int) -> list[Box]:
    """Rectangles covering ``page_text[start:end]`` of an OCR'd page: for each line the span
    touches, the part of the line's box under the characters it covers (line breaks between
    lines have no box)."""
    out: list[Box] = []
    for line in layout.lines:
        a, b = max(start, line.start), min(end, line.end)
        if a >= b:
            continue
        fa, fb = line.fractions(a, b)
        if fb > fa:
            out.append(_sub_box(line.quad, fa, fb))
    return out


def page_layouts(pages: Iterable[object]) -> dict[int, PageLayout]:
    """``{page: layout}`` of the OCR'd pages among ``PageText``-like objects (``.page``, ``.layout``)."""
    out: dict[int, PageLayout] = {}
    for p in pages:
        layout = PageLayout.from_json(getattr(p, "layout", "") or "")
        if layout is not None:
            out[int(getattr(p, "page"))] = layout
    return out
