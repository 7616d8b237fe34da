"""The one facade over Dossier's core, used by the CLI, the GUI and the tests.

Every method is synchronous and may be slow; the GUI calls them from its job runner, never
on the GUI thread. Long methods take ``on_progress`` and ``cancel``. Heavy parts (Chroma,
the embedder, the language model) load on first use.

One process at a time writes a data folder: the first Service to open it holds a lock
file; a second one (another window, a CLI while the app runs) opens it read-only and gets
a clear message if it tries to change anything.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any, Iterable

from app.errors import DossierError, StoreError
from app.library import Library
from app.paths import resolve_data_dir
from app.scheduler import CpuScheduler
from app.settings import Settings
from app.types import CancelToken, DocumentRecord, PageText, ProgressFn, SearchHit, no_progress

log = logging.getLogger(__name__)


class Service:
    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        settings: Settings | None = None,
        *,
        embedder: Any = None,
        llm: Any = None,
    ) -> None:
        self.data_dir = resolve_data_dir(data_dir)
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreError(f"Cannot create the data folder {self.data_dir} ({err.strerror}). Choose another folder with --data-dir.") from err
        self.settings = settings or Settings.load(self.data_dir)
        self.scheduler = CpuScheduler()
        self._writer_lock = _WriterLock(self.data_dir / "dossier.lock")
        self.read_only = not self._writer_lock.acquire()
        self._read_only_reason = "" if not self.read_only else self._writer_lock.reason
        self.library = Library(self.data_dir, self.settings, embedder=embedder)
        # a reader must never sweep: the writer's uncommitted vectors would look orphaned
        self.library.may_sweep = not self.read_only
        self._llm = llm
        self._llm_lock = threading.Lock()
        self._retriever: Any = None

    # -- library ------------------------------------------------------------------------
    @property
    def workspace(self) -> str:
        return self.library.workspace

    def documents(self) -> list[DocumentRecord]:
        return self.library.catalog.list_documents(self.workspace)

    def document(self, doc_id: str) -> DocumentRecord | None:
        return self.library.catalog.get(self.workspace, self.resolve_doc_id(doc_id))

    def resolve_doc_id(self, prefix: str) -> str:
        """Accept a unique prefix of a document id (as printed by ``dossier list``)."""
        matches = [d.id for d in self.documents() if d.id.startswith(prefix)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise DossierError(f"No document with id {prefix!r}. Run 'dossier list' to see the ids.")
        raise DossierError(f"The id {prefix!r} matches {len(matches)} documents; give more characters.")

    def page_texts(self, doc_id: str) -> list[PageText]:
        return self.library.catalog.pages(self.workspace, doc_id)

    def ingest(
        self,
        paths: Iterable[str | os.PathLike[str]],
        password: str | None = None,
        on_progress: ProgressFn = no_progress,
        cancel: CancelToken | None = None,
    ):  # -> IngestSummary
        from app.ingest.pipeline import Ingestor

        self._require_writer("add documents")
        self.library.vectors  # noqa: B018 - opens Chroma and sweeps an interrupted ingest first
        return Ingestor(self.library, self.scheduler).ingest(paths, password=password, on_progress=on_progress, cancel=cancel)

    def remove(self, doc_id: str) -> None:
        self._require_writer("remove documents")
        doc_id = self.resolve_doc_id(doc_id)
        self.library.catalog.remove(self.workspace, doc_id)
        self.library.vectors.delete_document(doc_id)

    # -- retrieval ------------------------------------------------------------------------
    @property
    def retriever(self):  # type: ignore[no-untyped-def]
        if self._retriever is None:
            from app.retrieval.hybrid import HybridRetriever

            lib = self.library
            self._retriever = HybridRetriever(lib.catalog, lib.vectors, lib.embedder, lib.workspace)
        return self._retriever

    def search(self, query: str, doc_ids: list[str] | None = None, k: int = 8, section: str | None = None) -> list[SearchHit]:
        if not query.strip():
            raise DossierError("The search is empty. Type a few words or a number to look for.")
        ids = [self.resolve_doc_id(d) for d in doc_ids] if doc_ids else None
        return self.retriever.search(query, doc_ids=ids, k=k, section=section)

    # -- model ------------------------------------------------------------------------------
    @property
    def llm(self):  # type: ignore[no-untyped-def]
        with self._llm_lock:
            if self._llm is None:
                from app.llm.factory import create_llm

                self._llm = create_llm(self.settings)
            return self._llm

    def set_llm(self, llm: Any) -> None:
        with self._llm_lock:
            old, self._llm = self._llm, llm
        if old is not None and old is not llm:
            old.close()

    # -- info -------------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        from app import __version__

        docs = self.documents()
        return {
            "version": __version__,
            "data_dir": str(self.data_dir),
            "workspace": self.workspace,
            "read_only": self.read_only,
            "documents": len(docs),
            "indexed": sum(1 for d in docs if d.status == "indexed"),
            "chunks": sum(d.chunk_count for d in docs),
            "embedder": self.settings.embedder,
            "chunking": self.settings.chunking.identity(),
            "llm_model": self.settings.llm_model or "bundled SmolLM2-135M-Instruct (Q4_1)",
            "llm_remote_url": self.settings.llm_remote_url,
        }

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None
        self.library.close()
        self._writer_lock.release()

    def __enter__(self) -> "Service":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _require_writer(self, what: str) -> None:
        if not self.read_only:
            return
        if self._read_only_reason == "busy":
            raise StoreError(
                f"Cannot {what}: another Dossier window or command is using the data folder {self.data_dir}. "
                "Close it (or wait for it to finish), then try again."
            )
        raise StoreError(
            f"Cannot {what}: the data folder {self.data_dir} is read-only. "
            "Fix its permissions or choose a writable folder with --data-dir (or DOSSIER_DATA_DIR)."
        )


class _WriterLock:
    """An advisory lock file; released automatically if the process dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: Any = None
        self.reason = ""  # "busy" (another process holds it) or "read-only"

    def acquire(self) -> bool:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: msvcrt locking
            return self._acquire_windows()
        try:
            fh = open(self.path, "a+")
        except OSError:
            self.reason = "read-only"  # reading still works
            return False
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            self.reason = "busy"
            return False
        self._fh = fh
        return True

    def _acquire_windows(self) -> bool:  # pragma: no cover
        import msvcrt

        try:
            fh = open(self.path, "a+")
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            self.reason = "busy"
            return False
        self._fh = fh
        return True

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

