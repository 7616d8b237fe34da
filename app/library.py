"""One workspace's index: the SQLite catalog, the vector store and the embedder.

Local mode (``settings.index_server_url`` empty): everything lives in the data folder. Opening
a library is cheap: the catalog opens at once; Chroma and the embedding model load on first
use (they cost seconds and hundreds of MB). On open, vectors that belong to no indexed
document (left by an ingest that was killed) are swept.

Team mode (an index server URL): the shared Chroma behind ``dossier serve-index`` holds the
documents, and the catalog is a local mirror of it (:mod:`app.store.sync`) under
``data/team/<server>/``; see docs/design.md "Team mode". The rest of Dossier cannot tell the
two modes apart: it sees a ``Catalog`` and an object with ``VectorIndex``'s methods.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from functools import cached_property
from pathlib import Path
from typing import Any

from app.errors import StoreError
from app.settings import Settings

log = logging.getLogger(__name__)

#: Numeric variants of one embedder agree to cosine 0.9999 (bench/README.md): in team mode a
#: bf16 desktop and an fp32 one must share one index, so the variant is left out of its identity.
_PRECISION = re.compile(r"-(bf16|fp16|fp32)$")


class Library:
    def __init__(self, data_dir: Path, settings: Settings, embedder=None) -> None:  # type: ignore[no-untyped-def]
        from app.store.catalog import Catalog

        self.data_dir = Path(data_dir)
        self.settings = settings
        self.workspace = settings.workspace
        self._embedder = embedder
        self._lock = threading.RLock()
        self._swept = False
        self.may_sweep = True
        self.server_url = settings.index_server_url.strip()
        self._synced_at = 0.0
        self.last_sync_error = ""
        if self.server_url:
            self.catalog = self._team_catalog()
        else:
            self.catalog = Catalog(self.data_dir / "catalog.sqlite")

    @property
    def mode(self) -> str:
        return "team" if self.server_url else "local"

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
        embedder = self.embedder.identity
        if self.server_url:
            embedder = _PRECISION.sub("", embedder)
        return f"{embedder}|{self.settings.chunking.identity()}"

    @cached_property
    def collection_name(self) -> str:
        from app.store.vectors import collection_name

        return collection_name(self.workspace, self.index_identity)

    @property
    def vectors(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if "_vectors" not in self.__dict__:
                if self.server_url:
                    self.__dict__["_vectors"] = self.team.vectors(self.index_identity)
                else:
                    from app.store.vectors import VectorIndex

                    self.__dict__["_vectors"] = VectorIndex(self.data_dir / "chroma", self.collection_name)
            vectors = self.__dict__["_vectors"]
            if self.may_sweep and not self._swept:
                self._swept = True
                self.sweep_orphans(vectors)
            return vectors

    def sweep_orphans(self, vectors=None) -> int:  # type: ignore[no-untyped-def]
        """Delete vectors of documents the catalog does not list as indexed (killed ingests).
        Team mode: the local mirror knows nothing of other clients' uploads in progress, so
        only uploads whose client stopped sending heartbeats are swept, on the server."""
        vectors = vectors or self.vectors
        if self.server_url:
            removed = self.team.sweep_stale()
            self.refresh(force=True)
        else:
            keep = self.catalog.indexed_doc_ids(self.workspace)
            removed = vectors.sweep_orphans(keep)
        if removed:
            log.info("swept %d orphaned vectors from an interrupted ingest", removed)
        return removed

    # -- team mode ------------------------------------------------------------------------
    def _team_catalog(self):  # type: ignore[no-untyped-def]
        from app.store.remote_index import normalize_url
        from app.store.sync import TeamCatalog

        url = normalize_url(self.server_url)
        slug = re.sub(r"[^A-Za-z0-9.-]+", "-", url.split("://", 1)[-1]).strip("-")[:40]
        folder = self.data_dir / "team" / f"{slug}-{short_hash(url, 8)}"
        return TeamCatalog(folder / "catalog.sqlite", lambda: self.team, lambda: self.index_identity,
                           folder / "files", self.workspace)

    @cached_property
    def server(self):  # type: ignore[no-untyped-def]  # -> IndexServerClient
        from app.store.remote_index import IndexServerClient

        return IndexServerClient(self.server_url)

    @cached_property
    def team(self):  # type: ignore[no-untyped-def]  # -> TeamIndex
        from app.store.team_index import TeamIndex

        return TeamIndex(self.server, self.workspace)

    def refresh(self, force: bool = False) -> Any:
        """Team mode: bring the local mirror in line with the server (at most every
        ``settings.index_sync_interval_s`` unless ``force``). Returns the SyncReport, or None
        when nothing was done. A wrong token always raises; an unreachable server raises
        only if the mirror was never filled (else the last copy is used and
        :attr:`last_sync_error` says why)."""
        from app.store.remote_index import IndexAuthError

        if not self.server_url:
            return None
        now = time.monotonic()
        if not force and self._synced_at and now - self._synced_at < self.settings.index_sync_interval_s:
            return None
        try:
            report = self.catalog.sync(blocking=force)
        except IndexAuthError:
            raise
        except StoreError as err:
            self.last_sync_error = str(err)
            if force or not self._synced_at and not self.catalog.list_documents(self.workspace):
                raise
            log.warning("using the last copy of the shared index: %s", err)
            self._synced_at = now  # retry after the interval, not on every call
            return None
        if report is not None:
            self._synced_at, self.last_sync_error = time.monotonic(), ""
        return report

    def close(self) -> None:
        vectors = self.__dict__.pop("_vectors", None)
        if vectors is not None and hasattr(vectors, "close"):
            vectors.close()
        server = self.__dict__.pop("server", None)
        if server is not None:
            server.close()
        self.catalog.close()


def short_hash(text: str, n: int = 12) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]
