"""Map offsets in a chunk's normalised text back to spans of raw page text.

A chunk's source is a region of the *document stream*: the raw page texts joined with a
single ``"\\n"``. Its ``text`` is ``normalize(region)``, so any offset in it maps back to
a raw offset, then to (page, offset in that page). A span that crosses a page break is
split into one :class:`Span` per page.
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

from app.text.normalize import normalize, normalize_with_map, raw_span
from app.types import Chunk, Span

PAGE_SEP = "\n"

PageTexts = Mapping[int, str] | Sequence[str]


def region(pages: PageTexts, page_start: int, char_start: int, page_end: int, char_end: int) -> tuple[str, list[tuple[int, int]]]:
    """Raw text of a region and the (page, stream offset where that page's part begins) list."""
    parts: list[str] = []
    bounds: list[tuple[int, int]] = []
    pos = 0
    for p in range(page_start, page_end + 1):
        text = pages[p]
        a = char_start if p == page_start else 0
        b = char_end if p == page_end else len(text)
        if parts:
            parts.append(PAGE_SEP)
            pos += len(PAGE_SEP)
        bounds.append((p, pos - a))  # stream offset of the page's character 0
        parts.append(text[a:b])
        pos += b - a
    return "".join(parts), bounds


def chunk_text_from_pages(pages: PageTexts, page_start: int, char_start: int, page_end: int, char_end: int) -> str:
    raw, _ = region(pages, page_start, char_start, page_end, char_end)
    return normalize(raw)


def chunk_offsets_to_spans(pages: PageTexts, chunk: Chunk, start: int, end: int) -> list[Span]:
    """Spans of raw page text covering ``chunk.text[start:end]``."""
    raw, bounds = region(pages, chunk.page_start, chunk.char_start, chunk.page_end, chunk.char_end)
    _, offsets = normalize_with_map(raw)
    start = max(0, min(start, len(offsets) - 1))
    end = max(start, min(end, len(offsets) - 1))
    ra, rb = raw_span(offsets, start, end)
    spans: list[Span] = []
    for idx, (page, base) in enumerate(bounds):
        page_len = len(pages[page])
        # the part of this page inside the region, in stream coordinates
        part_a = max(base, base + (chunk.char_start if page == chunk.page_start else 0))
        part_b = base + (chunk.char_end if page == chunk.page_end else page_len)
        a, b = max(ra, part_a), min(rb, part_b)
        if a < b:
            spans.append(Span(page=page, start=a - base, end=b - base))
    return spans


def _fuzzy_pattern(needle: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in needle.split()]
    return re.compile(r"\s*".join(words), re.IGNORECASE) if words else re.compile(r"(?!)")


def locate_in_chunk(chunk_text: str, needle: str) -> tuple[int, int] | None:
    """Find ``needle`` (any whitespace) in normalised chunk text; (start, end) or None."""
    needle = normalize(needle)
    if not needle:
        return None
    i = chunk_text.find(needle)
    if i >= 0:
        return i, i + len(needle)
    m = _fuzzy_pattern(needle).search(chunk_text)
    return (m.start(), m.end()) if m else None


def locate_in_page(page_text: str, needle: str) -> tuple[int, int] | None:
    """Find ``needle`` in one raw page text, tolerant of line breaks and hyphenation."""
    norm, offsets = normalize_with_map(page_text)
    found = locate_in_chunk(norm, needle)
    if found is None:
        return None
    return raw_span(offsets, *found)
