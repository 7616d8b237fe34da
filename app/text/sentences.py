"""Sentence boundaries with offsets, for answers, evidence highlighting and summaries.

Why: verification and highlighting work sentence by sentence, and every sentence must map
back to exact character offsets (so a span into PDFium's page text can be computed). The
splitter is rule-based (no model, no download) and tuned for filings and contracts:
it does not split after "Inc.", "U.S.", "No.", "Sec.", initials, or inside numbers such
as "1.6" and "$3.5"; over-long runs (tables flattened to one line) are cut into windows at
word boundaries so a highlight never covers half a page.
"""

from __future__ import annotations

import re
from typing import Sequence

#: Lower-case words that end with "." without ending the sentence.
ABBREVIATIONS = frozenset(
    """
    inc corp co ltd llc plc lp llp no nos mr mrs ms dr prof st jr sr vs etc al approx
    e.g i.e u.s u.k u.n cf fig figs sec secs art arts para paras ex exh vol pp p dept
    jan feb mar apr jun jul aug sep sept oct nov dec est avg max min mln bln
    """.split()
)

_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+|$)")
_NEXT_START = re.compile(r"\s+[\"'“‘(\[]*[A-Z0-9$•\-–]")
_LINE_BREAK = re.compile(r"\s*\n\s*\n\s*|\s*\n(?=\s*(?:[-*•]|\d+[.)])\s)")

DEFAULT_MAX_CHARS = 320

#: What may precede the "." of a clause/list number at the start of a sentence ("8", "8.1", "(b)", "iv").
_LIST_NUMBER = re.compile(r"\s*\(?(?:\d{1,3}(?:\.\d{1,3})*|[ivxlc]{1,5}|[a-z])\)?", re.IGNORECASE)

_HEADING_NUMBER = re.compile(r"\b(?:item|section|sec|article|art|note|part|schedule|exhibit|clause|rule|no|step)\s+"
                             r"[0-9ivx]+(?:\.[0-9]+)*[a-z]?$", re.IGNORECASE)


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the "." at ``dot`` ends an abbreviation, an initial or a heading number
    ("Item 7.", "Section 12.3.")."""
    if _HEADING_NUMBER.search(text, max(0, dot - 24), dot):
        return True
    start = dot
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] == "."):
        start -= 1
    word = text[start:dot].lower()
    if not word:
        return False
    if word in ABBREVIATIONS or word.rstrip(".") in ABBREVIATIONS:
        return True
    # single capital initials ("J. Smith") and dotted acronyms ("U.S.A.")
    return len(word.replace(".", "")) == 1 or bool(re.fullmatch(r"(?:[a-z]\.)+[a-z]", word))


def _raw_sentences(text: str, a: int, b: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    start = a
    for m in _BOUNDARY.finditer(text, a, b):
        end = m.end()
        if m.group().startswith(".") and len(m.group()) == 1 and _is_abbreviation(text, m.start()):
            continue
        if m.group() == "." and _LIST_NUMBER.fullmatch(text, start, m.start()):
            continue  # "8." opening a clause or a list item: not a sentence of its own
        if end < b and not _NEXT_START.match(text, end, b):
            continue  # "see p. 12" / lower-case continuation: not a boundary
        out.append((start, end))
        start = end
    if start < b:
        out.append((start, b))
    return out


def _strip(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def _windows(text: str, a: int, b: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut an over-long stretch at word boundaries into pieces of at most ``max_chars``."""
    out: list[tuple[int, int]] = []
    while b - a > max_chars:
        cut = text.rfind(" ", a + max_chars // 2, a + max_chars)
        if cut <= a:
            cut = a + max_chars
        out.append(_strip(text, a, cut))
        a = cut
    out.append(_strip(text, a, b))
    return [s for s in out if s[1] > s[0]]


def _heading_split(text: str, a: int, b: int, headings: Sequence[str]) -> list[tuple[int, int]]:
    """Split a known heading (the chunk's section titles, found at ingest) off the start of a
    sentence: chunk text is whitespace-normalised, so "9. Governing Law and Disputes 9.1 This
    Agreement is governed …" arrives as one run. Case and spacing must match exactly."""
    for h in headings:
        end = a + len(h)
        if h and end < b and text.startswith(h, a) and text[end].isspace():
            return [(a, end), *_strip_pair(text, end, b)]
    return [(a, b)]


def heading_titles(section: str) -> list[str]:
    """The headings named by a section path ("Article 5 > 5.2 Fees", "8. IP / 9. Law"),
    longest first (so "Item 7A" is tried before "Item 7")."""
    parts = {p.strip() for chunk in section.split(" / ") for p in chunk.split(" > ") if len(p.strip()) >= 3}
    return sorted(parts, key=len, reverse=True)


def _strip_pair(text: str, a: int, b: int) -> list[tuple[int, int]]:
    s, e = _strip(text, a, b)
    return [(s, e)] if e > s else []


def sentence_spans(text: str, max_chars: int = DEFAULT_MAX_CHARS,
                   headings: Sequence[str] = ()) -> list[tuple[int, int]]:
    """``(start, end)`` offsets of the sentences of ``text`` (whitespace trimmed).

    Blank lines and bullet/numbered-list line starts always end a sentence; a sentence
    longer than ``max_chars`` is cut into word-boundary windows. A heading from ``headings``
    glued to the front of a sentence becomes its own span (evidence and summaries quote the
    clause, not "7. Limitation of Liability 7.1 …"; see :func:`heading_titles`).
    """
    blocks: list[tuple[int, int]] = []
    pos = 0
    for m in _LINE_BREAK.finditer(text):
        blocks.append((pos, m.start()))
        pos = m.end()
    blocks.append((pos, len(text)))
    spans: list[tuple[int, int]] = []
    for a, b in blocks:
        for s0, e0 in _raw_sentences(text, a, b):
            s0, e0 = _strip(text, s0, e0)
            for s, e in (_heading_split(text, s0, e0, headings) if headings and e0 > s0 else [(s0, e0)]):
                if e > s:
                    spans.extend(_windows(text, s, e, max_chars) if max_chars and e - s > max_chars else [(s, e)])
    return spans


def split_sentences(text: str, max_chars: int = DEFAULT_MAX_CHARS, headings: Sequence[str] = ()) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text, max_chars, headings)]


def cut_at_sentence(text: str, max_chars: int) -> str:
    """The longest prefix of ``text`` of at most ``max_chars`` that ends at a sentence end.

    Falls back to the first sentence cut at a word boundary only when even that one
    sentence is longer than ``max_chars`` (so the result is never empty for non-empty text).
    """
    if len(text) <= max_chars:
        return text
    end = 0
    for a, b in sentence_spans(text, max_chars=0):
        if b > max_chars:
            break
        end = b
    if end:
        return text[:end]
    cut = text.rfind(" ", 0, max_chars)
    return text[: cut if cut > 0 else max_chars]
