"""The learned clause detector: per-category logistic regression over chunk features.

Features of a chunk = [its embedding (the vector already stored at ingestion, so review
never re-embeds a document), cue-pattern counts of every modelled category, position in the
document]. A category is present in a document when its best chunk scores above a
per-category threshold calibrated by cross-validation (tools/train_risk_model.py). The
weights are a small ``.npz`` under resources/; inference is two numpy products.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from app.paths import RESOURCES
from app.risks.cues import cue_matrix
from app.types import Chunk

DEFAULT_MODEL_PATH = RESOURCES / "taxonomy" / "risk_model.npz"
N_POS_FEATURES = 4


def position_features(chunks: Sequence[Chunk]) -> np.ndarray:
    n = max(1, len(chunks))
    out = np.zeros((len(chunks), N_POS_FEATURES), dtype=np.float32)
    for i, c in enumerate(chunks):
        out[i] = (float(i == 0), i / n, float(i < 3), np.log1p(len(c.text)) / 7.0)
    return out


def chunk_features(chunks: Sequence[Chunk], vectors: np.ndarray, cue_groups: Sequence[Sequence[str]]) -> np.ndarray:
    """Feature matrix (chunks x [dim + len(cue_groups) + 4])."""
    cues = cue_matrix([c.text for c in chunks], cue_groups)
    return np.hstack([np.asarray(vectors, dtype=np.float32), cues, position_features(chunks)])


@dataclass
class RiskModel:
    category_ids: list[str]
    cue_groups: list[list[str]]  # the cue patterns the model was trained with, one group per category
    weights: np.ndarray  # (features, categories)
    bias: np.ndarray  # (categories,)
    mean: np.ndarray  # feature standardisation
    scale: np.ndarray
    thresholds: np.ndarray  # doc-level decision threshold per category
    embedder: str = ""
    dim: int = 384
    #: per category: decide by "any cue match" instead of the classifier (chosen in training)
    use_keywords: np.ndarray | None = None

    def keyword_only(self, cat_index: int) -> bool:
        return bool(self.use_keywords is not None and self.use_keywords[cat_index])

    def chunk_probs(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> np.ndarray:
        """P(category clause in chunk): (chunks x categories)."""
        if not len(chunks):
            return np.zeros((0, len(self.category_ids)), dtype=np.float32)
        x = (chunk_features(chunks, vectors, self.cue_groups) - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(x @ self.weights + self.bias)))

    def embedding_direction(self, cat_index: int) -> np.ndarray:
        """The weights on the embedding part: scores a sentence vector for one category."""
        return self.weights[: self.dim, cat_index] / self.scale[: self.dim]

    def save(self, path: Path) -> None:
        meta = {"category_ids": self.category_ids, "cue_groups": self.cue_groups, "embedder": self.embedder, "dim": self.dim}
        np.savez_compressed(path, meta=np.array(json.dumps(meta)), weights=self.weights.astype(np.float32),
                            bias=self.bias.astype(np.float32), mean=self.mean.astype(np.float32),
                            scale=self.scale.astype(np.float32), thresholds=self.thresholds.astype(np.float32),
                            use_keywords=np.asarray(self.use_keywords if self.use_keywords is not None
                                                    else np.zeros(len(self.category_ids), bool)))

    @classmethod
    def load(cls, path: Path | None = None) -> "RiskModel | None":
        """The shipped model, or None when the file is absent (detection then uses cues only)."""
        path = Path(path) if path else DEFAULT_MODEL_PATH
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            return cls(meta["category_ids"], meta["cue_groups"], z["weights"], z["bias"], z["mean"], z["scale"],
                       z["thresholds"], meta.get("embedder", ""), int(meta.get("dim", 384)),
                       z["use_keywords"] if "use_keywords" in z else None)
