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
            return self.service.ingest(paths, password=password, on_progress=ctx.on_progress, cancel=ctx.cancel)

        return self.runner.submit(title, work, resource="index", on_result=self._ingest_done,
                                  on_error=self.show_error, on_progress=self._ingest_progress)

    def _ingest_progress(self: "MainWindow", p: Progress) -> None:
        if p.stage == "document" and p.done != self._last_doc_progress:
            self._last_doc_progress = p.done
            self.refresh_documents(background=True)  # documents appear as each one is committed

    def _ingest_done(self: "MainWindow", summary: Any) -> None:
        self._last_doc_progress = -1
        self.refresh_documents()
        if summary.added and self.viewer.doc_id is None:
            self.library.select(summary.added[0].id)
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
        docs = [d for d in (self.service.document(i) for i in doc_ids) if d is not None]
        if not docs:
            return None

        def work(ctx):  # type: ignore[no-untyped-def]
            for d in docs:
                if d.status == "indexed":
                    self.service.remove(d.id)
            return self.service.ingest([d.path for d in docs], password=password,
                                       on_progress=ctx.on_progress, cancel=ctx.cancel)

        return self.runner.submit(f"Re-indexing {len(docs)} document(s)", work, resource="index",
                                  on_result=self._ingest_done, on_error=self.show_error)

    def ask_password(self: "MainWindow", doc_id: str) -> None:
        from app.gui.widgets.password_dialog import PasswordDialog

        doc = self.service.document(doc_id)
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
        scope = self.library.selected_ids() or None
        conversation = self._conversation
        self.ask_panel.begin(question)

        def work(ctx):  # type: ignore[no-untyped-def]
            return self.service.ask(question, doc_ids=scope, conversation=conversation, on_token=ctx.stream,
                                    on_progress=ctx.on_progress, cancel=ctx.cancel)

        self._ask_job = self.runner.submit(f"Answering: {question[:40]}", work, resource="model",
                                           on_result=self._answer_done, on_stream=self.ask_panel.append_text,
                                           on_error=lambda e: self.ask_panel.show_error(self.error_text(e)))
        self._ask_job.cancelled.connect(lambda: self.ask_panel.show_error("Stopped."))
        return self._ask_job

    def _answer_done(self: "MainWindow", answer: Any) -> None:
        self.ask_panel.show_answer(answer)
        stats = getattr(answer, "stats", {}) or {}
        tokens, secs = stats.get("answer_tokens", 0), stats.get("generate_s", 0)
        if not (tokens and secs):  # the engine's own numbers, if it is loaded (never load it here)
            last = getattr(getattr(self.service, "_llm", None), "last_stats", None)
            tokens, secs = getattr(last, "generated_tokens", 0), getattr(last, "generation_seconds", 0.0)
        if tokens and secs:
            self.status.set_model(getattr(answer, "model", "") or self._model_name, tokens / secs)

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

        ids = self.library.selected_ids() or ([self.risk_panel.doc_id] if self.risk_panel.doc_id else [])
        if not ids:
            self.show_error("Select the documents whose risks you want to export.")
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export risk register", f"risk-register.{fmt}",
                                                  EXPORT_FORMATS[fmt])
            if not path:
                return None

        def work(ctx):  # type: ignore[no-untyped-def]
            return self.service.export_register(ids, path, fmt)

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

        self.status.set_model("loading…")
        return self.runner.submit("Loading the model", work, resource="model",
                                  on_result=self._model_loaded, on_error=self._model_failed)

    def _model_loaded(self: "MainWindow", info: Any) -> None:
        self._model_name = getattr(info, "name", "") or "model"
        self.status.set_model(self._model_name)

    def _model_failed(self: "MainWindow", err: BaseException) -> None:
        self.status.set_model("not loaded (see the error)")
        self.show_error(err)

    @staticmethod
    def error_text(err: BaseException | str) -> str:
        if isinstance(err, str):
            return err
        if isinstance(err, DossierError):
            return str(err)
        return (f"Something unexpected went wrong ({type(err).__name__}: {err}). "
                "Try again; if it keeps happening, send the log file (Help ▸ Open log folder) to support.")
