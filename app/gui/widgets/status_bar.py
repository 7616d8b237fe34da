"""The status bar: model and its speed, index size, background jobs with progress and Cancel."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMenu, QProgressBar, QSizePolicy, QStatusBar, QToolButton, QWidget

from app.gui.jobs import Job, JobRunner
from app.gui.widgets.elided_label import ElidedLabel

INDEX_LABEL_MIN = 160  # px: what the index label asks for at least, so the bar fits a narrow window
MODEL_STATES = {"ready": "#2b9348", "loading": "#d08c00", "failed": "#c62828", "idle": "#888888"}


class StatusBar(QStatusBar):
    """Model (dot + name + speed) | index size | a passing message ....... current job, its
    progress, Cancel, and "+N more" for the others.

    ``showMessage`` is routed to a label of its own: QStatusBar's built-in message would hide
    the model and index labels while it shows."""

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.setSizeGripEnabled(False)
        self.model_dot = QLabel("●")
        self.model_label = ElidedLabel("Model: not loaded")
        self.index_label = ElidedLabel("")  # whole when there is room, elided on a narrow window
        self.index_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.index_label.setMinimumWidth(INDEX_LABEL_MIN)
        self.message_label = ElidedLabel("")
        self.message_label.setStyleSheet("color: palette(highlight)")
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.timeout.connect(lambda: self.message_label.setText(""))
        self.addWidget(self.model_dot)
        self.addWidget(self.model_label, 3)
        self.addWidget(_separator(self))
        self.addWidget(self.index_label)
        self.addWidget(self.message_label, 3)
        self.addPermanentWidget(self._job_area())
        self.set_model("not loaded", state="idle")
        runner.job_added.connect(self.refresh_jobs)
        runner.job_changed.connect(self.refresh_jobs)
        runner.job_removed.connect(self.refresh_jobs)

    def _job_area(self) -> QWidget:
        """One box for the job widgets, so showing and hiding them never upsets the bar's layout."""
        box = QWidget(self)
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        self.job_label = _JobLabel("")
        self.job_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.progress = _JobProgress(box)
        self.progress.setTextVisible(True)
        self.cancel_button = QToolButton(box)
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Cancel this job (work already finished is kept)")
        self.cancel_button.clicked.connect(self._cancel_current)
        self.jobs_button = QToolButton(box)
        self.jobs_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.jobs_button.setToolTip("Other background jobs")
        self.jobs_menu = QMenu(self.jobs_button)
        self.jobs_button.setMenu(self.jobs_menu)
        self.jobs_menu.aboutToShow.connect(self._fill_menu)
        for w in (self.job_label, self.progress, self.cancel_button, self.jobs_button):
            row.addWidget(w)
            w.setVisible(False)
        return box

    def showMessage(self, text: str, timeout: int = 0) -> None:  # noqa: N802 - Qt naming
        self.message_label.setText(text)
        if timeout > 0:
            self._message_timer.start(timeout)
        else:
            self._message_timer.stop()

    def currentMessage(self) -> str:  # noqa: N802 - Qt naming
        return self.message_label.text()

    def set_model(self, name: str, tokens_per_s: float | None = None, state: str | None = None, tip: str = "") -> None:
        """``state``: ready, loading, failed or idle (the coloured dot); None keeps the current one."""
        speed = f" — {tokens_per_s:.1f} tokens/s" if tokens_per_s else ""
        self.model_label.setText(f"Model: {name}{speed}")
        if tip:
            self.model_label.setToolTip(tip)
        if state is not None:
            self.model_state = state
            self.model_dot.setStyleSheet(f"color: {MODEL_STATES.get(state, '#888888')}")
            self.model_dot.setToolTip({"ready": "The model is loaded", "loading": "The model is loading",
                                       "failed": "The model could not be loaded",
                                       "idle": "The model loads when first needed"}.get(state, ""))

    def set_index(self, documents: int, pages: int, chunks: int) -> None:
        s = "" if documents == 1 else "s"
        self.index_label.setText(f"Index: {documents} document{s}, {pages:,} pages, {chunks:,} passages")

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
            self.progress.setRange(0, 0)  # busy indicator: no count to show yet
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(frac * 1000))
            self.progress.setFormat(f"{p.done:,}/{p.total:,} {p.unit}".strip() if p is not None and p.unit else "%p%")

    def _cancel_current(self) -> None:
        job = self.current_job()
        if job is not None:
            self.runner.cancel(job)

    def _fill_menu(self) -> None:
        self.jobs_menu.clear()
        for job in self.visible_jobs():
            self.jobs_menu.addAction(f"Cancel: {job.title} ({job.state})", lambda j=job: self.runner.cancel(j))


class _UpToWidth:
    """Mixin for the job widgets: WIDTH px when the window has room, down to MIN_WIDTH when it
    has not, so a running job never makes the window wider; the size hint is WIDTH whatever
    the widget shows, so progress updates never shift the bar."""

    WIDTH = MIN_WIDTH = 0

    def _fit_widths(self) -> None:
        self.setMinimumWidth(self.MIN_WIDTH)  # type: ignore[attr-defined]
        self.setMaximumWidth(self.WIDTH)  # type: ignore[attr-defined]

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt naming
        return QSize(self.WIDTH, super().sizeHint().height())  # type: ignore[misc]


class _JobLabel(_UpToWidth, ElidedLabel):
    """The job's title, elided below 320 px."""

    WIDTH, MIN_WIDTH = 320, 80

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self._fit_widths()
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)


class _JobProgress(_UpToWidth, QProgressBar):
    """The job's progress ("1,234/4,813 pages" fits in 150 px)."""

    WIDTH, MIN_WIDTH = 150, 90

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._fit_widths()


def _separator(parent: QWidget) -> QFrame:
    sep = QFrame(parent)
    sep.setFrameShape(QFrame.Shape.VLine)
    sep.setFrameShadow(QFrame.Shadow.Sunken)
    return sep
