"""A non-blocking notice for jobs that a crash or a kill cut short (app/jobs_journal.py).

When the window opens and an earlier ingest, question, summary or review never finished,
a slim bar under the menu lists them, each with Resume and Dismiss; the window stays fully
usable. Resume runs the job again through the window's own actions, so progress, the answer
or the report appear where they always do; when that run completes, the journal closes the
old entry by itself (a repeat settles it). A password is never stored: a resumed ingest
marks the encrypted files as needing one, as any ingest does.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QToolBar, QVBoxLayout, QWidget


class InterruptedNotice(QToolBar):
    def __init__(self, window: Any) -> None:
        super().__init__("Interrupted jobs", window)
        self.setObjectName("interruptedNotice")
        self.setMovable(False)
        self.setFloatable(False)
        self.window_ = window
        self.jobs: list[Any] = []
        self.rows: dict[int, QWidget] = {}
        self._box = QWidget(self)
        self._layout = QVBoxLayout(self._box)
        self._layout.setContentsMargins(8, 2, 8, 2)
        self.addWidget(self._box)
        self.hide()

    def set_jobs(self, jobs: list[Any]) -> None:
        """Show one row per interrupted job (the bar hides itself when there are none)."""
        for row in self.rows.values():
            row.deleteLater()
        self.jobs, self.rows = list(jobs), {}
        for job in self.jobs:
            self.rows[job.id] = self._row(job)
            self._layout.addWidget(self.rows[job.id])
        self.setVisible(bool(self.jobs))

    def _row(self, job: Any) -> QWidget:
        row = QWidget(self._box)
        lay = QHBoxLayout(row)
        lay.setContentsMargins(0, 0, 0, 0)
        label = QLabel(f"⚠ An earlier {job.describe()} was interrupted (the app stopped before it finished).", row)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        resume, dismiss = QPushButton("Resume", row), QPushButton("Dismiss", row)
        resume.clicked.connect(lambda _=False, j=job: self.resume(j))
        dismiss.clicked.connect(lambda _=False, j=job: self.dismiss(j))
        lay.addWidget(label, 1)
        lay.addWidget(resume)
        lay.addWidget(dismiss)
        return row

    def resume(self, job: Any) -> Any:
        """Run the job again with the window's own action for its kind."""
        w, a = self.window_, job.args
        self._drop(job)
        if job.kind == "ingest":
            return w.add_files(a.get("paths", []))
        panel = {"ask": w.ask_panel, "summarize": w.summary_panel, "review": w.risk_panel}[job.kind]
        w.tabs.setCurrentWidget(panel)
        if job.kind == "ask":
            return w.ask(a.get("question", ""))
        return w.summarize(a["doc_id"]) if job.kind == "summarize" else w.review(a["doc_id"])

    def dismiss(self, job: Any) -> Any:
        self._drop(job)
        return self.window_.runner.submit("Dismissing an interrupted job", lambda _ctx: self.window_.service.dismiss(job.id),
                                          on_error=self.window_.show_error, quiet=True)

    def _drop(self, job: Any) -> None:
        self.jobs = [j for j in self.jobs if j.id != job.id]
        row = self.rows.pop(job.id, None)
        if row is not None:
            row.deleteLater()
        self.setVisible(bool(self.jobs))


def attach(window: Any) -> InterruptedNotice:
    """Add the bar to ``window`` and fill it from the journal in a quiet job (never on the
    GUI thread: the journal is a database file)."""
    notice = InterruptedNotice(window)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, notice)
    window.runner.submit("Looking for interrupted jobs", lambda _ctx: window.service.interrupted_jobs(),
                         on_result=notice.set_jobs, quiet=True)
    return notice
