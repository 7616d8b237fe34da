"""Training of the clause model (app.risks.model), shared by tools/train_risk_model.py and
the cross-validated benchmark (bench/risks.py), so both train exactly the same way.

How, and why:

- Sentence-level logistic regression (one output per category, balanced class weights)
  over tf-idf terms + cue counts, the neighbouring sentences mixed in (app.risks.lexical).
- **Cross-validation bagging**: the training contracts are split into ``inner`` folds; a
  model is fitted on each "all but one fold" and scores the left-out fold. The shipped
  weights are the *mean* of those fold models (a linear model, so one matrix), and the
  per-category threshold and rule are chosen on their out-of-fold document scores. Fold
  models and thresholds thus see the same amount of data: with 85 contracts and 10-20
  positives per category, thresholds taken from a model refitted on all of them were
  systematically too low (too many false alarms).
- Per category, the document decision (app.risks.model.Decision: a logistic regression over
  the best sentence logit, the best cue-matching sentence logit and the number of cue
  matches) is fitted on those out-of-fold document features, and its cut-off set to half
  the best F1 it reaches there.
- Small weights are dropped (``max_weights``) so the shipped file stays small; the benchmark
  measures the pruned model, i.e. exactly what ships.

Training needs scipy (sparse matrices; installed with sentence-transformers, which the
bundled MiniLM package requires); review does not.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from app.risks.labels import alnum_stream, label_units
from app.risks.lexical import cue_features, tfidf, unit_terms, units_of, with_neighbours
from app.risks.model import N_DOC_FEATURES, Decision, RiskModel, Scored
from app.types import Chunk, PageText


@dataclass
class TrainDoc:
    terms: list[list[str]]  # per sentence (app.risks.lexical.unit_terms)
    cues: np.ndarray  # (sentences x cue groups)
    y: np.ndarray  # (sentences x categories) 0/1 gold labels
    present: np.ndarray  # (categories,) bool: the contract has the clause


@dataclass
class Config:
    context: float = 0.5
    min_df: int = 2
    l2: float = 1e-4
    epochs: int = 150
    lr: float = 0.05
    inner: int = 5
    decision_c: float = 1.0  # inverse L2 strength of the per-category decision regression
    max_weights: int = 120_000
    seed: int = 1


def make_doc(pages: Sequence[PageText], chunks: Sequence[Chunk], gold: Mapping[str, Sequence[str]],
             cat_names: Sequence[str], cue_groups: Sequence[Sequence[str]]) -> TrainDoc:
    units = units_of(chunks)
    y = label_units(alnum_stream(pages), chunks, units, gold, cat_names)
    return TrainDoc(unit_terms(chunks, units), cue_features(chunks, units, cue_groups), y,
                    np.array([n in gold for n in cat_names], dtype=bool))


def build_vocab(docs: Sequence[TrainDoc], min_df: int) -> tuple[list[str], np.ndarray]:
    """Terms in at least ``min_df`` training sentences, with smoothed idf."""
    df: Counter[str] = Counter()
    n = 0
    for d in docs:
        for ts in d.terms:
            df.update(set(ts))
        n += len(d.terms)
    vocab = sorted(t for t, c in df.items() if c >= min_df)
    idf = np.array([np.log((1 + n) / (1 + df[t])) + 1 for t in vocab], dtype=np.float32)
    return vocab, idf


def _design(docs: Sequence[TrainDoc], index: Mapping[str, int], idf: np.ndarray, context: float) -> Any:
    """scipy CSR (sentences x [terms | cue groups]) with neighbours mixed in, all docs stacked."""
    import scipy.sparse as sp

    blocks = []
    for d in docs:
        x = tfidf(d.terms, index, idf)
        m = sp.hstack([sp.csr_matrix((x.data, x.indices, x.indptr), shape=(x.rows, len(index))),
                       sp.csr_matrix(d.cues)]).tocsr()
        if context and m.shape[0] > 1:
            n = m.shape[0]
            shift = sp.diags([np.ones(n - 1, np.float32), np.ones(n - 1, np.float32)], [-1, 1], format="csr")
            m = (m + context * (shift @ m)).tocsr()
        blocks.append(m)
    return sp.vstack(blocks).tocsr().astype(np.float32)


def fit_logreg(x: Any, y: np.ndarray, l2: float, epochs: int, lr: float) -> tuple[np.ndarray, np.ndarray]:
    """Multi-output logistic regression, balanced class weights, full-batch Adam (deterministic)."""
    n, d = x.shape
    k = y.shape[1]
    npos = y.sum(0)
    pos_w = np.where(npos > 0, (n - npos) / np.maximum(npos, 1), 1.0)
    sw = np.where(y > 0, pos_w[None, :], 1.0).astype(np.float32)
    sw /= sw.sum(0)
    xt = x.T.tocsr()
    w, b = np.zeros((d, k), np.float32), np.zeros(k, np.float32)
    mw, vw, mb, vb = np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b)
    for t in range(1, epochs + 1):
        g = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        g = (g - y) * sw
        gw = xt @ g + np.float32(l2) * w
        gb = g.sum(0)
        mw = 0.9 * mw + 0.1 * gw
        vw = 0.999 * vw + 0.001 * gw * gw
        mb = 0.9 * mb + 0.1 * gb
        vb = 0.999 * vb + 0.001 * gb * gb
        c1, c2 = 1 - 0.9**t, 1 - 0.999**t
        w -= np.float32(lr / c1) * mw / (np.sqrt(vw / np.float32(c2)) + np.float32(1e-8))
        b -= lr * (mb / c1) / (np.sqrt(vb / c2) + 1e-8)
    return w.astype(np.float32), b.astype(np.float32)


def _scored(d: TrainDoc, model: RiskModel) -> Scored:
    """Model output for a training document (same arithmetic as RiskModel.score)."""
    k = len(model.category_ids)
    x = tfidf(d.terms, model._index, model.idf)  # noqa: SLF001 - same package
    raw = x.dot(model.w_terms) + d.cues @ model.w_cues
    logits = with_neighbours(raw, model.context) + model.bias
    return Scored([None] * len(d.terms), logits.astype(np.float32), d.cues[:, :k] > 0)  # type: ignore[list-item]


def doc_features(docs: Sequence[TrainDoc], model: RiskModel) -> np.ndarray:
    """(docs x categories x 3) document features (Scored.doc_features)."""
    return np.stack([_scored(d, model).doc_features() for d in docs])


def fit_decision_lr(x: np.ndarray, y: np.ndarray, c: float, iters: int = 30) -> tuple[np.ndarray, float]:
    """L2-penalised logistic regression (0.5|w|^2 + c * log-loss, intercept free) by Newton steps."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    reg = np.eye(xb.shape[1]) / c
    reg[-1, -1] = 1e-6
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -30, 30)))
        grad = xb.T @ (p - y) + reg @ w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + reg
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def f1(pred: np.ndarray, truth: np.ndarray) -> float:
    return 2 * float((pred & truth).sum()) / max(1.0, float(pred.sum() + truth.sum()))


def best_threshold(scores: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(threshold, F1): the document-score threshold maximising F1, placed halfway to the
    next lower score (more robust than the exact training score)."""
    best, best_f1 = float(scores.max(initial=0.0)) + 1.0, -1.0
    for t in np.unique(scores):
        f = f1(scores >= t, truth)
        if f > best_f1 + 1e-9:
            best, best_f1 = float(t), f
    lower = scores[scores < best]
    return (float((best + lower.max()) / 2) if lower.size else best - 1.0), best_f1


def folds(n: int, k: int, seed: int = 0) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return [order[i::k] for i in range(k)]


def _prune(w: np.ndarray, keep: int) -> np.ndarray:
    if np.count_nonzero(w) <= keep:
        return w
    cut = np.partition(np.abs(w).ravel(), -keep)[-keep]
    return np.where(np.abs(w) >= cut, w, 0.0).astype(np.float32)


def fit_decision(feats: np.ndarray, truth: np.ndarray, c: float) -> tuple[Decision, np.ndarray]:
    """Per category: the decision regression on out-of-fold document features, its cut-off, and
    the sentence logit threshold for extra highlights."""
    k = truth.shape[1]
    d = _blank(k, feats.shape[2])
    spans = np.zeros(k, np.float32)
    for j in range(k):
        x, y = feats[:, j, :].astype(np.float64), truth[:, j].astype(np.float64)
        spans[j] = best_threshold(x[:, 0], truth[:, j])[0] if 0 < y.sum() < len(y) else x[:, 0].min()
        if y.sum() < 2 or y.sum() > len(y) - 2:  # (almost) always or never present in training
            d.bias[j] = 10.0 if y.mean() > 0.5 else -10.0
            continue
        d.mean[j], d.scale[j] = x.mean(0), x.std(0) + 1e-3
        w, b = fit_decision_lr((x - d.mean[j]) / d.scale[j], y, c)
        d.weights[j], d.bias[j] = w, b
        d.tau[j] = best_threshold(_prob_one(d, j, x), truth[:, j])[1] / 2  # F1-optimal cut-off ~ F1* / 2
    return d, spans


def _prob_one(d: Decision, j: int, x: np.ndarray) -> np.ndarray:
    z = (((x - d.mean[j]) / d.scale[j]) * d.weights[j]).sum(1) + d.bias[j]
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0)))


def train(docs: Sequence[TrainDoc], category_ids: Sequence[str], cue_groups: Sequence[Sequence[str]],
          cfg: Config | None = None, trained_on: str = "", log: Any = None,
          on_fold: Callable[[np.ndarray, RiskModel], None] | None = None) -> RiskModel:
    """Fit the CV-bagged model on ``docs``; its decision on their out-of-fold features.

    ``on_fold(held, fold_model)``: called with each inner fold's held-out document indices and
    the model that never saw them (bench/risks_variants.py studies those out-of-fold scores)."""
    cfg = cfg or Config()
    vocab, idf = build_vocab(docs, cfg.min_df)
    index = {t: i for i, t in enumerate(vocab)}
    k, nv = len(category_ids), len(vocab)
    groups = [list(g) for g in cue_groups]
    feats = np.zeros((len(docs), k, N_DOC_FEATURES), np.float32)
    ws, bs = [], []
    for n, held in enumerate(folds(len(docs), cfg.inner, cfg.seed)):
        held_set = set(held.tolist())
        fit_docs = [d for i, d in enumerate(docs) if i not in held_set]
        w, b = fit_logreg(_design(fit_docs, index, idf, cfg.context), np.vstack([d.y for d in fit_docs]),
                          cfg.l2, cfg.epochs, cfg.lr)
        fold_model = RiskModel(list(category_ids), groups, vocab, idf, _prune(w[:nv], cfg.max_weights), w[nv:], b,
                               np.zeros(k, np.float32), _blank(k), cfg.context)
        feats[held] = doc_features([docs[i] for i in held], fold_model)
        if on_fold:
            on_fold(held, fold_model)
        ws.append(w)
        bs.append(b)
        if log:
            log(f"inner fold {n + 1}/{cfg.inner} fitted")
    decision, spans = fit_decision(feats, np.vstack([d.present for d in docs]), cfg.decision_c)
    w = np.mean(ws, axis=0)
    return RiskModel(list(category_ids), groups, vocab, idf, _prune(w[:nv], cfg.max_weights), w[nv:],
                     np.mean(bs, axis=0), spans, decision, cfg.context, trained_on)


def _blank(k: int, n: int = N_DOC_FEATURES) -> Decision:
    return Decision(np.zeros((k, n), np.float32), np.zeros(k, np.float32), np.zeros((k, n), np.float32),
                    np.ones((k, n), np.float32), np.full(k, 0.5, np.float32))
