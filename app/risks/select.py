"""Choose the sentence(s) to highlight for a detected category, and map them to page spans.

The doc-level decision uses whole chunks; a reviewer wants the one sentence that says it.
Sentences in the best chunks are ranked by the category's cue matches first, then (when an
embedder is available) by the model's embedding direction for that category — i.e. the
same classifier applied to the sentence instead of the chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from app.risks.cues import cue_count, sentences
from app.text.sentences import sentence_spans
from app.text.spans import chunk_offsets_to_spans
from app.types import Chunk, Span

MAX_EMBED_SENTENCES = 160
#: How far a highlight may be extended back to reach the start of its sentence (characters).
MAX_LEAD_CHARS = 600


@dataclass
class Pick:
    chunk: Chunk
    start: int
    end: int
    cue_hits: int
    emb: float = 0.0
    lead: list[Pick] = field(default_factory=list)  # the sentence's start, in the chunk before

    @property
    def text(self) -> str:
        return self.chunk.text[self.start : self.end]

    @property
    def quote(self) -> str:
        """The text from the start of the sentence (the lead, when there is one)."""
        return " ".join([p.text for p in self.lead] + [self.text])


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


def from_sentence_start(pick: Pick, chunks: Sequence[Chunk]) -> Pick:
    """``pick`` extended back to the start of its sentence, so that a highlight and its quote
    never begin mid-sentence ("days after the final resolution of ..."). Sentences are scored
    in pieces of at most ~500 characters, and a chunk can begin inside a sentence; then the
    sentence's start is in the chunk before, and becomes the pick's ``lead``. At most
    MAX_LEAD_CHARS are added."""
    text = pick.chunk.text
    start = _sentence_start(text, pick.start)
    if 0 < pick.start - start <= MAX_LEAD_CHARS:
        pick.start = start
    if pick.start > 0 or not text[:1].islower():
        return pick
    i = next((n for n, c in enumerate(chunks) if c is pick.chunk), 0)
    if i == 0:
        return pick
    prev = chunks[i - 1]
    tail = prev.text.rstrip()
    if tail and tail[-1] not in ".!?:;" and prev.page_end <= pick.chunk.page_start:
        a = _sentence_start(tail, len(tail))
        if len(tail) - a > MAX_LEAD_CHARS:  # a very long sentence: its last words, from a word start
            cut = len(tail) - MAX_LEAD_CHARS
            a = tail.find(" ", cut) + 1 or cut
        pick.lead = [Pick(prev, a, len(tail), 0)]
    return pick


def _sentence_start(text: str, pos: int) -> int:
    """Where the sentence holding offset ``pos`` of ``text`` starts (sentences uncut by length)."""
    return max((a for a, _ in sentence_spans(text, max_chars=0) if a <= pos), default=pos)


def to_spans(pages: Mapping[int, str], pick: Pick) -> list[Span]:
    """Page spans of the pick, its lead first."""
    return [s for p in [*pick.lead, pick] for s in chunk_offsets_to_spans(pages, p.chunk, p.start, p.end)]
