"""Review one document against the taxonomy: which clauses/red flags are present, where,
with what value, and which expected clauses are missing.

Contract categories the trained model knows (app.risks.model) are decided by its sentence
logits under the category's rule and threshold (both calibrated on held-out training
contracts); the highlighted spans are the sentences that carry the decision. Other
categories (filing red flags, prompt injection, user playbook additions) use their cue
patterns, or similarity to their examples when they have no cues (needs the embedder).
An LLM is optional: when given, it only double-checks present findings (app.risks.confirm).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from app.risks import select
from app.risks.model import RiskModel, Scored
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
#: Highlighted passages per finding: the best one, then others that pass the threshold too.
MAX_SPANS = 4
MAX_CUE_CHUNKS = 3
_MODEL_CACHE: dict[str, RiskModel | None] = {}


@dataclass
class Hit:
    cat: Category
    score: float  # document score: model probability, cue-match count or example similarity
    threshold: float
    picks: list[select.Pick] = field(default_factory=list)  # passages to highlight, best first
    counts: bool = False  # score is a number of cue matches
    scale: float = 1.0  # how many confidence logits one unit of score margin is worth
    probability: bool = False  # score is the model's probability that the clause is present

    @property
    def present(self) -> bool:
        return self.score >= self.threshold and bool(self.picks)

    def confidence(self) -> float:
        s, t = self.score, self.threshold
        if self.probability:
            c = s if self.present else 1.0 - s
        elif self.counts:  # cue matches: more matches, more confidence
            c = min(0.95, 0.55 + 0.1 * (s - t)) if self.present else (0.9 if s == 0 else 0.6)
        else:  # a logit (or similarity) margin: logistic, 0.5 at the threshold
            c = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, (s - t) * self.scale))))
            c = c if self.present else 1.0 - c
        return round(float(min(0.99, max(0.01, c))), 3)


def default_model() -> RiskModel | None:
    if "default" not in _MODEL_CACHE:
        _MODEL_CACHE["default"] = RiskModel.load()
    return _MODEL_CACHE["default"]


def _model_picks(scored: Scored, chunks: Sequence[Chunk], j: int, threshold: float) -> list[select.Pick]:
    """The best sentence, then up to MAX_SPANS-1 others whose logit passes the category's
    span threshold; consecutive sentences of one chunk are merged into one passage."""
    order = scored.unit_order(j)
    chosen = [int(i) for n, i in enumerate(order[:MAX_SPANS]) if n == 0 or scored.logits[i, j] >= threshold]
    picks: list[select.Pick] = []
    for u in (scored.units[i] for i in sorted(chosen)):
        last = picks[-1] if picks else None
        if last is not None and last.chunk is chunks[u.chunk] and u.start - last.end <= 2:
            last.end = u.end
        else:
            picks.append(select.Pick(chunks[u.chunk], u.start, u.end, 0))
    best = scored.units[chosen[0]] if chosen else None
    picks.sort(key=lambda p: not (best and p.chunk is chunks[best.chunk] and p.start <= best.start < p.end))
    return picks


def _model_hits(cats: list[Category], model: RiskModel | None, chunks: Sequence[Chunk]) -> dict[str, Hit]:
    """Decisions of the trained model; its probability is the score, compared with its cut-off."""
    if model is None or not chunks:
        return {}
    index = {cid: j for j, cid in enumerate(model.category_ids)}
    wanted = [c for c in cats if c.id in index]
    if not wanted:
        return {}
    scored = model.score(chunks)
    probs, present = model.decide(scored)
    hits = {}
    for c in wanted:
        j = index[c.id]
        picks = _model_picks(scored, chunks, j, float(model.span_thresholds[j])) if present[j] else []
        hits[c.id] = Hit(c, float(probs[j]), float(model.decision.tau[j]), picks, probability=True)
    return hits


def _best_chunks(chunk_scores: np.ndarray, threshold: float) -> list[int]:
    order = np.argsort(-chunk_scores, kind="stable")[:MAX_CUE_CHUNKS]
    return [int(i) for k, i in enumerate(order) if k == 0 or chunk_scores[i] >= threshold]


def _cue_hit(cat: Category, chunks: Sequence[Chunk], vecs: np.ndarray | None, embedder: Any, min_hits: int,
             cues: list[str] | None = None) -> Hit:
    """Cue-pattern decision (or, for a category without cues, similarity to its examples).
    Matches count per sentence, and not in sentences that match an ``exclude`` pattern."""
    cues = list(cues if cues is not None else cat.cues)
    if cues:
        cands = [select.candidates(c, cues, cat.exclude) for c in chunks]
        counts = np.array([sum(p.cue_hits for p in g) for g in cands], dtype=np.float32)
        total = float(counts.sum())
        prose_first = counts - 0.5 * np.array([c.kind == "table" for c in chunks])  # a sentence beats a table row
        best = [select.best(cands[i]) for i in _best_chunks(prose_first, 0.5)] if total >= min_hits else []
        return Hit(cat, total, float(min_hits), [p for p in best if p is not None and p.cue_hits], counts=True)
    if vecs is None or embedder is None or not (cat.examples or cat.description):
        return Hit(cat, 0.0, 1.0)
    protos = np.asarray(embedder.embed(list(cat.examples) or [cat.description]), dtype=np.float32)
    sims = (vecs @ protos.T).max(1)
    top = float(sims.max(initial=0.0))
    picks: list[select.Pick] = []
    if top >= EXAMPLE_SIM_THRESHOLD:
        groups = [select.candidates(chunks[i], []) for i in _best_chunks(sims, EXAMPLE_SIM_THRESHOLD)]
        select.score_with_embeddings([(g, protos.mean(0)) for g in groups], embedder.embed)
        picks = [p for p in (select.best(g) for g in groups) if p is not None]
    return Hit(cat, top, EXAMPLE_SIM_THRESHOLD, picks, scale=20.0)


def _vectors(chunks: Sequence[Chunk], chunk_vectors: dict[str, np.ndarray] | None, embedder: Any) -> np.ndarray | None:
    """Chunk vectors in chunk order: the stored ones; embeds only chunks that lack one."""
    have = chunk_vectors or {}
    missing = [c for c in chunks if c.id not in have]
    if missing and embedder is None:
        return None
    extra: dict[str, np.ndarray] = {}
    if missing:
        texts = [f"{c.context}\n{c.text}" if c.context else c.text for c in missing]
        extra = dict(zip([c.id for c in missing], np.asarray(embedder.embed(texts), dtype=np.float32)))
    return np.vstack([np.asarray(have[c.id] if c.id in have else extra[c.id], dtype=np.float32) for c in chunks])


def _score_all(cats: list[Category], doc_type: str, chunks: Sequence[Chunk], chunk_vectors: dict[str, np.ndarray] | None,
               embedder: Any, model: RiskModel | None, cancel: CancelToken | None) -> list[Hit]:
    hits = _model_hits(cats, model, chunks)
    need_vecs = any(c.id not in hits and not c.cues and (c.examples or c.description) for c in cats)
    vecs = _vectors(chunks, chunk_vectors, embedder) if need_vecs and chunks else None
    out = []
    for cat in cats:
        if cancel:
            cancel.raise_if_cancelled()
        min_hits = OTHER_FILING_MIN_HITS if (doc_type == "other" and cat.group == "filing") else 1
        out.append(hits.get(cat.id) or _cue_hit(cat, chunks, vecs, embedder, min_hits))
    return out


def _finding(hit: Hit, pages: dict[int, str], chunks: Sequence[Chunk]) -> Finding:
    cat, top = hit.cat, hit.picks[0]
    for p in hit.picks:
        select.from_sentence_start(p, chunks)
    spans = [s for p in hit.picks for s in select.to_spans(pages, p)]
    value = None
    if cat.value:
        value = next((v for v in (extract_value(cat.value, p.text) for p in hit.picks) if v), None) \
            or extract_value(cat.value, top.chunk.text)
    severity, violated, note = apply_rule(cat, value)
    return Finding(cat.id, cat.name, cat.group, severity, hit.confidence(), "present",
                   present_rationale(cat, value, note), spans, spans[0].page if spans else top.chunk.page_start,
                   top.quote, value, violated)


def review_document(doc_id: str, doc_type: str, pages: Sequence[PageText], chunks: Sequence[Chunk],
                    chunk_vectors: dict[str, np.ndarray] | None, taxonomy: Taxonomy, embedder: Any = None,
                    llm: Any = None, on_progress: ProgressFn | None = None, cancel: CancelToken | None = None,
                    model: RiskModel | None | bool = True) -> RiskReport:
    """Review one indexed document. ``model=True`` uses the shipped model, ``None`` cues only."""
    t0 = time.perf_counter()
    report = on_progress or (lambda _p: None)
    mdl = default_model() if model is True else (model or None)
    groups = GROUPS_BY_TYPE.get(doc_type, GROUPS_BY_TYPE["other"])
    cats = taxonomy.enabled(groups)
    report(Progress("risks", 0, len(cats), "categories", "Scoring clauses", doc_id))
    hits = _score_all(cats, doc_type, chunks, chunk_vectors, embedder, mdl, cancel) if chunks else \
        [Hit(c, 0.0, 1.0) for c in cats]
    page_map = {p.page: p.text for p in pages}
    findings = []
    for n, h in enumerate(hits):
        if cancel:
            cancel.raise_if_cancelled()
        if h.present:
            findings.append(_finding(h, page_map, chunks))
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
