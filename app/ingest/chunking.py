"""Split a document's page text into retrievable chunks.

Why this shape: answers cite page spans, so every chunk is an exact region of the raw
document stream (page texts joined with ``"\\n"``, :mod:`app.text.spans`) and
``chunk.text == normalize(region)``. Chunks are built from *lines* (PDFium's line breaks are
the only structure we reliably have): a boundary is a line end — preferably one that ends
a sentence, or where a table starts or ends — near ``target_chars``, never past
``max_chars``. Lines longer than a chunk are split at sentence ends, then spaces.
Every major heading starts a new chunk; tiny tails are merged back. Table rows are never
split; a table chunk that does not contain its header line gets it in ``Chunk.context``
(prepended for embedding and lexical indexing, not part of ``text``).

Pages without a text layer are skipped and never bridged by a chunk. Work is linear in
the text size (one pass over lines, one bounded scan per chunk).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Sequence

from app.ingest.pdf_text import OutlineEntry
from app.ingest.sections import MINOR, SectionPath, find_headings
from app.settings import ChunkSettings
from app.text.normalize import normalize
from app.text.spans import PAGE_SEP
from app.types import Chunk, PageText

_STRIP = " \t\r\n\x00\x0b\x0c\xa0\ufffe\uffff\x02\xad\u2028\u2029"
_LINE = re.compile(r"[^\r\n]+")
_NUM = re.compile(r"^\(?[-$€£]?\d[\d,]*(?:\.\d+)?\)?%?$")
_FILLER = frozenset({"$", "—", "–", "-", "%", "€", "£", ")", "(", "—%"})
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_SENT_END = ('.', '!', '?', ':', ';', '"', '”', ')')


@dataclass
class _Unit:
    start: int  # stream offsets, trimmed to non-whitespace
    end: int
    size: int  # approximate normalised length
    table: bool = False
    header: bool = False
    heading: tuple[int, str] | None = None  # (level, section path it opens)


def _row_kind(text: str) -> tuple[bool, bool]:
    """(is_table_row, is_table_header) from the numbers at the end of the line."""
    tokens = text.split()
    nums = years = 0
    for tok in reversed(tokens):
        if _NUM.match(tok):
            nums += 1
            years += bool(_YEAR.match(tok))
        elif tok not in _FILLER:
            break
    if years >= 2 and years >= nums - 1:
        return False, True
    return nums >= 2 and len(tokens) <= 40, False


def _split_long(stream: str, a: int, b: int, limit: int) -> list[tuple[int, int]]:
    """Pieces of an over-long line: at sentence ends, then at spaces, each <= limit."""
    cuts = [m.end() for m in re.finditer(r"[.!?;:][\"”)]?(?=\s)", stream[a:b])]
    pieces, start, last = [], a, a
    for c in [a + c for c in cuts] + [b]:
        if c - start > limit and last > start:
            pieces.append((start, last))
            start = last
        last = c
    pieces.append((start, b))
    out = []
    for s, e in pieces:
        while e - s > limit:  # no sentence end: fall back to the last space before limit
            cut = stream.rfind(" ", s + limit // 2, s + limit)
            cut = cut if cut > s else s + limit
            out.append((s, cut))
            s = cut
        out.append((s, e))
    return out


def _units(stream: str, limit: int) -> list[_Unit]:
    units: list[_Unit] = []
    for m in _LINE.finditer(stream):
        line = m.group(0)
        core = line.strip(_STRIP)
        if not core:
            continue
        a = m.start() + (len(line) - len(line.lstrip(_STRIP)))
        b = a + len(core)
        table, header = _row_kind(core)
        spans = [(a, b)] if b - a <= limit or table else _split_long(stream, a, b, limit)
        for s, e in spans:
            piece = stream[s:e]
            trimmed = piece.strip(_STRIP)
            if trimmed:
                s += len(piece) - len(piece.lstrip(_STRIP))
                units.append(_Unit(s, s + len(trimmed), len(trimmed), table, header))
    return units


def _mark_headings(units: list[_Unit], pages: list[PageText], bases: list[int], outline: Sequence[object],
                   first_page: int) -> None:
    """Attach the section path each heading opens to the unit it starts in."""
    starts = [u.start for u in units]
    tracker = SectionPath()
    local = [OutlineEntry(o.level, o.title, o.page - first_page) for o in outline  # type: ignore[attr-defined]
             if 0 <= o.page - first_page < len(pages)]  # type: ignore[attr-defined]
    for h in find_headings(pages, local):
        pos = bases[h.page] + h.offset
        i = bisect_right(starts, pos) - 1
        if 0 <= i < len(units) and units[i].heading is None:
            units[i].heading = (h.level, tracker.enter(h))


class _Builder:
    """Turns the unit list of one run of text pages into chunks."""

    def __init__(self, doc_id: str, stream: str, bases: list[int], first_page: int, settings: ChunkSettings,
                 out: list[Chunk]) -> None:
        self.doc_id, self.stream, self.bases, self.first = doc_id, stream, bases, first_page
        self.s, self.out = settings, out
        self.section = ""
        self.table_header = ""
        self.run_first_chunk = len(out)  # merges never reach into a previous run

    def _pos(self, offset: int) -> tuple[int, int]:
        i = bisect_right(self.bases, offset) - 1
        return self.first + i, offset - self.bases[i]

    def emit(self, units: list[_Unit], section: str) -> None:
        a, b = units[0].start, units[-1].end
        text = normalize(self.stream[a:b])
        if not text:
            return
        rows = sum(u.table for u in units)
        kind = "table" if rows * 2 >= len(units) and rows else "text"
        context = section
        if units[0].table and not any(u.header for u in units) and self.table_header:
            context = f"{section}\n{self.table_header}" if section else self.table_header
        for u in units:
            if u.header:
                self.table_header = normalize(self.stream[u.start:u.end])
            elif not u.table:
                self.table_header = self.table_header if u.size < 40 else ""
        (p0, c0), (p1, c1) = self._pos(a), self._pos(b)
        prev = self.out[-1] if self.out else None
        if (prev is not None and len(text) < self.s.min_chars and prev.section == section
                and prev.page_end >= p0 - 1 and len(prev.text) + len(text) < self.s.max_chars + self.s.min_chars
                and len(self.out) > self.run_first_chunk):
            self.out[-1] = self._merge(prev, p1, c1)
            return
        self.out.append(Chunk(self.doc_id, len(self.out), text, section, p0, p1, c0, c1, kind, context))

    def _merge(self, prev: Chunk, p1: int, c1: int) -> Chunk:
        a = self.bases[prev.page_start - self.first] + prev.char_start
        b = self.bases[p1 - self.first] + c1
        return Chunk(prev.doc_id, prev.ordinal, normalize(self.stream[a:b]), prev.section, prev.page_start,
                     p1, prev.char_start, c1, prev.kind, prev.context)

    def segment(self, units: list[_Unit], section: str) -> None:
        """Chunk the units between two major headings."""
        t, mx, mn = self.s.target_chars, self.s.max_chars, self.s.min_chars
        n, i = len(units), 0
        suffix = [0] * (n + 1)
        for k in range(n - 1, -1, -1):
            suffix[k] = suffix[k + 1] + units[k].size + 1
        while i < n:
            if suffix[i] <= mx:
                self.emit(units[i:], section)
                return
            j = self._best_end(units, i, suffix, t, mx, mn)
            self.emit(units[i:j + 1], section)
            i = j + 1

    def _best_end(self, units: list[_Unit], i: int, suffix: list[int], t: int, mx: int, mn: int) -> int:
        best, best_score, total = i, float("-inf"), 0
        for j in range(i, len(units)):
            total += units[j].size + 1
            if total > mx and j > i:
                break
            if total < 0.5 * t and j + 1 < len(units):
                continue
            tail = suffix[j + 1]
            score = -abs(total - t) / t
            text_end = self.stream[units[j].end - 1]
            score += 0.4 if text_end in _SENT_END else 0.0
            score -= 1.0 if text_end in "-\ufffe\xad\x02" else 0.0
            nxt = units[j + 1] if j + 1 < len(units) else None
            if nxt is not None:
                score += 0.3 if nxt.table != units[j].table or nxt.header else 0.0
                score -= 0.3 if nxt.table and units[j].table else 0.0
                score += 0.2 if nxt.heading is not None else 0.0
            score -= 1.0 if 0 < tail < mn else 0.0
            if score > best_score:
                best, best_score = j, score
        return best


def chunk_pages(doc_id: str, pages: list[PageText], outline: Sequence[object], settings: ChunkSettings) -> list[Chunk]:
    """Chunks of the document in reading order (see the module docstring)."""
    out: list[Chunk] = []
    for run in _text_runs(pages):
        stream = PAGE_SEP.join(p.text for p in run)
        bases, pos = [], 0
        for p in run:
            bases.append(pos)
            pos += len(p.text) + len(PAGE_SEP)
        units = _units(stream, max(settings.target_chars, settings.max_chars // 2))
        if not units:
            continue
        _mark_headings(units, run, bases, outline, run[0].page)
        builder = _Builder(doc_id, stream, bases, run[0].page, settings, out)
        _chunk_run(builder, units, settings)
    return out


def _chunk_run(builder: _Builder, units: list[_Unit], settings: ChunkSettings) -> None:
    """Cut the run at headings (major always; minor once the chunk is big enough)."""
    section, seg_start, size, seg_level = builder.section, 0, 0, -1
    for k, u in enumerate(units):
        if u.heading is not None and k > seg_start:
            level, path = u.heading
            child_of_tiny = level > seg_level >= 0 and size < settings.min_chars
            if child_of_tiny:  # "PART I" directly followed by "Item 1.": one chunk, deeper path
                section, seg_level = path, level
            elif level < MINOR or size >= settings.min_chars:
                builder.segment(units[seg_start:k], section)
                seg_start, size, section, seg_level = k, 0, path, level
        elif u.heading is not None:
            section, seg_level = u.heading[1], u.heading[0]
        size += u.size + 1
    builder.segment(units[seg_start:], section)
    builder.section = section


def _text_runs(pages: list[PageText]) -> list[list[PageText]]:
    """Consecutive pages that have text (re-indexed relative to the run for headings)."""
    runs: list[list[PageText]] = []
    current: list[PageText] = []
    for p in pages:
        if p.has_text:
            if current and current[-1].page != p.page - 1:
                runs.append(current)
                current = []
            current.append(p)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs
