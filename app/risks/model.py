"""The learned clause detector: a linear model over sentence features (app.risks.lexical),
then a small per-category decision over document features.

1. For every sentence of a document and every contract category, a logit: tf-idf words and
   word pairs (plus heading words) times a weight matrix, plus the cue-pattern counts times
   another, mixed with the neighbouring sentences' scores, plus a bias.
2. Per category, three document features: the best sentence logit, the best logit among
   sentences that match the category's cue patterns, and log(1 + number of such sentences).
   A logistic regression per category turns them into a probability (the finding's
   confidence); the clause is present when it reaches ``tau`` = half the best F1 the
   decision reached on held-out training contracts (the F1-optimal cut-off of a calibrated
   probability). Why a fitted decision and not a threshold searched to maximise F1: with
   10-20 positive contracts per category, the searched threshold moved with every borderline
   contract; the regression is a smoother estimate (measured in bench/README.md).

Everything is calibrated on held-out training contracts (app.risks.train). The weights are
a small ``.npz`` under resources/ (pruned to the weights that matter); review is a sparse
product in numpy — no embedding, no scipy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from app.errors import ModelError
from app.paths import RESOURCES
from app.risks.lexical import Sparse, Unit, cue_features, tfidf, unit_terms, units_of, with_neighbours
from app.types import Chunk

DEFAULT_MODEL_PATH = RESOURCES / "taxonomy" / "risk_model.npz"
FORMAT = 3
NO_SCORE = -50.0  # best cue-matching sentence logit when no sentence matches a cue
CUE_FLOOR = -15.0  # ... as a decision feature (so one missing cue match is not an outlier)
N_DOC_FEATURES = 3


@dataclass
class Scored:
    """Per-sentence results of the model on one document."""

    units: list[Unit]
    logits: np.ndarray  # (units x categories)
    cue_hits: np.ndarray  # (units x categories) bool: the category's own cue patterns match

    def doc_features(self) -> np.ndarray:
        """(categories x 3): best logit, best cue-matching logit, log(1 + cue-matching sentences)."""
        k = self.logits.shape[1]
        if not len(self.units):
            return np.tile(np.array([NO_SCORE, CUE_FLOOR, 0.0], np.float32), (k, 1))
        masked = np.where(self.cue_hits, self.logits, NO_SCORE)
        return np.stack([self.logits.max(0), np.maximum(masked.max(0), CUE_FLOOR),
                         np.log1p(self.cue_hits.sum(0))], axis=1).astype(np.float32)

    def unit_order(self, j: int) -> np.ndarray:
        """Sentence indices, most convincing first (the logit; cue matches win ties within 0.5)."""
        key = self.logits[:, j].astype(np.float64) + 0.5 * self.cue_hits[:, j]
        return np.argsort(-key, kind="stable")


@dataclass
class Decision:
    """Per-category logistic regression over Scored.doc_features, and its cut-off."""

    weights: np.ndarray  # (categories x 3), on standardised features
    bias: np.ndarray  # (categories,)
    mean: np.ndarray  # (categories x 3)
    scale: np.ndarray  # (categories x 3)
    tau: np.ndarray  # (categories,) probability cut-off

    def probability(self, features: np.ndarray) -> np.ndarray:
        z = (((features - self.mean) / self.scale) * self.weights).sum(1) + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0)))


@dataclass
class RiskModel:
    category_ids: list[str]
    cue_groups: list[list[str]]  # the cue patterns the model was trained with, one group per category
    vocab: list[str]
    idf: np.ndarray  # (terms,)
    w_terms: np.ndarray  # (terms, categories)
    w_cues: np.ndarray  # (cue groups, categories)
    bias: np.ndarray  # (categories,)
    span_thresholds: np.ndarray  # sentence logit from which a sentence is worth highlighting too
    decision: Decision
    context: float = 0.5  # weight of the neighbouring sentences' scores
    trained_on: str = ""

    def __post_init__(self) -> None:
        self._index = {t: i for i, t in enumerate(self.vocab)}

    def decide(self, scored: Scored) -> tuple[np.ndarray, np.ndarray]:
        """(probability per category, present per category) for one scored document."""
        p = self.decision.probability(scored.doc_features())
        return p, (p >= self.decision.tau) & (len(scored.units) > 0)

    def score(self, chunks: Sequence[Chunk]) -> Scored:
        """Logits of every sentence of ``chunks`` (one document, in reading order)."""
        units = units_of(chunks)
        k = len(self.category_ids)
        if not units:
            return Scored(units, np.zeros((0, k), np.float32), np.zeros((0, k), bool))
        x: Sparse = tfidf(unit_terms(chunks, units), self._index, self.idf)
        cues = cue_features(chunks, units, self.cue_groups)
        raw = x.dot(self.w_terms) + cues @ self.w_cues
        logits = with_neighbours(raw, self.context) + self.bias
        return Scored(units, logits.astype(np.float32), cues[:, :k] > 0)

    def save(self, path: Path) -> None:
        """Only non-zero term weights are stored (as float16), with the terms they need."""
        rows, cols = np.nonzero(self.w_terms)
        used = np.unique(rows)
        remap = np.full(len(self.vocab), -1, np.int64)
        remap[used] = np.arange(len(used))
        meta = {"format": FORMAT, "category_ids": self.category_ids, "cue_groups": self.cue_groups,
                "vocab": [self.vocab[i] for i in used], "context": self.context, "trained_on": self.trained_on}
        d = self.decision
        np.savez_compressed(path, meta=np.array(json.dumps(meta)), idf=self.idf[used].astype(np.float16),
                            rows=remap[rows].astype(np.int32), cols=cols.astype(np.int16),
                            vals=self.w_terms[rows, cols].astype(np.float16), w_cues=self.w_cues.astype(np.float32),
                            bias=self.bias.astype(np.float32), span_thresholds=self.span_thresholds.astype(np.float32),
                            d_weights=d.weights, d_bias=d.bias, d_mean=d.mean, d_scale=d.scale, d_tau=d.tau)

    @classmethod
    def load(cls, path: Path | None = None) -> "RiskModel | None":
        """The shipped model, or None when the file is absent or of an older format (detection
        then uses cue patterns only)."""
        path = Path(path) if path else DEFAULT_MODEL_PATH
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                if meta.get("format") != FORMAT:
                    return None
                w = np.zeros((len(meta["vocab"]), len(meta["category_ids"])), np.float32)
                w[z["rows"], z["cols"].astype(np.int64)] = z["vals"].astype(np.float32)
                decision = Decision(*(z[k].astype(np.float32) for k in ("d_weights", "d_bias", "d_mean", "d_scale", "d_tau")))
                return cls(meta["category_ids"], meta["cue_groups"], meta["vocab"], z["idf"].astype(np.float32), w,
                           z["w_cues"], z["bias"], z["span_thresholds"], decision, float(meta["context"]),
                           meta.get("trained_on", ""))
        except (OSError, ValueError, KeyError, IndexError) as e:
            raise ModelError(f"The clause model {path} is damaged ({e}). Reinstall Dossier, or retrain it with "
                             "tools/train_risk_model.py.") from e
