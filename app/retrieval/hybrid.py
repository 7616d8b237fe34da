"""Hybrid retrieval: BM25 (FTS5) + dense (Chroma), fused by reciprocal rank.

Why both: dense vectors catch paraphrase ("capex" ~ "purchases of property and equipment"),
BM25 catches the exact figures, years, defined terms and clause numbers that financial and
legal questions hinge on and that a 384-d sentence vector blurs. Candidates are restricted to
documents the catalog lists as indexed, so vectors of an interrupted ingest (orphans) never
surface. Adjacent chunks of one document that both hit become one hit spanning both, so the
answer step sees a table or clause that straddles a chunk border as one passage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Mapping

from app.embed.base import Embedder
from app.ingest.titles import subject
from app.retrieval.expand import expansion_terms
from app.retrieval.fusion import Group, merge_neighbours, rrf
from app.store.catalog import Catalog
from app.store.fts import title_terms
from app.store.vectors import VectorIndex
from app.types import Chunk, SearchHit

Mode = Literal["hybrid", "dense", "lexical"]
DEFAULT_WEIGHTS = {"lexical": 1.0, "dense": 1.0}


class HybridRetriever:
    def __init__(self, catalog: Catalog, vectors: VectorIndex | None, embedder: Embedder | None,
                 workspace: str = "default", candidates: int = 50, rrf_k: int = 60,
                 weights: Mapping[str, float] | None = None, merge: bool = True,
                 drop_title_terms: bool = True, expand: bool = True) -> None:
        self.catalog = catalog
        self.vectors = vectors
        self.embedder = embedder
        self.workspace = workspace
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.weights = dict(weights or DEFAULT_WEIGHTS)
        self.merge = merge
        self.drop_title_terms = drop_title_terms
        #: OR analyst vocabulary into the lexical query (see :mod:`app.retrieval.expand`)
        self.expand = expand

    # -- candidate lists -------------------------------------------------------------
    def _lexical(self, query: str, doc_ids: list[str] | None, n: int) -> list[str]:
        drop: set[str] = set()
        if self.drop_title_terms and doc_ids is not None and len(doc_ids) <= 3:
            for doc_id in doc_ids:  # "Does Boeing ..." scoped to Boeing's 10-K: "boeing" is noise
                rec = self.catalog.get(self.workspace, doc_id)
                if rec is not None:
                    drop |= title_terms(subject(rec.title), Path(rec.path).stem)
        if self.expand:
            query = f"{query} {expansion_terms(query)}"
        return [cid for cid, _ in self.catalog.lexical_search(self.workspace, query, doc_ids, n, drop)]

    def _dense(self, query: str, doc_ids: list[str] | None, n: int, indexed: set[str]) -> list[str]:
        if self.vectors is None or self.embedder is None or not query.strip():
            return []
        vec = self.embedder.embed_query(query)
        hits = self.vectors.query(vec, n, doc_ids)
        # Unscoped queries may meet orphan vectors (crash before the catalog commit): skip them.
        return [cid for cid, _ in hits if cid.rpartition(":")[0] in indexed]

    # -- search ----------------------------------------------------------------------
    def search(self, query: str, doc_ids: list[str] | None = None, k: int = 8, section: str | None = None,
               mode: Mode = "hybrid") -> list[SearchHit]:
        """Best ``k`` passages for ``query`` within ``doc_ids`` (None = all indexed documents)."""
        if mode not in ("hybrid", "dense", "lexical"):
            raise ValueError(f"mode must be hybrid, dense or lexical, not {mode!r}")
        indexed = self.catalog.indexed_doc_ids(self.workspace)
        scope = None if doc_ids is None else [d for d in dict.fromkeys(doc_ids) if d in indexed]
        if (scope is not None and not scope) or not query.strip() or k <= 0:
            return []
        n = max(self.candidates, 2 * k) * (4 if section else 1)
        rankings: dict[str, list[str]] = {}
        if mode in ("hybrid", "lexical"):
            rankings["lexical"] = self._lexical(query, scope, n)
        if mode in ("hybrid", "dense"):
            rankings["dense"] = self._dense(query, scope, n, indexed)
        scores, ranks = rrf(rankings, self.weights, self.rrf_k)
        chunks = self.catalog.chunks_by_ids(self.workspace, scores)
        if section:
            needle = section.strip().lower()
            chunks = {cid: c for cid, c in chunks.items() if needle in c.section.lower()}
        ordered = sorted(chunks, key=lambda cid: _rank_key(cid, scores, ranks))
        groups = merge_neighbours(ordered, scores, ranks, k, merge=self.merge)
        return self._hits(groups, chunks)

    def _hits(self, groups: list[Group], chunks: Mapping[str, Chunk]) -> list[SearchHit]:
        titles: dict[str, str] = {}
        hits: list[SearchHit] = []
        for g in groups:
            if g.doc_id not in titles:
                rec = self.catalog.get(self.workspace, g.doc_id)
                titles[g.doc_id] = rec.title if rec else g.doc_id
            parts = sorted((chunks[m] for m in g.members), key=lambda c: c.ordinal)
            first, last, best = parts[0], parts[-1], chunks[g.best_id]
            sections = list(dict.fromkeys(c.section for c in parts if c.section))
            hits.append(SearchHit(chunk_id=g.best_id, doc_id=g.doc_id, doc_title=titles[g.doc_id],
                                  # a merged hit that crosses a heading names every section it covers
                                  section=" / ".join(sections) if len(sections) > 1 else best.section, page_start=first.page_start, page_end=last.page_end,
                                  char_start=first.char_start, char_end=last.char_end, score=round(g.score, 6),
                                  text=" ".join(c.text for c in parts), ranks=dict(g.ranks)))
        return hits


def _rank_key(cid: str, scores: Mapping[str, float], ranks: Mapping[str, Mapping[str, int]]) -> tuple[float, int, float]:
    """Fused score first. Ties (e.g. the lexical #1 against the dense #1) go to the better single
    rank, then to the lexical match: an exact term ("34996", a clause number) is checkable
    where a nearest vector is not. Without this, ties fell to the chunk nearer the document's
    start (the catalog returns chunks in page order)."""
    r = ranks[cid]
    return -scores[cid], min(r.values()), r.get("lexical", float("inf"))
