"""The GUI's one job mechanism: results, errors, cancel, one job per resource, throttling."""

from __future__ import annotations

import threading
import time

import conftest_gui  # noqa: F401  (offscreen Qt)
import pytest

from app.errors import DossierError
from app.gui.jobs import JobRunner
from app.types import Progress

pytestmark = pytest.mark.gui


def test_result_arrives_on_gui_thread(qtbot) -> None:  # type: ignore[no-untyped-def]
    runner = JobRunner()
    seen: dict[str, object] = {}

    def on_result(value: object) -> None:
        seen["value"], seen["thread"] = value, threading.current_thread()

    def work(ctx):  # type: ignore[no-untyped-def]
        seen["worker"] = threading.current_thread()
        return 42

    job = runner.submit("answer", work, on_result=on_result)
    with qtbot.waitSignal(job.finished, timeout=5000):
        pass
    assert seen["value"] == 42 and job.state == "done"
    assert seen["thread"] is threading.main_thread() and seen["worker"] is not threading.main_thread()


def test_error_is_delivered_not_raised(qtbot) -> None:  # type: ignore[no-untyped-def]
    runner = JobRunner()
    errors: list[BaseException] = []

    def work(ctx):  # type: ignore[no-untyped-def]
        raise DossierError("The file is broken. Try another one.")

    job = runner.submit("fail", work, on_error=errors.append)
    with qtbot.waitSignal(job.finished, timeout=5000):
        pass
    assert job.state == "failed" and str(errors[0]) == "The file is broken. Try another one."


def test_cancel_running_and_queued_jobs(qtbot) -> None:  # type: ignore[no-untyped-def]
    runner = JobRunner()
    started = threading.Event()

    def slow(ctx):  # type: ignore[no-untyped-def]
        started.set()
        for i in range(500):
            ctx.cancel.raise_if_cancelled()
            ctx.on_progress(Progress("work", i, 500))
            time.sleep(0.01)
        return "finished"

    first = runner.submit("slow", slow, resource="model")
    second = runner.submit("queued", slow, resource="model")
    assert second.state == "queued"  # same resource: waits for the first
    assert started.wait(5)
    runner.cancel(second)
    assert second.state == "cancelled"
    runner.cancel(first)
    assert runner.wait_idle(5)
    assert first.state == "cancelled" and first.result is None


def test_one_job_at_a_time_per_resource(qtbot) -> None:  # type: ignore[no-untyped-def]
    runner = JobRunner()
    active, peak, lock = [0], [0], threading.Lock()

    def work(ctx):  # type: ignore[no-untyped-def]
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1

    for i in range(4):
        runner.submit(f"job {i}", work, resource="index")
    assert runner.wait_idle(10)
    assert peak[0] == 1


def test_progress_and_stream_are_throttled(qtbot) -> None:  # type: ignore[no-untyped-def]
    runner = JobRunner()
    progress: list[Progress] = []
    text: list[str] = []

    def work(ctx):  # type: ignore[no-untyped-def]
        for i in range(5000):
            ctx.on_progress(Progress("embed", i + 1, 5000))
            ctx.stream("x")
        return None

    runner.submit("flood", work, on_progress=progress.append, on_stream=text.append)
    assert runner.wait_idle(10)
    assert len(progress) < 200  # coalesced, not 5000 queued signals
    assert progress[-1].done == 5000  # the last one always arrives
    assert "".join(text) == "x" * 5000  # nothing lost, just batched


def test_partial_result_arrives_in_order_before_the_result(qtbot) -> None:  # type: ignore[no-untyped-def]
    runner = JobRunner()
    events: list[tuple[str, object]] = []

    def work(ctx):  # type: ignore[no-untyped-def]
        ctx.stream("a")  # within the throttle window: held back, then sent before the partial
        ctx.partial(["passage"])
        ctx.stream("b")
        return "answer"

    job = runner.submit("ask", work, on_stream=lambda t: events.append(("text", t)),
                        on_partial=lambda v: events.append(("partial", (v, threading.current_thread()))),
                        on_result=lambda v: events.append(("result", v)))
    with qtbot.waitSignal(job.finished, timeout=5000):
        pass
    assert [e[0] for e in events] == ["text", "partial", "text", "result"]
    assert events[0][1] == "a" and events[2][1] == "b" and events[3][1] == "answer"
    value, thread = events[1][1]  # type: ignore[misc]
    assert value == ["passage"] and thread is threading.main_thread()
