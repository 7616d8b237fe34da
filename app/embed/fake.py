"""A deterministic, dependency-free embedder for unit tests.

Hashed bag of words plus character trigrams into 256 buckets, so texts sharing words get
similar vectors (good enough to test fusion, scoping and merging without a real model).
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from app.embed.base import normalize_rows
from app.types import CancelToken, Progress, ProgressFn

_WORD = re.compile(r"\w+")


def _bucket(token: str, dim: int) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest(), "little") % dim


class FakeEmbedder:
    identity = "fake-bow3-256"
    dim = 256

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size

    def _one(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            v[_bucket("w:" + word, self.dim)] += 2.0
            padded = f"#{word}#"
            for i in range(len(padded) - 2):
                v[_bucket("t:" + padded[i:i + 3], self.dim)] += 0.5
        if not v.any():
            v[0] = 1.0
        return v

    def embed(self, texts: list[str], on_progress: ProgressFn | None = None,
              cancel: CancelToken | None = None) -> np.ndarray:
        rows: list[np.ndarray] = []
        for start in range(0, len(texts), self.batch_size):
            if cancel is not None:
                cancel.raise_if_cancelled()
            rows.extend(self._one(t) for t in texts[start:start + self.batch_size])
            if on_progress is not None:
                on_progress(Progress("embed", len(rows), len(texts), "chunks"))
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalize_rows(np.stack(rows))

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]
