"""The one job mechanism: run slow service calls off the GUI thread.

Why: the GUI thread must never block (the window has to stay responsive while a 300-page
10-K is indexed or the model streams an answer), and worker threads must never touch
widgets. A job's function runs on a ``QThreadPool`` thread and receives a
:class:`JobContext` (``on_progress``, ``cancel``, ``stream``, ``partial``); progress,
streamed text, partial results (e.g. an answer's evidence before the model writes), the
result and the error arrive as Qt signals, queued onto the GUI thread in the order sent.

Throttling: progress and streamed text are coalesced on the worker side and emitted at
most every ``THROTTLE_S`` seconds, so a fast producer cannot flood the event loop.

Single-writer resources (the model, the index writer) run one job at a time: jobs with the
same ``resource`` wait in a queue until the previous one finishes.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QElapsedTimer, QObject, QRunnable, QThreadPool, Signal

from app.errors import Cancelled
from app.types import CancelToken, Progress

log = logging.getLogger(__name__)

THROTTLE_S = 0.05  # ≤ 20 progress/stream signals per second per job
_ids = itertools.count(1)


class JobContext:
    """What a job function gets: report progress, stream text, check for cancel."""

    def __init__(self, job: "Job") -> None:
        self._job = job
        self.cancel: CancelToken = job.cancel_token
        self._lock = threading.Lock()
        self._last_emit = 0.0
        self._pending_progress: Progress | None = None
        self._pending_text: list[str] = []

    def on_progress(self, progress: Progress) -> None:
        """A :data:`app.types.ProgressFn`; emits at most every THROTTLE_S (the last one always)."""
        with self._lock:
            self._pending_progress = progress
        self._maybe_flush(final=progress.total > 0 and progress.done >= progress.total)

    def stream(self, text: str) -> None:
        """Append streamed text (e.g. answer tokens); delivered in throttled batches."""
        with self._lock:
            self._pending_text.append(text)
        self._maybe_flush()

    def partial(self, value: Any) -> None:
        """Deliver an intermediate result now (not throttled: meant for a few per job). Text
        and progress sent before it are delivered first."""
        self.flush()
        self._job.partial.emit(value)

    def _maybe_flush(self, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last_emit < THROTTLE_S:
            return
        self.flush()

    def flush(self) -> None:
        with self._lock:
            progress, self._pending_progress = self._pending_progress, None
            text, self._pending_text = "".join(self._pending_text), []
            self._last_emit = time.monotonic()
        if progress is not None:
            self._job.last_progress = progress
            self._job.progressed.emit(progress)
        if text:
            self._job.streamed.emit(text)


class Job(QObject):
    """One unit of background work. Lives on the GUI thread; its signals are emitted from
    the worker and therefore queued to the GUI thread."""

    progressed = Signal(object)  # Progress
    streamed = Signal(str)
    partial = Signal(object)  # an intermediate result (JobContext.partial)
    succeeded = Signal(object)  # the function's return value
    failed = Signal(object)  # the exception
    cancelled = Signal()
    finished = Signal(object)  # self, always last

    def __init__(self, title: str, fn: Callable[[JobContext], Any], resource: str | None = None,
                 quiet: bool = False) -> None:
        super().__init__()
        #: quick housekeeping jobs (e.g. re-reading the library) are not listed in the status bar
        self.quiet = quiet
        self.id = next(_ids)
        self.title = title
        self.fn = fn
        self.resource = resource
        self.cancel_token = CancelToken()
        self.state = "queued"  # running, done, failed, cancelled
        self.last_progress: Progress | None = None
        self.result: Any = None
        self.error: BaseException | None = None

    def cancel(self) -> None:
        self.cancel_token.cancel()

    @property
    def is_finished(self) -> bool:
        return self.state in ("done", "failed", "cancelled")

    def fraction(self) -> float | None:
        p = self.last_progress
        if p is None or p.total <= 0:
            return None
        return max(0.0, min(1.0, p.done / p.total))


class _Runnable(QRunnable):
    def __init__(self, job: Job, relay: "_Relay") -> None:
        super().__init__()
        self.setAutoDelete(False)  # the runner keeps the reference until the job ends
        self.job = job
        self.relay = relay

    def run(self) -> None:  # worker thread
        job, ctx = self.job, JobContext(self.job)
        try:
            result = job.fn(ctx)
            ctx.flush()
            # a cancelled ingest still returns what it added: deliver it as a result
            self.relay.ended.emit(job, "done", result)
        except Cancelled as err:
            ctx.flush()
            self.relay.ended.emit(job, "cancelled", err)
        except BaseException as err:  # noqa: BLE001 - delivered to the GUI as an error
            ctx.flush()
            log.exception("job %r failed", job.title)
            self.relay.ended.emit(job, "failed", err)


class _Relay(QObject):
    ended = Signal(object, str, object)


class JobRunner(QObject):
    """Queues jobs, runs them on a thread pool (one at a time per resource), reports them."""

    job_added = Signal(object)
    job_changed = Signal(object)
    job_removed = Signal(object)

    def __init__(self, max_threads: int = 4, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._relay = _Relay(self)
        self._relay.ended.connect(self._on_ended)
        self._queue: list[Job] = []
        self._running: dict[int, _Runnable] = {}
        self._busy: set[str] = set()

    # -- public ---------------------------------------------------------------------
    def submit(self, title: str, fn: Callable[[JobContext], Any], *, resource: str | None = None,
               on_result: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None,
               on_progress: Callable[[Progress], None] | None = None,
               on_stream: Callable[[str], None] | None = None,
               on_partial: Callable[[Any], None] | None = None, quiet: bool = False) -> Job:
        job = Job(title, fn, resource, quiet)
        if on_result:
            job.succeeded.connect(on_result)
        if on_error:
            job.failed.connect(on_error)
        if on_progress:
            job.progressed.connect(on_progress)
        if on_stream:
            job.streamed.connect(on_stream)
        if on_partial:
            job.partial.connect(on_partial)
        job.progressed.connect(lambda _p, j=job: self.job_changed.emit(j))
        self._queue.append(job)
        self.job_added.emit(job)
        self._pump()
        return job

    def jobs(self) -> list[Job]:
        return [r.job for r in self._running.values()] + list(self._queue)

    def cancel(self, job: Job) -> None:
        job.cancel()
        if job in self._queue:  # never started: end it now
            self._queue.remove(job)
            self._finish(job, "cancelled", None)

    def cancel_all(self) -> None:
        for job in self.jobs():
            self.cancel(job)

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Process events until no job is queued or running (tests, benchmarks, shutdown)."""
        timer = QElapsedTimer()
        timer.start()
        while self.jobs():
            if timer.elapsed() > timeout_s * 1000:
                return False
            QCoreApplication.processEvents()
            time.sleep(0.005)
        return True

    # -- internals ------------------------------------------------------------------
    def _pump(self) -> None:
        for job in list(self._queue):
            if job.resource is not None and job.resource in self._busy:
                continue
            self._queue.remove(job)
            if job.cancel_token.cancelled:
                self._finish(job, "cancelled", None)
                continue
            if job.resource is not None:
                self._busy.add(job.resource)
            runnable = _Runnable(job, self._relay)
            self._running[job.id] = runnable
            job.state = "running"
            self.job_changed.emit(job)
            self.pool.start(runnable)

    def _on_ended(self, job: Job, state: str, payload: object) -> None:
        self._running.pop(job.id, None)
        if job.resource is not None:
            self._busy.discard(job.resource)
        self._finish(job, state, payload)
        self._pump()

    def _finish(self, job: Job, state: str, payload: object) -> None:
        job.state = state
        if state == "done":
            job.result = payload
            job.succeeded.emit(payload)
        elif state == "failed":
            job.error = payload  # type: ignore[assignment]
            job.failed.emit(payload)
        else:
            job.cancelled.emit()
        job.finished.emit(job)
        self.job_removed.emit(job)
