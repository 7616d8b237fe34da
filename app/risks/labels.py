"""Gold clause labels for sentences of a PDF's text, for training and benchmarking.

Gold clauses (CUAD) are offsets into CUAD's own text, not into PDF text, so they are located
on a letters-and-digits-only, lower-cased stream of the document, which both texts share
despite different line breaks, hyphenation and spacing. A sentence is labelled with a
category when it overlaps one of the category's gold clauses by enough characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from app.risks.lexical import Unit
from app.types import Chunk, PageText


@dataclass
class AlnumStream:
    text: str
    page_base: list[int]  # stream offset of each page's first character
    prefix: list[list[int]]  # per page: number of alnum chars before raw offset i

    def pos(self, page: int, offset: int) -> int:
        pre = self.prefix[page]
        return self.page_base[page] + pre[min(max(offset, 0), len(pre) - 1)]


def _alnum(s: str) -> str:
    return "".join(ch.lower()[0] for ch in s if ch.isalnum())


def alnum_stream(pages: Sequence[PageText]) -> AlnumStream:
    parts, bases, prefixes, pos = [], [], [], 0
    for p in pages:
        pre, k, buf = [0], 0, []
        for ch in p.text:
            if ch.isalnum():
                buf.append(ch.lower()[0])
                k += 1
            pre.append(k)
        bases.append(pos)
        prefixes.append(pre)
        parts.append("".join(buf))
        pos += k
    return AlnumStream("".join(parts), bases, prefixes)


def locate(stream: AlnumStream, text: str) -> tuple[int, int] | None:
    """Interval of ``text`` in the stream (exact, else anchored by its first/last 40 chars)."""
    g = _alnum(text)
    if not g:
        return None
    i = stream.text.find(g)
    if i >= 0:
        return i, i + len(g)
    if len(g) < 60:
        return None
    a, b = stream.text.find(g[:40]), stream.text.find(g[-40:])
    if a >= 0 and b >= a and b + 40 - a < 3 * len(g):
        return a, b + 40
    if a >= 0:
        return a, a + len(g)
    return (b + 40 - len(g), b + 40) if b >= 0 else None


def chunk_interval(stream: AlnumStream, c: Chunk) -> tuple[int, int]:
    return stream.pos(c.page_start, c.char_start), stream.pos(c.page_end, c.char_end)


def overlaps(a: tuple[int, int], b: tuple[int, int], min_chars: int) -> bool:
    return min(a[1], b[1]) - max(a[0], b[0]) >= min_chars


def unit_intervals(stream: AlnumStream, chunks: Sequence[Chunk], units: Sequence[Unit]) -> list[tuple[int, int]]:
    """Stream interval of every sentence (chunk start + letters/digits before the offsets)."""
    out, prefix = [], {}
    for u in units:
        if u.chunk not in prefix:
            text = chunks[u.chunk].text
            prefix[u.chunk] = (chunk_interval(stream, chunks[u.chunk])[0], np.cumsum([0] + [ch.isalnum() for ch in text]))
        base, pre = prefix[u.chunk]
        out.append((base + int(pre[u.start]), base + int(pre[u.end])))
    return out


def label_units(stream: AlnumStream, chunks: Sequence[Chunk], units: Sequence[Unit],
                gold: Mapping[str, Sequence[str]], cat_names: Sequence[str]) -> np.ndarray:
    """(units x categories) 0/1: the sentence overlaps a gold clause of that category by at
    least half of the shorter of the two (at most 40 letters/digits)."""
    y = np.zeros((len(units), len(cat_names)), dtype=np.float32)
    ivs = unit_intervals(stream, chunks, units)
    for j, name in enumerate(cat_names):
        for clause in gold.get(name, []):
            g = locate(stream, clause)
            if g is None:
                continue
            need = max(1, min(40, (g[1] - g[0]) // 2))
            for i, iv in enumerate(ivs):
                if overlaps(iv, g, min(need, max(1, (iv[1] - iv[0]) // 2))):
                    y[i, j] = 1.0
    return y
