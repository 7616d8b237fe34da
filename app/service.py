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
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterable

from app.errors import DossierError, StoreError
from app.library import Library
from app.paths import resolve_data_dir
from app.scheduler import CpuScheduler
from app.settings import Settings
from app.types import CancelToken, DocumentRecord, PageText, Progress, ProgressFn, SearchHit, no_progress
from app.writer_lock import WriterLock

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
        from app import netguard

        netguard.allow_settings(self.settings)  # the servers named in settings, and nothing else
        self._allows_servers = True
        self.scheduler = CpuScheduler()
        self._writer_lock = WriterLock(self.data_dir / "dossier.lock")
        self.read_only = not self._writer_lock.acquire()
        self._read_only_reason = "" if not self.read_only else self._writer_lock.reason
        try:
            self.library = Library(self.data_dir, self.settings, embedder=embedder)
        except BaseException:  # e.g. a damaged catalog: free the folder for a retry (doctor --repair)
            self._writer_lock.release()
            raise
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
        self.library.refresh()  # team mode: pick up other clients' changes (throttled)
        return self.library.catalog.list_documents(self.workspace)

    def refresh(self):  # type: ignore[no-untyped-def]  # -> SyncReport | None
        """Team mode: sync the local mirror with the index server now (None in local mode)."""
        return self.library.refresh(force=True)

    def set_index_server(self, url: str) -> None:
        """Switch between the local index ("") and a team index server, and remember it. Call it
        when no job runs: the library (catalog, vectors) is reopened; the model is kept."""
        self.settings.index_server_url = url.strip()
        if not self.read_only:
            self.settings.save(self.data_dir)
        old = self.library
        self.library = Library(self.data_dir, self.settings, embedder=old._embedder)
        self.library.may_sweep = not self.read_only
        self._retriever = None
        old.close()

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
        from app.jobs_journal import ingest_args

        paths = list(paths)
        self._require_writer("add documents")
        self.library.vectors  # noqa: B018 - opens Chroma and sweeps an interrupted ingest first
        return self.jobs.run("ingest", ingest_args(paths, password), lambda: Ingestor(self.library, self.scheduler).ingest(
            paths, password=password, on_progress=on_progress, cancel=cancel))

    def remove(self, doc_id: str) -> None:
        self._require_writer("remove documents")
        doc_id = self.resolve_doc_id(doc_id)
        self.library.catalog.remove(self.workspace, doc_id)
        self.library.vectors.delete_document(doc_id)
        self.summary_cache.invalidate(doc_id)
        self.review_cache.invalidate(doc_id)

    def _indexed(self, doc_id: str) -> DocumentRecord:
        """The indexed document with this id (or unique prefix); a clear error otherwise."""
        doc = self.document(doc_id)
        if doc is None or doc.status != "indexed":
            raise DossierError(f"Document {doc_id!r} is not indexed ({doc.error if doc else 'unknown id'}). "
                               "Add it again, or pick another document.")
        return doc

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
        self.library.refresh()
        ids = [self.resolve_doc_id(d) for d in doc_ids] if doc_ids else None
        return self.retriever.search(query, doc_ids=ids, k=k, section=section)

    # -- answers, summaries, risk reviews ------------------------------------------------------
    def new_conversation(self):  # type: ignore[no-untyped-def]  # -> Conversation
        from app.analysis.conversation import Conversation

        return Conversation()

    def ask(self, question: str, doc_ids: list[str] | None = None, conversation: Any = None,
            on_token: Callable[[str], None] | None = None, on_progress: ProgressFn | None = None,
            cancel: CancelToken | None = None,
            on_evidence: Callable[[list[Any]], None] | None = None):  # type: ignore[no-untyped-def]  # -> Answer
        """Answer ``question`` from the chosen documents (all when None) with verified citations.
        ``on_evidence`` gets the ranked passages before the model writes. Ingest embedding
        pauses while the model writes (see :class:`CpuScheduler`)."""
        from app.analysis.qa import answer_question

        self.library.refresh()
        ids = [self.resolve_doc_id(d) for d in doc_ids] if doc_ids else None
        llm = self.llm
        with self.scheduler.interactive():  # the question is on record before the model runs
            return self.jobs.run("ask", {"question": question, "doc_ids": ids}, lambda: self.audit.ask(
                question, ids, llm, lambda: answer_question(
                    question, self.retriever, self.library.catalog, self.workspace, llm, self.library.embedder,
                    doc_ids=ids, history=conversation, on_token=on_token, on_progress=on_progress, cancel=cancel,
                    on_evidence=on_evidence)))

    def summarize(self, doc_id: str, force: bool = False, on_token: Callable[[str], None] | None = None,
                  on_progress: ProgressFn | None = None, cancel: CancelToken | None = None):  # type: ignore[no-untyped-def]
        """Structured, page-cited summary of one document; cached per document and model."""
        from app.analysis.cache import summarize_cached

        doc = self._indexed(doc_id)
        llm = self.llm
        with self.scheduler.interactive():
            return self.jobs.run("summarize", {"doc_id": doc.id, "force": force}, lambda: self.audit.summary(
                doc, llm, lambda: summarize_cached(
                    self.summary_cache, doc, lambda: self.page_texts(doc.id),
                    lambda: self.library.catalog.chunks(self.workspace, doc.id), llm,
                    refresh=force, on_token=on_token, on_progress=on_progress, cancel=cancel)))

    def taxonomy(self):  # type: ignore[no-untyped-def]  # -> Taxonomy
        from app.risks.taxonomy import load_taxonomy

        return load_taxonomy(playbook=self.settings.risk_playbook or None)

    def review(self, doc_id: str, force: bool = False, on_progress: ProgressFn | None = None,
               cancel: CancelToken | None = None):  # type: ignore[no-untyped-def]  # -> RiskReport
        """Risk review of one document against the taxonomy (and playbook); cached per document
        and taxonomy version. The language model double-checks findings only when the user has
        chosen a model of their own (the bundled one is too small to judge clauses)."""
        doc = self._indexed(doc_id)
        llm = self.llm if self.settings.llm_model or self.settings.llm_remote_url else None
        return self.jobs.run("review", {"doc_id": doc.id, "force": force},
                             lambda: self.audit.review(doc, llm, lambda: self._review(doc, llm, force, on_progress, cancel)))

    def _review(self, doc: DocumentRecord, llm: Any, force: bool, on_progress: ProgressFn | None,
                cancel: CancelToken | None):  # type: ignore[no-untyped-def]  # -> RiskReport
        from app.risks.detect import review_document

        taxonomy = self.taxonomy()
        if not force:
            cached = self.review_cache.get(doc.id, taxonomy.version)
            if cached is not None:
                return cached
        lib = self.library
        with self.scheduler.interactive():
            report = review_document(doc.id, doc.doc_type, self.page_texts(doc.id), lib.catalog.chunks(self.workspace, doc.id),
                                     lib.vectors.embeddings_for_document(doc.id), taxonomy, embedder=lib.embedder,
                                     llm=llm, on_progress=on_progress, cancel=cancel)
        self.review_cache.put(report)
        return report

    def export_register(self, doc_ids: list[str], path: str | os.PathLike[str], fmt: str | None = None,
                        on_progress: ProgressFn | None = None, cancel: CancelToken | None = None) -> Path:
        """Risk register (documents x categories, page references) as xlsx or csv."""
        from app.risks.export import register

        docs = [self._indexed(d) for d in doc_ids]
        reports = []
        for i, d in enumerate(docs):
            (on_progress or no_progress)(Progress("register", i, len(docs), "documents", d.title, d.path))
            reports.append(self.review(d.id, cancel=cancel))
        return register(reports, docs, path, fmt)

    @cached_property
    def audit(self):  # type: ignore[no-untyped-def]  # -> AuditTrail
        """The audit trail (``data_dir/audit``): every question, answer, summary and review."""
        from app.audit import AUDIT_DIR
        from app.audit.records import AuditTrail, base_context

        return AuditTrail(self.data_dir / AUDIT_DIR, lambda llm: base_context(
            self.settings, self.library.index_identity, llm, None if self.read_only else self.data_dir))

    def check_store(self, repair: bool = False, on_progress: ProgressFn | None = None,
                    cancel: CancelToken | None = None):  # type: ignore[no-untyped-def]  # -> StoreCheck
        """Check that every indexed document has its chunks in Chroma and the lexical index
        (and nothing is orphaned); with ``repair``, fix what can be fixed (app/store/integrity.py)."""
        from app.store.integrity import check_and_repair

        if getattr(self.library, "mode", "local") != "local":
            raise DossierError("The store check runs on a local index. In team mode, run 'dossier doctor "
                               "--check' on the index server's data folder.")
        if repair:
            self._require_writer("repair the index")
        report = check_and_repair(self.library, repair, on_progress or no_progress, cancel)
        for d in report.documents:
            if d.marked_failed:
                self.summary_cache.invalidate(d.doc_id)
                self.review_cache.invalidate(d.doc_id)
        return report

    # -- interrupted jobs (app/jobs_journal.py) -----------------------------------------------
    @cached_property
    def jobs(self):  # type: ignore[no-untyped-def]  # -> JobJournal
        """Every ingest/ask/summarize/review is recorded; one whose process died is "interrupted"."""
        from app.jobs_journal import JobJournal

        return JobJournal(self.data_dir, enabled=self._read_only_reason != "read-only", workspace=self.workspace)

    def interrupted_jobs(self):  # type: ignore[no-untyped-def]  # -> list[JobRecord]
        """Jobs a crash or a kill cut short, oldest first (to report at start, then resume or dismiss)."""
        jobs = self.jobs.interrupted()
        titles = {d.id: d.title for d in self.library.catalog.list_documents(self.workspace)} if jobs else {}
        for job in jobs:
            job.titles = titles
        return jobs

    def resume(self, job_id: int, password: str | None = None, **callbacks: Any):  # type: ignore[no-untyped-def]
        """Run an interrupted job again (an ingest skips what is already indexed): (job, result)."""
        from app.jobs_journal import resume_job

        return resume_job(self, job_id, password=password, **callbacks)

    def dismiss(self, job_id: int) -> None:
        self.jobs.resolve(job_id, "dismissed")

    @cached_property
    def summary_cache(self):  # type: ignore[no-untyped-def]
        from app.analysis.cache import SummaryCache

        return SummaryCache(":memory:" if self.read_only else self.data_dir / "summaries.sqlite")

    @cached_property
    def review_cache(self):  # type: ignore[no-untyped-def]
        from app.risks.cache import ReviewCache

        return ReviewCache(":memory:" if self.read_only else self.data_dir / "reviews.sqlite")

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

    def set_model(self, path: str | os.PathLike[str] | None) -> None:
        """Use this GGUF file from now on ("" or None: the bundled model) and remember it.
        The file is checked (GGUF header) before anything changes; the model loads lazily."""
        if path:
            self.inspect_model(path)
        self.settings.llm_model = str(path or "")
        if not self.read_only:
            self.settings.save(self.data_dir)
        self.set_llm(None)

    @staticmethod
    def inspect_model(path: str | os.PathLike[str] | None = None):  # type: ignore[no-untyped-def]  # -> ModelInfo
        """Header facts of a GGUF file (the bundled model when None), without loading it."""
        from app.llm.bundled import bundled_model_path
        from app.llm.factory import inspect_model

        return inspect_model(path or bundled_model_path())

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
            "index_mode": self.library.mode,
            "index_server_url": self.settings.index_server_url,
            "index_server_status": self.library.last_sync_error or "ok",
        }

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None
        for cache in ("summary_cache", "review_cache", "jobs"):
            if cache in self.__dict__:
                self.__dict__.pop(cache).close()
        self.library.close()
        self._writer_lock.release()
        if self._allows_servers:  # a closed service no longer allows its servers
            from app import netguard

            self._allows_servers = False
            netguard.forget_settings(self.settings)

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
