"""One workspace's index on disk: the SQLite catalog, the Chroma collection and the embedder.

Opening a library is cheap: the catalog opens at once; Chroma and the embedding model
load on first use (they cost seconds and hundreds of MB). On open, vectors that belong to
no indexed document (left by an ingest that was killed) are swept.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from functools import cached_property
from pathlib import Path

from app.settings import Settings

log = logging.getLogger(__name__)


class Library:
    def __init__(self, data_dir: Path, settings: Settings, embedder=None) -> None:  # type: ignore[no-untyped-def]
        from app.store.catalog import Catalog

        self.data_dir = Path(data_dir)
        self.settings = settings
        self.workspace = settings.workspace
        self._embedder = embedder
        self._lock = threading.RLock()
        self.catalog = Catalog(self.data_dir / "catalog.sqlite")
        self._swept = False
        self.may_sweep = True

    # -- lazily loaded heavy parts ---------------------------------------------------
    @property
    def embedder(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._embedder is None:
                from app.embed.base import load_embedder

                self._embedder = load_embedder(self.settings.embedder, threads=self.settings.embed_threads)
            return self._embedder

    @cached_property
    def index_identity(self) -> str:
        """Everything that shapes the vectors: change any of it and a new collection is used."""
        return f"{self.embedder.identity}|{self.settings.chunking.identity()}"

    @cached_property
    def collection_name(self) -> str:
        from app.store.vectors import collection_name

        return collection_name(self.workspace, self.index_identity)

    @property
    def vectors(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if "_vectors" not in self.__dict__:
                from app.store.vectors import VectorIndex

                self.__dict__["_vectors"] = VectorIndex(self.data_dir / "chroma", self.collection_name)
            vectors = self.__dict__["_vectors"]
            if self.may_sweep and not self._swept:
                self._swept = True
                self.sweep_orphans(vectors)
            return vectors

    def sweep_orphans(self, vectors=None) -> int:  # type: ignore[no-untyped-def]
        """Delete vectors of documents the catalog does not list as indexed (killed ingests)."""
        vectors = vectors or self.vectors
        keep = self.catalog.indexed_doc_ids(self.workspace)
        removed = vectors.sweep_orphans(keep)
        if removed:
            log.info("swept %d orphaned vectors from an interrupted ingest", removed)
        return removed

    def close(self) -> None:
        vectors = self.__dict__.pop("_vectors", None)
        if vectors is not None and hasattr(vectors, "close"):
            vectors.close()
        self.catalog.close()


def short_hash(text: str, n: int = 12) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]
