"""Choose the sentence(s) to highlight for a detected category, and map them to page spans.

The doc-level decision uses whole chunks; a reviewer wants the one sentence that says it.
Sentences in the best chunks are ranked by the category's cue matches first, then (when an
embedder is available) by the model's embedding direction for that category — i.e. the
same classifier applied to the sentence instead of the chunk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from app.risks.cues import cue_count, sentences
from app.text.spans import chunk_offsets_to_spans
from app.types import Chunk, Span

MAX_EMBED_SENTENCES = 160


@dataclass
class Pick:
    chunk: Chunk
    start: int
    end: int
    cue_hits: int
    emb: float = 0.0

    @property
    def text(self) -> str:
        return self.chunk.text[self.start : self.end]


def candidates(chunk: Chunk, cues: Sequence[str], exclude: Sequence[str] = ()) -> list[Pick]:
    """Every sentence of the chunk with its number of cue matches (0 when an ``exclude``
    pattern matches the same sentence: boilerplate, negation, hypotheticals)."""
    out = []
    for a, b in sentences(chunk.text):
        text = chunk.text[a:b]
        n = cue_count(text, cues)
        out.append(Pick(chunk, a, b, 0 if n and exclude and cue_count(text, exclude) else n))
    return out


def score_with_embeddings(groups: Sequence[tuple[list[Pick], np.ndarray | None]], embed: Callable[[list[str]], Any] | None) -> None:
    """Fill ``Pick.emb`` for every group that has a direction vector, in one embedding batch."""
    if embed is None:
        return
    todo = [(p, d) for picks, d in groups if d is not None for p in picks][:MAX_EMBED_SENTENCES]
    if not todo:
        return
    vecs = np.asarray(embed([p.text for p, _ in todo]), dtype=np.float32)
    for (p, d), v in zip(todo, vecs):
        p.emb = float(v @ d)


def best(picks: list[Pick]) -> Pick | None:
    return max(picks, key=lambda p: (min(p.cue_hits, 2), p.emb), default=None)


def to_spans(pages: Mapping[int, str], pick: Pick) -> list[Span]:
    return chunk_offsets_to_spans(pages, pick.chunk, pick.start, pick.end)
