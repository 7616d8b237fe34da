"""Cue patterns: the lexical half of detection (and, alone, the keyword baseline).

Patterns are case-insensitive regular expressions from the taxonomy. Counting them per chunk
gives features for the learned model; matching them per sentence picks the sentence to
highlight.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Sequence

import numpy as np

_SENTENCE = re.compile(r"[^.;!?]*(?:[.;!?]+(?=\s|$)|$)")


@lru_cache(maxsize=4096)
def compile_cue(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def cue_count(text: str, cues: Sequence[str]) -> int:
    return sum(1 for cue in cues for _ in compile_cue(cue).finditer(text))


def cue_matrix(texts: Sequence[str], cue_groups: Sequence[Sequence[str]]) -> np.ndarray:
    """log(1 + number of matches) of each cue group in each text: shape (len(texts), groups)."""
    out = np.zeros((len(texts), len(cue_groups)), dtype=np.float32)
    for i, text in enumerate(texts):
        for j, cues in enumerate(cue_groups):
            n = cue_count(text, cues)
            if n:
                out[i, j] = math.log1p(n)
    return out


def sentences(text: str, max_len: int = 600) -> list[tuple[int, int]]:
    """(start, end) of sentence-like pieces of normalised text; long ones are cut at ~max_len."""
    out: list[tuple[int, int]] = []
    for m in _SENTENCE.finditer(text):
        a, b = m.start(), m.end()
        while a < b and text[a].isspace():
            a += 1
        while b - a > max_len:
            cut = text.rfind(" ", a + max_len // 2, a + max_len)
            cut = cut if cut > a else a + max_len
            out.append((a, cut))
            a = cut + 1
        if b - a >= 3:
            out.append((a, b))
    return out
