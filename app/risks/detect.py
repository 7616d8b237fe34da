"""Review one document against the taxonomy: which clauses/red flags are present, where,
with what value, and which expected clauses are missing.

Contract categories with a trained model (app.risks.model) are decided by the best chunk's
probability vs a cross-validated threshold, using the chunk vectors already stored at
ingestion. Other categories (filing red flags, prompt injection, user playbook additions)
use cue patterns, or similarity to their examples when they have no cues. An LLM is optional:
when given, it only double-checks present findings (app.risks.confirm).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from app.risks import select
from app.risks.cues import cue_count
from app.risks.model import RiskModel
from app.risks.rules import apply_rule, missing_rationale, present_rationale
from app.risks.taxonomy import Category, Taxonomy
from app.risks.types import SEVERITY_ORDER, Finding, RiskReport
from app.risks.values import extract_value
from app.types import CancelToken, Chunk, PageText, Progress, ProgressFn

GROUPS_BY_TYPE = {"contract": ("contract", "any"), "annual_report": ("filing", "any"),
                  "quarterly_report": ("filing", "any"), "other": ("contract", "filing", "any")}
#: In documents of unknown type, filing red flags need this many cue matches (fewer false alarms).
OTHER_FILING_MIN_HITS = 3
EXAMPLE_SIM_THRESHOLD = 0.55
MAX_SPAN_CHUNKS = 3
_MODEL_CACHE: dict[str, RiskModel | None] = {}


@dataclass
class Hit:
    cat: Category
    score: float  # doc score (best chunk probability, or cue count)
    threshold: float
    chunk_scores: np.ndarray  # per chunk
    direction: np.ndarray | None = None  # embedding direction for sentence ranking
    counts: bool = False  # score is a number of cue matches, not a probability

    @property
    def present(self) -> bool:
        return self.score >= self.threshold

    def confidence(self) -> float:
        s, t = self.score, self.threshold
        if self.counts:  # cue matches: more matches, more confidence
            c = min(0.95, 0.55 + 0.1 * (s - t)) if self.present else (0.9 if s == 0 else 0.6)
        elif self.present:
            c = 0.5 + 0.5 * (s - t) / max(1e-6, 1.0 - t)
        else:
            c = 0.5 + 0.5 * (t - s) / max(1e-6, t)
        return round(float(min(0.99, max(0.0, c))), 3)


def default_model() -> RiskModel | None:
    if "default" not in _MODEL_CACHE:
        _MODEL_CACHE["default"] = RiskModel.load()
    return _MODEL_CACHE["default"]


def _vectors(chunks: Sequence[Chunk], chunk_vectors: dict[str, np.ndarray] | None, embedder: Any) -> np.ndarray | None:
    """Chunk vectors in chunk order: the stored ones; embeds only chunks that lack one."""
    if not chunks:
        return None
    have = chunk_vectors or {}
    missing = [c for c in chunks if c.id not in have]
    if missing and embedder is None:
        return None
    extra: dict[str, np.ndarray] = {}
    if missing:
        texts = [f"{c.context}\n{c.text}" if c.context else c.text for c in missing]
        extra = dict(zip([c.id for c in missing], np.asarray(embedder.embed(texts), dtype=np.float32)))
    return np.vstack([np.asarray(have[c.id] if c.id in have else extra[c.id], dtype=np.float32) for c in chunks])


def _model_hits(cats: list[Category], model: RiskModel | None, chunks: Sequence[Chunk], vecs: np.ndarray | None) -> dict[str, Hit]:
    if model is None or vecs is None or vecs.shape[1] != model.dim:
        return {}
    index = {cid: j for j, cid in enumerate(model.category_ids)}
    wanted = [c for c in cats if c.id in index]
    if not wanted:
        return {}
    probs = model.chunk_probs(chunks, vecs)
    hits = {}
    for c in wanted:
        j = index[c.id]
        if model.keyword_only(j):  # training found the cue rule better for this category
            counts = np.array([cue_count(ch.text, model.cue_groups[j]) for ch in chunks], dtype=np.float32)
            hits[c.id] = Hit(c, float(counts.sum()), 1.0, counts + probs[:, j], model.embedding_direction(j), counts=True)
        else:
            hits[c.id] = Hit(c, float(probs[:, j].max()), float(model.thresholds[j]), probs[:, j], model.embedding_direction(j))
    return hits


def _cue_hit(cat: Category, chunks: Sequence[Chunk], vecs: np.ndarray | None, embedder: Any, min_hits: int) -> Hit:
    if cat.cues:
        counts = np.array([cue_count(c.text, cat.cues) for c in chunks], dtype=np.float32)
        return Hit(cat, float(counts.sum()), float(min_hits), counts, counts=True)
    if vecs is None or embedder is None or not (cat.examples or cat.description):
        return Hit(cat, 0.0, 1.0, np.zeros(len(chunks), np.float32))
    protos = np.asarray(embedder.embed(list(cat.examples) or [cat.description]), dtype=np.float32)
    sims = (vecs @ protos.T).max(1)
    return Hit(cat, float(sims.max(initial=0.0)), EXAMPLE_SIM_THRESHOLD, sims, protos.mean(0))


def _score_all(cats: list[Category], doc_type: str, chunks: Sequence[Chunk], vecs: np.ndarray | None,
               embedder: Any, model: RiskModel | None, cancel: CancelToken | None) -> list[Hit]:
    hits = _model_hits(cats, model, chunks, vecs)
    out = []
    for cat in cats:
        if cancel:
            cancel.raise_if_cancelled()
        min_hits = OTHER_FILING_MIN_HITS if (doc_type == "other" and cat.group == "filing") else 1
        out.append(hits.get(cat.id) or _cue_hit(cat, chunks, vecs, embedder, min_hits))
    return out


def _finding(hit: Hit, picks: list[select.Pick], pages: dict[int, str]) -> Finding:
    cat = hit.cat
    top = picks[0]
    spans = [s for p in picks for s in select.to_spans(pages, p)]
    value = extract_value(cat.value, top.text) or extract_value(cat.value, top.chunk.text) if cat.value else None
    severity, violated, note = apply_rule(cat, value)
    return Finding(cat.id, cat.name, cat.group, severity, hit.confidence(), "present",
                   present_rationale(cat, value, note), spans, spans[0].page if spans else top.chunk.page_start,
                   top.text, value, violated)


def _picks_for(hit: Hit, chunks: Sequence[Chunk], model: RiskModel | None) -> list[list[select.Pick]]:
    """Sentence candidates in the best chunks (best chunk first)."""
    order = np.argsort(-hit.chunk_scores)[:MAX_SPAN_CHUNKS]
    keep = [i for k, i in enumerate(order) if k == 0 or hit.chunk_scores[i] >= hit.threshold]
    cues = list(hit.cat.cues)
    if model is not None and hit.cat.id in model.category_ids:
        cues += model.cue_groups[model.category_ids.index(hit.cat.id)]
    return [select.candidates(chunks[i], cues) or [select.Pick(chunks[i], 0, len(chunks[i].text), 0)] for i in keep]


def review_document(doc_id: str, doc_type: str, pages: Sequence[PageText], chunks: Sequence[Chunk],
                    chunk_vectors: dict[str, np.ndarray] | None, taxonomy: Taxonomy, embedder: Any = None,
                    llm: Any = None, on_progress: ProgressFn | None = None, cancel: CancelToken | None = None,
                    model: RiskModel | None | bool = True) -> RiskReport:
    """Review one indexed document. ``model=True`` uses the shipped model, ``None`` cues only."""
    t0 = time.perf_counter()
    report = (on_progress or (lambda _p: None))
    mdl = default_model() if model is True else (model or None)
    groups = GROUPS_BY_TYPE.get(doc_type, GROUPS_BY_TYPE["other"])
    cats = taxonomy.enabled(groups)
    report(Progress("risks", 0, len(cats), "categories", "Scoring clauses", doc_id))
    vecs = _vectors(chunks, chunk_vectors, embedder) if (mdl is not None or embedder is not None) else None
    hits = _score_all(cats, doc_type, chunks, vecs, embedder, mdl, cancel) if chunks else \
        [Hit(c, 0.0, 1.0, np.zeros(0, np.float32)) for c in cats]
    present = [h for h in hits if h.present and len(chunks)]
    picks = {h.cat.id: _picks_for(h, chunks, mdl) for h in present}
    select.score_with_embeddings([(picks[h.cat.id][0], h.direction) for h in present],
                                 embedder.embed if embedder is not None else None)
    page_map = {p.page: p.text for p in pages}
    findings = []
    for n, h in enumerate(hits):
        if cancel:
            cancel.raise_if_cancelled()
        if h.present and h.cat.id in picks:
            chosen = [b for b in (select.best(g) for g in picks[h.cat.id]) if b is not None]
            findings.append(_finding(h, chosen, page_map))
        elif h.cat.absence_is_risk:
            findings.append(Finding(h.cat.id, h.cat.name, h.cat.group, h.cat.severity, h.confidence(), "missing",
                                    missing_rationale(h.cat)))
        report(Progress("risks", n + 1, len(cats), "categories", h.cat.name, doc_id))
    used_llm = False
    if llm is not None and findings:
        from app.risks.confirm import confirm_findings

        used_llm = confirm_findings(findings, llm, cancel)
    findings.sort(key=lambda f: (f.kind != "present", SEVERITY_ORDER.get(f.severity, 9), -f.confidence))
    return RiskReport(doc_id, taxonomy.version, findings, round(time.perf_counter() - t0, 3), doc_type, used_llm)
