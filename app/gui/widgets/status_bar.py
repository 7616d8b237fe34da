"""The status bar: model and its speed, index size, background jobs with progress and Cancel."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QSizePolicy, QMenu, QProgressBar, QStatusBar, QToolButton, QWidget

from app.gui.jobs import Job, JobRunner


class StatusBar(QStatusBar):
    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.model_label = QLabel("Model: not loaded")
        self.index_label = QLabel("")
        self.job_label = QLabel("")
        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(160)
        self.progress.setVisible(False)
        self.cancel_button = QToolButton(self)
        self.cancel_button.setText("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self._cancel_current)
        self.jobs_button = QToolButton(self)
        self.jobs_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.jobs_button.setVisible(False)
        self.jobs_menu = QMenu(self.jobs_button)
        self.jobs_button.setMenu(self.jobs_menu)
        self.jobs_menu.aboutToShow.connect(self._fill_menu)
        for label in (self.model_label, self.index_label, self.job_label):
            # long texts must not make the window's minimum width grow
            label.setMinimumWidth(60)
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.addWidget(self.model_label, 1)
        self.addWidget(self.index_label, 1)
        for w in (self.job_label, self.progress, self.cancel_button, self.jobs_button):
            self.addPermanentWidget(w)
        runner.job_added.connect(self.refresh_jobs)
        runner.job_changed.connect(self.refresh_jobs)
        runner.job_removed.connect(self.refresh_jobs)

    def set_model(self, name: str, tokens_per_s: float | None = None) -> None:
        speed = f" — {tokens_per_s:.1f} tokens/s" if tokens_per_s else ""
        self.model_label.setText(f"Model: {name}{speed}")

    def set_index(self, documents: int, pages: int, chunks: int) -> None:
        s = "" if documents == 1 else "s"
        self.index_label.setText(f"Index: {documents} document{s}, {pages} pages, {chunks} passages")

    def visible_jobs(self) -> list[Job]:
        return [j for j in self.runner.jobs() if not j.quiet]

    def current_job(self) -> Job | None:
        jobs = self.visible_jobs()
        running = [j for j in jobs if j.state == "running"]
        return (running or jobs or [None])[0]

    def refresh_jobs(self, *_args: object) -> None:
        job, jobs = self.current_job(), self.visible_jobs()
        visible = job is not None
        for w in (self.job_label, self.progress, self.cancel_button):
            w.setVisible(visible)
        self.jobs_button.setVisible(len(jobs) > 1)
        self.jobs_button.setText(f"+{len(jobs) - 1} more")
        if job is None:
            return
        p = job.last_progress
        detail = f": {p.message}" if p is not None and p.message else ""
        self.job_label.setText(f"{job.title}{detail}" if job.state == "running" else f"{job.title} (waiting)")
        frac = job.fraction()
        if frac is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(frac * 1000))

    def _cancel_current(self) -> None:
        job = self.current_job()
        if job is not None:
            self.runner.cancel(job)

    def _fill_menu(self) -> None:
        self.jobs_menu.clear()
        for job in self.visible_jobs():
            self.jobs_menu.addAction(f"Cancel: {job.title} ({job.state})", lambda j=job: self.runner.cancel(j))
