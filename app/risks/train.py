"""Training helpers for the clause model, shared by tools/train_risk_model.py and the
cross-validated benchmark (bench/risks.py), so both train exactly the same way.

Gold clauses (CUAD) are offsets into CUAD's own text, not into PDF text, so chunks are
labelled by overlap on a letters-and-digits-only, lower-cased stream of the document,
which both texts share despite different line breaks, hyphenation and spacing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from app.types import Chunk, PageText


@dataclass
class AlnumStream:
    text: str
    page_base: list[int]  # stream offset of each page's first character
    prefix: list[list[int]]  # per page: number of alnum chars before raw offset i

    def pos(self, page: int, offset: int) -> int:
        pre = self.prefix[page]
        return self.page_base[page] + pre[min(max(offset, 0), len(pre) - 1)]


def _alnum(s: str) -> str:
    return "".join(ch.lower()[0] for ch in s if ch.isalnum())


def alnum_stream(pages: Sequence[PageText]) -> AlnumStream:
    parts, bases, prefixes, pos = [], [], [], 0
    for p in pages:
        pre, k, buf = [0], 0, []
        for ch in p.text:
            if ch.isalnum():
                buf.append(ch.lower()[0])
                k += 1
            pre.append(k)
        bases.append(pos)
        prefixes.append(pre)
        parts.append("".join(buf))
        pos += k
    return AlnumStream("".join(parts), bases, prefixes)


def locate(stream: AlnumStream, text: str) -> tuple[int, int] | None:
    """Interval of ``text`` in the stream (exact, else anchored by its first/last 40 chars)."""
    g = _alnum(text)
    if not g:
        return None
    i = stream.text.find(g)
    if i >= 0:
        return i, i + len(g)
    if len(g) < 60:
        return None
    a, b = stream.text.find(g[:40]), stream.text.find(g[-40:])
    if a >= 0 and b >= a and b + 40 - a < 3 * len(g):
        return a, b + 40
    if a >= 0:
        return a, a + len(g)
    return (b + 40 - len(g), b + 40) if b >= 0 else None


def chunk_interval(stream: AlnumStream, c: Chunk) -> tuple[int, int]:
    return stream.pos(c.page_start, c.char_start), stream.pos(c.page_end, c.char_end)


def overlaps(a: tuple[int, int], b: tuple[int, int], min_chars: int) -> bool:
    return min(a[1], b[1]) - max(a[0], b[0]) >= min_chars


def label_chunks(stream: AlnumStream, chunks: Sequence[Chunk], gold: dict[str, list[str]], cat_names: Sequence[str]) -> np.ndarray:
    """(chunks x categories) 0/1: chunk overlaps a gold clause of that category."""
    y = np.zeros((len(chunks), len(cat_names)), dtype=np.float32)
    ivs = [chunk_interval(stream, c) for c in chunks]
    for j, name in enumerate(cat_names):
        for clause in gold.get(name, []):
            g = locate(stream, clause)
            if g is None:
                continue
            need = max(1, min(40, (g[1] - g[0]) // 2))
            for i, iv in enumerate(ivs):
                if overlaps(iv, g, need):
                    y[i, j] = 1.0
    return y


def fit_logreg(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, epochs: int = 150, lr: float = 0.08,
               pos_weight: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """Multi-output logistic regression, full-batch Adam (numpy only, deterministic)."""
    n, d = x.shape
    k = y.shape[1]
    w, b = np.zeros((d, k), np.float32), np.zeros(k, np.float32)
    sw = np.where(y > 0, pos_weight, 1.0).astype(np.float32)
    norm = sw.sum(0) + 1e-6
    mw, vw, mb, vb = (np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b))
    for t in range(1, epochs + 1):
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        g = (p - y) * sw / norm
        gw = x.T @ g + l2 * w
        gb = g.sum(0)
        mw = 0.9 * mw + 0.1 * gw
        vw = 0.999 * vw + 0.001 * gw * gw
        mb = 0.9 * mb + 0.1 * gb
        vb = 0.999 * vb + 0.001 * gb * gb
        c1, c2 = 1 - 0.9**t, 1 - 0.999**t
        w -= lr * (mw / c1) / (np.sqrt(vw / c2) + 1e-8)
        b -= lr * (mb / c1) / (np.sqrt(vb / c2) + 1e-8)
    return w, b


def best_threshold(scores: np.ndarray, truth: np.ndarray) -> float:
    """Doc-level threshold maximising F1 on (out-of-fold) document scores."""
    cands = np.unique(np.concatenate([scores, [0.5]]))
    best, best_f1 = 0.5, -1.0
    for t in cands:
        pred = scores >= t
        tp = float((pred & truth).sum())
        f1 = 2 * tp / max(1.0, pred.sum() + truth.sum())
        if f1 > best_f1 + 1e-9:
            best, best_f1 = float(t), f1
    # midpoint to the next lower score is more robust than the exact training score
    lower = scores[scores < best]
    return float((best + lower.max()) / 2) if lower.size else best


@dataclass
class TrainDoc:
    x: np.ndarray  # chunk features (chunk_features)
    y: np.ndarray  # chunk labels (chunks x categories)
    present: np.ndarray  # doc-level truth (categories,) bool


def _fit(docs: Sequence[TrainDoc], **kw: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x = np.vstack([d.x for d in docs])
    y = np.vstack([d.y for d in docs])
    mean, scale = x.mean(0), x.std(0) + 1e-3
    w, b = fit_logreg((x - mean) / scale, y, **kw)  # type: ignore[arg-type]
    return w, b, mean, scale


def doc_scores(docs: Sequence[TrainDoc], w: np.ndarray, b: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(docs x categories): best chunk probability per document."""
    out = np.zeros((len(docs), w.shape[1]), np.float32)
    for i, d in enumerate(docs):
        if len(d.x):
            out[i] = (1.0 / (1.0 + np.exp(-(((d.x - mean) / scale) @ w + b)))).max(0)
    return out


def folds(n: int, k: int, seed: int = 0) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return [order[i::k] for i in range(k)]


def _f1(pred: np.ndarray, truth: np.ndarray) -> float:
    return 2 * float((pred & truth).sum()) / max(1.0, float(pred.sum() + truth.sum()))


def train(docs: Sequence[TrainDoc], inner_folds: int = 3, cue_offset: int = 384, margin: float = 0.02,
          **kw: float) -> tuple[np.ndarray, ...]:
    """Fit on all ``docs``; thresholds from out-of-fold doc scores of an inner split of them.

    Per category, the plain keyword rule (any cue match; cue features start at column
    ``cue_offset``) replaces the model when it did better on those same inner folds by
    ``margin`` F1 — a choice made on training contracts only. Returns (weights, bias,
    mean, scale, thresholds, use_keywords).
    """
    k = docs[0].y.shape[1]
    oof = np.zeros((len(docs), k), np.float32)
    for held in folds(len(docs), inner_folds, seed=1):
        held_set = set(held.tolist())
        fit = _fit([d for i, d in enumerate(docs) if i not in held_set], **kw)
        oof[held] = doc_scores([docs[i] for i in held], *fit)
    truth = np.vstack([d.present for d in docs]).astype(bool)
    thresholds = np.array([best_threshold(oof[:, j], truth[:, j]) for j in range(k)], np.float32)
    kw_pred = np.vstack([(d.x[:, cue_offset : cue_offset + k] > 0).any(0) if len(d.x) else np.zeros(k, bool) for d in docs])
    use_kw = np.array([_f1(kw_pred[:, j], truth[:, j]) > _f1(oof[:, j] >= thresholds[j], truth[:, j]) + margin
                       for j in range(k)])
    w, b, mean, scale = _fit(docs, **kw)
    return w, b, mean, scale, thresholds, use_kw
