"""Cue patterns: the lexical half of detection (and, alone, the keyword baseline).

Patterns are case-insensitive regular expressions from the taxonomy. Counting them per
sentence gives features for the learned model; matching them per sentence picks the
sentence to highlight.

Speed: Python's ``re`` finds a pattern's literal prefix with a fast scan, but not when the
pattern is case-insensitive or starts with ``\\b`` — which is how cue patterns are written
— and is then ~50x slower. So a pattern without upper-case letters runs case-sensitively on
lower-cased text, with a leading ``\\b`` checked by hand; matches are the same.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterator, Sequence

from app.text.sentences import sentence_spans

_ESCAPE = re.compile(r"\\.")


@lru_cache(maxsize=4096)
def compile_cue(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


@lru_cache(maxsize=4096)
def _fast(pattern: str) -> tuple[re.Pattern[str], bool] | None:
    """(pattern for lower-cased text without its leading \\b, whether \\b must be checked),
    or None when the pattern needs the case-insensitive engine (upper-case letters in it)."""
    if any(ch.isupper() for ch in _ESCAPE.sub("", pattern)):
        return None
    lead = pattern.startswith(r"\b") and not pattern.startswith(r"\b|")
    try:
        return re.compile(pattern[2:] if lead else pattern), lead
    except re.error:
        return None


def _word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def lower(text: str) -> str:
    """Lower-cased text when that keeps every offset (almost always), else the text itself."""
    low = text.lower()
    return low if len(low) == len(text) else text


def find(pattern: str, text: str, low: str | None = None) -> Iterator[tuple[int, int]]:
    """(start, end) of the non-overlapping case-insensitive matches of ``pattern`` in ``text``
    (``low``: ``lower(text)`` when the caller has it)."""
    low = lower(text) if low is None else low
    fast = _fast(pattern) if low is not text else None
    if fast is None:
        yield from (m.span() for m in compile_cue(pattern).finditer(text))
        return
    rx, check = fast
    pos = 0
    while True:
        m = rx.search(low, pos)
        if m is None:
            return
        a = m.start()
        if check and (a > 0 and _word(low[a - 1])) == (a < len(low) and _word(low[a])):
            pos = a + 1  # no word boundary here: look further
            continue
        yield a, m.end()
        pos = m.end() if m.end() > a else a + 1


def cue_count(text: str, cues: Sequence[str]) -> int:
    low = lower(text)
    return sum(1 for cue in cues for _ in find(cue, text, low))


def sentences(text: str, max_len: int = 500) -> list[tuple[int, int]]:
    """(start, end) of the sentences of normalised text, covering all of it (app.text.sentences:
    no split inside "10.26", "U.S." or "Inc."); long ones are cut at ~max_len on word boundaries."""
    return [(a, b) for a, b in sentence_spans(text, max_chars=max_len) if b - a >= 3]
