"""Rank fusion and neighbour merging, kept pure (no store access) so they are easy to test.

Reciprocal rank fusion (Cormack et al., 2009) needs no score calibration between BM25 and
cosine distance, which live on unrelated scales: each retriever contributes
``weight / (k + rank)`` for every id it returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence


def rrf(rankings: Mapping[str, Sequence[str]], weights: Mapping[str, float] | None = None,
        k: int = 60) -> tuple[dict[str, float], dict[str, dict[str, int]]]:
    """Fused scores per id and each id's 1-based rank per retriever."""
    scores: dict[str, float] = {}
    ranks: dict[str, dict[str, int]] = {}
    for name, ids in rankings.items():
        w = 1.0 if weights is None else float(weights.get(name, 1.0))
        for rank, cid in enumerate(ids, start=1):
            if name in ranks.get(cid, {}):
                continue  # a retriever listing an id twice counts it once
            scores[cid] = scores.get(cid, 0.0) + w / (k + rank)
            ranks.setdefault(cid, {})[name] = rank
    return scores, ranks


@dataclass
class Group:
    """Adjacent chunks of one document that all hit: reported as one hit."""

    doc_id: str
    lo: int
    hi: int
    best_id: str
    score: float
    members: list[str] = field(default_factory=list)
    ranks: dict[str, int] = field(default_factory=dict)

    def absorb(self, other: "Group") -> None:
        self.lo, self.hi = min(self.lo, other.lo), max(self.hi, other.hi)
        if other.score > self.score:
            self.score, self.best_id = other.score, other.best_id
        self.members.extend(other.members)
        for name, r in other.ranks.items():
            self.ranks[name] = min(r, self.ranks.get(name, r))


def split_id(chunk_id: str) -> tuple[str, int]:
    doc_id, _, ordinal = chunk_id.rpartition(":")
    return doc_id, int(ordinal)


#: At most this many chunks make one merged hit. Without a cap, a short document whose every
#: chunk is a candidate collapses into one hit holding the whole text (one "passage" for a
#: 4-page contract); three chunks still keep a table or clause that straddles a border whole.
MAX_GROUP = 4


def merge_neighbours(ordered: Sequence[str], scores: Mapping[str, float],
                     ranks: Mapping[str, Mapping[str, int]], k: int, merge: bool = True,
                     max_group: int = MAX_GROUP) -> list[Group]:
    """Walk ids best-first into at most ``k`` groups; an id adjacent (ordinal ±1, same doc) to a
    group joins it, and groups that come to touch are united, up to ``max_group`` chunks per
    group (a neighbour of a full group starts its own). Stops once ``k`` groups exist."""
    groups: list[Group] = []
    for cid in ordered:
        doc_id, ordinal = split_id(cid)
        g = Group(doc_id, ordinal, ordinal, cid, scores[cid], [cid], dict(ranks.get(cid, {})))
        touching = [x for x in groups if merge and x.doc_id == doc_id and x.lo - 1 <= ordinal <= x.hi + 1]
        size = 1
        for x in list(touching):  # join only while the united group stays within the cap
            if size + len(x.members) > max_group:
                touching.remove(x)
            else:
                size += len(x.members)
        if touching:
            head = touching[0]
            head.absorb(g)
            for other in touching[1:]:
                head.absorb(other)
                groups.remove(other)
            continue
        if len(groups) >= k:
            break
        groups.append(g)
    groups.sort(key=lambda x: -x.score)
    return groups
