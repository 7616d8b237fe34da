"""What the window does with the service: every call runs as a job, results go to panels.

A mixin of :class:`app.gui.main_window.MainWindow` (kept apart so neither file grows past
a screenful of concerns). Resources: ``"index"`` for writes to the library, ``"model"``
for anything that runs the language model — one job at a time each.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import DossierError
from app.types import Progress

if TYPE_CHECKING:  # pragma: no cover
    from app.gui.main_window import MainWindow

log = logging.getLogger(__name__)


class ServiceActions:
    # -- library --------------------------------------------------------------------
    def add_files(self: "MainWindow", paths: list[str], password: str | None = None) -> Any:
        """Index files/folders in the background; failures are reported once, together."""
        paths = [str(p) for p in paths]
        if not paths:
            return None
        title = f"Adding {Path(paths[0]).name}" if len(paths) == 1 else f"Adding {len(paths)} items"

        def work(ctx):  # type: ignore[no-untyped-def]
            return self.service.ingest(paths, password=password, on_progress=overall_progress(ctx.on_progress),
                                       cancel=ctx.cancel)

        return self.runner.submit(title, work, resource="index", on_result=self._ingest_done,
                                  on_error=self.show_error, on_progress=self._ingest_progress)

    def _ingest_progress(self: "MainWindow", p: Progress) -> None:
        doc_index = p.done // _PER_DOC
        if doc_index != self._last_doc_progress:  # a document was committed (or the first began)
            self._last_doc_progress = doc_index
            self.refresh_documents()  # documents appear as each one is committed

    def _ingest_done(self: "MainWindow", summary: Any) -> None:
        self._last_doc_progress = -1
        self.refresh_documents()
        if summary.added and self.viewer.doc_id is None:
            self.select_after_refresh = summary.added[0].id  # once the re-read lands
        failed = list(summary.failed)
        if failed:
            lines = [f"• {Path(f.path).name}: {f.message}" for f in failed[:8]]
            more = f"\n… and {len(failed) - 8} more." if len(failed) > 8 else ""
            locked = any(f.status == "needs_password" for f in failed)
            hint = "\n\nDouble-click a document marked 'Needs password' to enter its password." if locked else ""
            n_ok = len(summary.added) + len(summary.unchanged)
            head = f"{len(failed)} file(s) could not be added" + (f" ({n_ok} other(s) were fine)" if n_ok else "")
            self.show_error(f"{head}:\n" + "\n".join(lines) + more + hint)
        elif summary.cancelled:
            self.statusBar().showMessage("Adding documents was cancelled; finished documents were kept.", 8000)
        elif summary.added or summary.unchanged:
            n, u = len(summary.added), len(summary.unchanged)
            self.statusBar().showMessage(f"Added {n} document{'s' if n != 1 else ''}"
                                         + (f" ({u} already indexed)" if u else "") + ".", 8000)

    def remove_documents(self: "MainWindow", doc_ids: list[str]) -> Any:
        if not doc_ids:
            return None
        if self.viewer.doc_id in doc_ids:
            self.viewer.close_document()

        def work(ctx):  # type: ignore[no-untyped-def]
            for i, d in enumerate(doc_ids):
                ctx.cancel.raise_if_cancelled()
                self.service.remove(d)
                ctx.on_progress(Progress("remove", i + 1, len(doc_ids), "documents"))

        return self.runner.submit(f"Removing {len(doc_ids)} document(s)", work, resource="index",
                                  on_result=lambda _r: self.refresh_documents(), on_error=self.show_error)

    def reindex_documents(self: "MainWindow", doc_ids: list[str], password: str | None = None) -> Any:
        """Index again from the files on disk (e.g. after a failure or a password)."""
        docs = self.library.records(doc_ids)
        if not docs:
            return None

        def work(ctx):  # type: ignore[no-untyped-def]
            for d in docs:
                if d.status == "indexed":
                    self.service.remove(d.id)
            return self.service.ingest([d.path for d in docs], password=password,
                                       on_progress=overall_progress(ctx.on_progress), cancel=ctx.cancel)

        return self.runner.submit(f"Re-indexing {len(docs)} document(s)", work, resource="index",
                                  on_result=self._ingest_done, on_error=self.show_error,
                                  on_progress=self._ingest_progress)

    def ask_password(self: "MainWindow", doc_id: str) -> None:
        from app.gui.widgets.password_dialog import PasswordDialog

        doc = self.library.record(doc_id)
        if doc is None:
            return
        dlg = PasswordDialog(doc.title or Path(doc.path).name, parent=self)
        self.password_dialog = dlg

        def accepted() -> None:
            self.add_files([doc.path], password=dlg.take_password())

        dlg.accepted.connect(accepted)
        dlg.open()

    # -- ask ------------------------------------------------------------------------
    def ask(self: "MainWindow", question: str) -> Any:
        if self._conversation is None:
            self._conversation = self.service.new_conversation()
        scope = self.ask_scope()
        if scope == []:
            self.ask_panel.begin(question)
            self.ask_panel.show_error("None of the selected documents is indexed. Select indexed documents, or "
                                      "choose “Whole workspace”.")
            return None
        conversation = self._conversation
        self.ask_panel.begin(question)

        def work(ctx):  # type: ignore[no-untyped-def]
            return self.service.ask(question, doc_ids=scope, conversation=conversation, on_token=ctx.stream,
                                    on_progress=ctx.on_progress, cancel=ctx.cancel, on_evidence=ctx.partial)

        self._ask_job = self.runner.submit(f"Answering: {question[:40]}", work, resource="model",
                                           on_result=self._answer_done, on_stream=self.ask_panel.append_text,
                                           on_partial=self.ask_panel.show_evidence,
                                           on_error=lambda e: self.ask_panel.show_error(self.error_text(e)))
        self._ask_job.cancelled.connect(lambda: self.ask_panel.show_error("Stopped."))
        return self._ask_job

    def ask_scope(self: "MainWindow") -> list[str] | None:
        """The indexed documents the question is about (None: the whole workspace)."""
        if self.ask_panel.scope_mode() != "selected":
            return None
        return [d.id for d in self.library.records(self.library.selected_ids()) if d.status == "indexed"]

    def _answer_done(self: "MainWindow", answer: Any) -> None:
        self.ask_panel.show_answer(answer)
        stats = getattr(answer, "stats", {}) or {}
        tokens, secs = stats.get("answer_tokens", 0), stats.get("generate_s", 0)
        if not (tokens and secs):  # the engine's own numbers, if it is loaded (never load it here)
            last = getattr(getattr(self.service, "_llm", None), "last_stats", None)
            tokens, secs = getattr(last, "generated_tokens", 0), getattr(last, "generation_seconds", 0.0)
        if tokens and secs:
            self.status.set_model(self._model_name if self._model_name != "not loaded" else
                                  (getattr(answer, "model", "") or "model"), tokens / secs, state="ready")

    def cancel_ask(self: "MainWindow") -> None:
        job = self._ask_job
        if job is not None and not job.is_finished:
            self.runner.cancel(job)

    def new_conversation(self: "MainWindow") -> None:
        self._conversation = self.service.new_conversation()

    # -- summary and risks ----------------------------------------------------------
    def summarize(self: "MainWindow", doc_id: str, force: bool = False) -> Any:
        panel = self.summary_panel
        panel.begin()

        def work(ctx):  # type: ignore[no-untyped-def]
            return self.service.summarize(doc_id, force=force, on_progress=ctx.on_progress, cancel=ctx.cancel)

        job = self.runner.submit("Summarising", work, resource="model", on_progress=panel.on_progress,
                                 on_result=lambda s: panel.show_summary(doc_id, s),
                                 on_error=lambda e: panel.show_error(self.error_text(e)))
        job.cancelled.connect(panel.end)
        self._summary_job = job
        return job

    def review(self: "MainWindow", doc_id: str, force: bool = False) -> Any:
        panel = self.risk_panel
        panel.begin()

        def work(ctx):  # type: ignore[no-untyped-def]
            return self.service.review(doc_id, force=force, on_progress=ctx.on_progress, cancel=ctx.cancel)

        job = self.runner.submit("Reviewing risks", work, resource="model", on_progress=panel.on_progress,
                                 on_result=lambda r: panel.show_report(doc_id, r), on_error=self._review_failed)
        job.cancelled.connect(panel.end)
        return job

    def _review_failed(self: "MainWindow", err: BaseException) -> None:
        self.risk_panel.end()
        self.show_error(err)

    def export_register(self: "MainWindow", fmt: str, path: str | None = None) -> Any:
        from PySide6.QtWidgets import QFileDialog

        from app.gui.widgets.risk_panel import EXPORT_FORMATS

        ids = [d.id for d in self.library.records(self.library.selected_ids()) if d.status == "indexed"]
        ids = ids or ([self.risk_panel.doc_id] if self.risk_panel.doc_id else [])
        if not ids:
            self.show_error("Select the indexed documents whose risks you want to export, then export again.")
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export risk register", f"risk-register.{fmt}",
                                                  EXPORT_FORMATS[fmt])
            if not path:
                return None

        def work(ctx):  # type: ignore[no-untyped-def]
            return self.service.export_register(ids, path, fmt, on_progress=ctx.on_progress, cancel=ctx.cancel)

        return self.runner.submit("Exporting risk register", work, resource="model", on_error=self.show_error,
                                  on_result=lambda _r: self.statusBar().showMessage(f"Saved {path}", 8000))

    # -- model ----------------------------------------------------------------------
    def load_model(self: "MainWindow", path: str | None = None) -> Any:
        """Load (or switch) the model in the background; the status bar shows the result."""
        def work(ctx):  # type: ignore[no-untyped-def]
            if path is not None:  # settings changed: drop the old engine, build the new one
                self.service.set_model(path)
            llm = self.service.llm
            return llm.load() if hasattr(llm, "load") else llm.info

        self.status.set_model("loading…", state="loading")
        return self.runner.submit("Loading the model", work, resource="model",
                                  on_result=self._model_loaded, on_error=self._model_failed)

    def _model_loaded(self: "MainWindow", info: Any) -> None:
        self._model_name = model_display_name(info, self.service.settings)
        tip = "\n".join(x for x in (getattr(info, "path", ""), model_facts(info)) if x)
        self.status.set_model(self._model_name, state="ready", tip=tip)

    def _model_failed(self: "MainWindow", err: BaseException) -> None:
        self.status.set_model("not loaded (see the message)", state="failed")
        self.show_error(err)

    @staticmethod
    def error_text(err: BaseException | str) -> str:
        if isinstance(err, str):
            return err
        if isinstance(err, DossierError):
            return str(err)
        return (f"Something unexpected went wrong ({type(err).__name__}: {err}). "
                "Try again; if it keeps happening, send the log file (Help ▸ Open log folder) to support.")


_PER_DOC = 1000  # progress units per document in the overall ingest progress


#: Where each stage of one document sits in its share of the bar: reading pages is quick,
#: OCR (scanned pages only) and embedding are the long parts.
_STAGES = {"parse": (0.0, 0.1), "ocr": (0.1, 0.6), "embed": (0.1, 1.0)}


def overall_progress(emit: Any) -> Any:
    """A ProgressFn that folds the ingest's per-document events (documents, then pages, OCR'd
    pages and chunks of the current one) into one bar over the whole run that only moves
    forward: document i of n, and how far it is (stages weighted by :data:`_STAGES`; after OCR,
    embedding fills the rest). Events about another document (the next one is read ahead)
    are not drawn. The window counts ``done // 1000`` to notice each committed document, so
    coalescing events (the job throttles them) can never hide one."""
    state: dict[str, Any] = {"i": 0, "n": 1, "name": "", "ocr": False, "frac": 0.0}

    def on_progress(p: Progress) -> None:
        detail = ""
        if p.stage == "document":
            state.update(i=p.done, n=max(1, p.total), ocr=False, frac=0.0)
            if p.document:
                state["name"] = Path(p.document).name
        elif p.document and Path(p.document).name != state["name"]:
            return  # the read-ahead of the next document
        elif p.total:
            state["ocr"] = state["ocr"] or p.stage == "ocr"
            lo, hi = _STAGES.get(p.stage, (0.0, 1.0))
            if p.stage == "embed" and state["ocr"]:
                lo = _STAGES["ocr"][1]
            state["frac"] = max(state["frac"], min(0.99, lo + (hi - lo) * p.done / p.total))
            detail = f": {p.message}" if p.stage == "ocr" and p.message else f": {p.done:,}/{p.total:,} {p.unit}"
        i, n = state["i"], state["n"]
        if i >= n:
            emit(Progress("ingest", n * _PER_DOC, n * _PER_DOC, "", "finishing", p.document))
            return
        emit(Progress("ingest", i * _PER_DOC + int(state["frac"] * _PER_DOC), n * _PER_DOC, "",
                      f"{state['name']} ({i + 1} of {n}){detail}", p.document))

    return on_progress


def model_display_name(info: Any, settings: Any) -> str:
    """What the status bar calls the model (see ``ModelInfo.display_name``), marked "bundled"
    for the default."""
    name = getattr(info, "display_name", "") or getattr(info, "name", "") or "model"
    bundled = not getattr(settings, "llm_model", "") and not getattr(settings, "llm_remote_url", "")
    return name + (" (bundled)" if bundled else "")


def model_facts(info: Any) -> str:
    params = getattr(info, "parameters", 0) or 0
    parts = [f"{params / 1e9:.1f} B parameters" if params >= 1e9 else (f"{params / 1e6:.0f} M parameters" if params else ""),
             getattr(info, "quantization", ""),
             f"context {info.n_ctx:,} tokens" if getattr(info, "n_ctx", 0) else ""]
    return ", ".join(p for p in parts if p)
