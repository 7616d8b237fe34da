"""Chunk vectors in a local Chroma store (one collection per workspace + index identity).

We always supply the embeddings ourselves (``embedding_function=None``), so Chroma never
downloads a model; telemetry is off both in the client settings and the environment.
Vectors are written *before* the catalog commit that makes their document visible, so
vectors of a document the catalog does not list as indexed are orphans from an interrupted
ingest: queries should be scoped to indexed documents and :meth:`VectorIndex.sweep_orphans`
deletes them at start-up.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from app.errors import StoreError
from app.types import Chunk

_BAD = re.compile(r"[^a-zA-Z0-9._-]+")


def collection_name(workspace: str, identity: str) -> str:
    """A valid Chroma name (3-63 chars of [a-zA-Z0-9._-], alphanumeric ends) for the pair."""
    digest = hashlib.sha256(f"{workspace}\x00{identity}".encode()).hexdigest()[:16]
    slug = _BAD.sub("-", workspace).strip("._-")[:40] or "ws"
    return f"{slug}-{digest}"


def _disable_telemetry() -> None:
    os.environ["ANONYMIZED_TELEMETRY"] = "False"
    os.environ.setdefault("CHROMA_TELEMETRY", "False")


class VectorIndex:
    """A Chroma ``PersistentClient`` collection of chunk vectors (cosine distance).

    For a folder registered with :func:`app.store.index_process.enable_for` (the desktop app
    does this for its data folder) the constructor returns a
    :class:`~app.store.index_process.ProcessVectorIndex` instead: the same methods, served by a
    helper process, so Chroma's GIL-holding calls never freeze the window."""

    def __new__(cls, path: Path, collection: str, _in_process: bool = False):  # type: ignore[no-untyped-def]
        if cls is VectorIndex and not _in_process:
            from app.store import index_process

            if index_process.is_enabled(path):
                return index_process.ProcessVectorIndex(path, collection)
        return super().__new__(cls)

    def __init__(self, path: Path, collection: str, _in_process: bool = False) -> None:
        _disable_telemetry()
        self.path = Path(path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            import chromadb
            from chromadb.config import Settings

            self._client = chromadb.PersistentClient(
                path=str(self.path), settings=Settings(anonymized_telemetry=False, allow_reset=False))
            self._col = self._client.get_or_create_collection(
                name=collection, embedding_function=None, metadata={"hnsw:space": "cosine"})
            self._max_batch = int(self._client.get_max_batch_size())
        except StoreError:
            raise
        except Exception as err:  # chromadb raises many types (sqlite, Rust bindings, OSError)
            raise StoreError(f"The vector index at {self.path} cannot be opened ({err}). Check that the data "
                             "folder is writable and not used by another Dossier; if the index is damaged, "
                             "move the 'vectors' folder aside and re-add your documents.") from err
        self.collection = collection

    def _guard(self, what: str, fn: Any, *args: Any, **kw: Any) -> Any:
        try:
            return fn(*args, **kw)
        except Exception as err:
            raise StoreError(f"The vector index at {self.path} failed to {what} ({err}). Check free disk space "
                             "and folder permissions, then try again.") from err

    def count(self) -> int:
        return int(self._guard("count vectors", self._col.count))

    def add(self, chunks: Sequence[Chunk], embeddings: np.ndarray) -> None:
        """Store (or overwrite) the vectors of ``chunks``; batched to Chroma's limit."""
        if len(chunks) != len(embeddings):
            raise ValueError(f"{len(chunks)} chunks but {len(embeddings)} embeddings")
        emb = np.asarray(embeddings, dtype=np.float32)
        step = max(1, self._max_batch)
        for i in range(0, len(chunks), step):
            part = chunks[i:i + step]
            self._guard("store vectors", self._col.upsert,
                        ids=[c.id for c in part], embeddings=emb[i:i + step],
                        metadatas=[{"doc_id": c.doc_id, "page_start": c.page_start, "page_end": c.page_end,
                                    "section": c.section} for c in part])

    def query(self, vector: np.ndarray, k: int, doc_ids: list[str] | None = None) -> list[tuple[str, float]]:
        """Nearest ``k`` chunk ids with cosine distance (smaller = closer), optionally scoped."""
        if doc_ids is not None and not doc_ids:
            return []
        n = self.count()
        if n == 0 or k <= 0:
            return []
        where: dict[str, Any] | None = None
        if doc_ids is not None:
            where = {"doc_id": {"$in": list(doc_ids)}} if len(doc_ids) > 1 else {"doc_id": doc_ids[0]}
        res = self._guard("search", self._col.query, query_embeddings=[np.asarray(vector, dtype=np.float32)],
                          n_results=min(int(k), n), where=where, include=["distances"])
        return list(zip(res["ids"][0], (float(d) for d in res["distances"][0])))

    def delete_document(self, doc_id: str) -> None:
        self._guard("delete vectors", self._col.delete, where={"doc_id": doc_id})

    def _all_metadata(self) -> Iterable[dict[str, Any]]:
        total = self.count()
        step = 5000
        for offset in range(0, total, step):
            res = self._guard("read vectors", self._col.get, include=["metadatas"], limit=step, offset=offset)
            yield from (m or {} for m in res["metadatas"])

    def doc_ids(self) -> set[str]:
        return {str(m.get("doc_id")) for m in self._all_metadata() if m.get("doc_id")}

    def sweep_orphans(self, keep: set[str]) -> int:
        """Delete vectors of documents not in ``keep`` (e.g. an ingest that crashed before its
        catalog commit); returns how many documents were swept."""
        orphans = self.doc_ids() - set(keep)
        for doc_id in orphans:
            self.delete_document(doc_id)
        return len(orphans)

    def embeddings_for_document(self, doc_id: str) -> dict[str, np.ndarray]:
        """Stored vectors of one document (chunk id -> float32 vector), to reuse without re-embedding."""
        res = self._guard("read vectors", self._col.get, where={"doc_id": doc_id}, include=["embeddings"])
        embs = res.get("embeddings")
        if embs is None:
            return {}
        return {cid: np.asarray(e, dtype=np.float32) for cid, e in zip(res["ids"], embs)}

    def close(self) -> None:
        """Drop our handles. Chroma caches one client system per path for the whole process
        (shared with any other collection on the same folder), so it is not stopped here."""
        self._col = None
        self._client = None

    def __enter__(self) -> "VectorIndex":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
