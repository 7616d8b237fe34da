"""Sentence units and their lexical features: the input of the clause model (app.risks.model).

Why sentences and words: a clause is decided by a few words in one sentence ("shall not
assign", "non-transferable", "right of first refusal"), which a chunk embedding blurs
with everything else in the chunk. A unit is one sentence of a chunk (app.text.sentences),
described by tf-idf weights of its words and word pairs, words of its section heading
(``H_`` + word: "Non-Competition" headings are strong evidence) and counts of every
category's cue patterns. Neighbouring sentences are mixed in by the model (a clause often
spans two sentences, and short fragments need their context), which is linear, so that is
done on scores, not features. Pure numpy + ``re``: review needs no scipy/sklearn.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from app.risks.cues import find, lower, sentences
from app.types import Chunk

TOKEN = re.compile(r"[a-z][a-z\-']*[a-z]|[a-z]|\d+")
HEADING_PREFIX = "H_"
MAX_UNIT_CHARS = 500


@dataclass(frozen=True)
class Unit:
    """One sentence: ``chunks[chunk].text[start:end]``."""

    chunk: int
    start: int
    end: int


@dataclass
class Sparse:
    """Rows of (column, value) pairs in CSR layout (``indptr`` has one entry per row + 1)."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    @property
    def rows(self) -> int:
        return len(self.indptr) - 1

    def dot(self, weights: np.ndarray) -> np.ndarray:
        """(rows x weights.shape[1]) = self @ weights, without scipy."""
        out = np.zeros((self.rows, weights.shape[1]), dtype=np.float32)
        if not len(self.indices):
            return out
        contrib = weights[self.indices] * self.data[:, None]
        nonempty = np.flatnonzero(np.diff(self.indptr) > 0)
        out[nonempty] = np.add.reduceat(contrib, self.indptr[nonempty], axis=0)
        return out


def units_of(chunks: Sequence[Chunk]) -> list[Unit]:
    return [Unit(i, a, b) for i, c in enumerate(chunks) for a, b in sentences(c.text, MAX_UNIT_CHARS)]


def unit_text(chunks: Sequence[Chunk], u: Unit) -> str:
    return chunks[u.chunk].text[u.start : u.end]


def _heading(chunk: Chunk) -> str:
    return (chunk.context or chunk.section or "").split(">")[-1]


def terms(text: str, heading: str = "") -> list[str]:
    """Words and adjacent word pairs of ``text`` (lower-cased), plus heading words."""
    words = TOKEN.findall(text.lower())
    out = words + [f"{a} {b}" for a, b in zip(words, words[1:])]
    out += [HEADING_PREFIX + w for w in TOKEN.findall(heading.lower()) if not w[0].isdigit()]
    return out


def unit_terms(chunks: Sequence[Chunk], units: Sequence[Unit]) -> list[list[str]]:
    return [terms(unit_text(chunks, u), _heading(chunks[u.chunk])) for u in units]


def tfidf(term_lists: Sequence[Sequence[str]], vocab: Mapping[str, int], idf: np.ndarray) -> Sparse:
    """Sublinear tf x idf, each row scaled to unit length; unknown terms are dropped."""
    indptr, indices, data = [0], [], []
    for ts in term_lists:
        counts = Counter(vocab[t] for t in ts if t in vocab)
        if counts:
            cols = np.fromiter(counts.keys(), np.int64, len(counts))
            vals = (1.0 + np.log(np.fromiter(counts.values(), np.float32, len(counts)))) * idf[cols]
            order = np.argsort(cols)
            indices.append(cols[order])
            data.append((vals / np.linalg.norm(vals))[order].astype(np.float32))
        indptr.append(indptr[-1] + len(counts))
    cat = (lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt))
    return Sparse(np.asarray(indptr, np.int64), cat(indices, np.int64), cat(data, np.float32))


def cue_features(chunks: Sequence[Chunk], units: Sequence[Unit], cue_groups: Sequence[Sequence[str]]) -> np.ndarray:
    """(units x groups): log(1 + matches of the group's patterns starting inside the unit).

    Patterns run once per chunk (not per sentence: 10x fewer regex calls) and each match
    counts for the unit where it starts."""
    counts = np.zeros((len(units), len(cue_groups)), dtype=np.float32)
    by_chunk: dict[int, list[int]] = {}
    for i, u in enumerate(units):
        by_chunk.setdefault(u.chunk, []).append(i)
    for ci, rows in by_chunk.items():
        text = chunks[ci].text
        low = lower(text)
        starts = [units[i].start for i in rows]
        for j, group in enumerate(cue_groups):
            for p in group:
                for a, _ in find(p, text, low):
                    k = bisect_right(starts, a) - 1
                    if k >= 0 and a < units[rows[k]].end:
                        counts[rows[k], j] += 1
    return np.log1p(counts)


def with_neighbours(scores: np.ndarray, weight: float, bounds: Sequence[int] = ()) -> np.ndarray:
    """scores + weight x (previous + next unit's scores); ``bounds``: row indices where a new
    document starts (no mixing across documents)."""
    if not weight or len(scores) < 2:
        return scores.copy()
    prev = np.vstack([np.zeros_like(scores[:1]), scores[:-1]])
    nxt = np.vstack([scores[1:], np.zeros_like(scores[:1])])
    for b in bounds:
        if 0 < b < len(scores):
            prev[b] = 0.0
            nxt[b - 1] = 0.0
    return scores + weight * (prev + nxt)
