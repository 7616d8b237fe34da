"""How long does the window freeze while documents are indexed?

Opens the real window offscreen on a fresh data folder, ingests PDFs (default: the
FinanceBench folder beside the repository) through the GUI's job mechanism, exactly as a drop
on the window does, and measures event-loop stalls with a 10 ms lag probe. Target: max stall
≤ 100 ms.

    .venv/bin/python bench/gui_responsiveness.py --out /tmp/gui_resp.json --limit 3
    .venv/bin/python bench/gui_responsiveness.py --data /some/pdfs --fake-embedder
    .venv/bin/python bench/gui_responsiveness.py --limit 3 --no-isolate   # Chroma + embedder in-process

Writes JSON: {"max_stall_ms", "p99_stall_ms", "pages", "seconds", ...}.

Where a stall comes from (Linux): every tick also reads the GUI thread's scheduler counters
(``/proc/thread-self/schedstat``), so each late tick splits into time the GUI thread ran
(``cpu``: work on the GUI thread), time it was runnable but had no core (``runqueue``: other
processes on a busy machine) and the rest (``blocked``: waiting for the GIL or a lock — what
the application itself causes). ``max_blocked_ms`` is the worst stall the app caused itself.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import emit  # noqa: E402

DEFAULT_PDFS = Path(__file__).resolve().parents[2] / "shared" / "bench" / "financebench" / "pdfs"
TARGET_MS = 100.0
_SCHEDSTAT = Path("/proc/thread-self/schedstat")


def _pdfs(folder: Path, limit: int | None) -> list[Path]:
    files = sorted(p for p in folder.rglob("*.pdf"))
    return files[:limit] if limit else files


def _schedstat() -> tuple[float, float] | None:
    """(ms on a CPU, ms waiting for a CPU) of the calling thread, or None off Linux."""
    try:
        run, wait, _ = _SCHEDSTAT.read_text().split()
    except (OSError, ValueError):
        return None
    return int(run) / 1e6, int(wait) / 1e6


def attributing_probe():  # type: ignore[no-untyped-def]
    """A LagProbe that also records, per tick, how the late time divides into cpu / runqueue /
    blocked (see the module docstring)."""
    from app.gui.lag_probe import LagProbe

    class AttributingProbe(LagProbe):
        def start(self) -> None:
            self.ticks: list[tuple[float, float, float, float]] = []  # (t, late, cpu, runqueue)
            self._sched = _schedstat()
            super().start()

        def _tick(self) -> None:
            now = time.perf_counter()
            late = max(0.0, (now - self._last) * 1000.0 - self.interval_ms)
            sched = _schedstat()
            cpu = wait = None
            if sched is not None and self._sched is not None:
                cpu, wait = round(sched[0] - self._sched[0], 1), round(sched[1] - self._sched[1], 1)
            # every tick is kept; without counters (off Linux, or a failed read) it counts as blocked
            self.ticks.append((round(now - self._start, 2), round(late, 1), cpu, wait))
            self._sched = sched
            super()._tick()

        def blocked_ms(self) -> list[float]:
            """Per tick: late time not explained by running or waiting for a core."""
            return [late if cpu is None else max(0.0, late - max(0.0, cpu - 1.0) - wait)
                    for _t, late, cpu, wait in self.ticks]

    return AttributingProbe(10)


def _warm(window, timeout_s: float) -> float:  # type: ignore[no-untyped-def]
    """Load the embedder and Chroma first (a job, like any other) and return the seconds it
    took, so the measurement shows steady-state ingest without the one-off start-up."""
    lib = window.service.library
    t0 = time.perf_counter()
    window.runner.submit("warm-up", lambda _ctx: (lib.embedder.embed(["warm up"]), lib.vectors))
    window.runner.wait_idle(timeout_s)
    return time.perf_counter() - t0


def run(pdfs: list[Path], fake_embedder: bool, timeout_s: float, warm: bool = False,
        isolate: bool = True) -> dict[str, object]:
    from app.gui.main import _app, create_window

    app = _app()
    embedder = None
    if fake_embedder:
        from app.embed.fake import FakeEmbedder

        embedder = FakeEmbedder()
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    with tempfile.TemporaryDirectory(prefix="dossier-guibench-") as data:
        window = create_window(data, sample=False, embedder=embedder, preload_model=False, isolate_index=isolate)
        window.show()
        window.runner.wait_idle(60)  # the first library read
        app.processEvents()
        warm_s = _warm(window, timeout_s) if warm else None
        probe = attributing_probe()
        probe.start()
        t0 = time.perf_counter()
        job = window.add_files([str(p) for p in pdfs])
        finished = window.runner.wait_idle(timeout_s)
        seconds = time.perf_counter() - t0
        probe.stop()
        if not finished:
            window.runner.cancel_all()
            window.runner.wait_idle(60)
        result = _result(window, job, probe, finished, seconds, fake_embedder, warm_s)
        result["isolated_index"] = isolate
        result["load_avg_before"] = load_before
        result["load_avg_after"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        window.close()
    return result


def _result(window, job, probe, finished: bool, seconds: float, fake_embedder: bool,  # type: ignore[no-untyped-def]
            warm_s: float | None) -> dict[str, object]:
    docs = window.service.documents()
    summary = job.result
    blocked = probe.blocked_ms()
    over = [list(t) for t in probe.ticks if t[1] > TARGET_MS]
    return {
        "max_stall_ms": round(probe.max_ms(), 1),
        "p99_stall_ms": round(probe.percentile_ms(99), 1),
        "pages": sum(d.page_count for d in docs if d.status == "indexed"),
        "seconds": round(seconds, 1),
        "documents": len([d for d in docs if d.status == "indexed"]),
        "failed": len(summary.failed) if summary is not None else None,
        "finished": finished,
        "ticks": len(probe.stalls_ms),
        "stalls_over_target": len(over),
        "max_blocked_ms": round(max(blocked, default=0.0), 1),
        "p99_blocked_ms": round(sorted(blocked)[int(0.99 * (len(blocked) - 1))], 1) if blocked else 0.0,
        "embedder": "fake" if fake_embedder else window.service.settings.embedder,
        "target_max_stall_ms": TARGET_MS,
        "meets_target": probe.max_ms() <= TARGET_MS,
        "warmed_first_s": None if warm_s is None else round(warm_s, 1),
        "cpus": os.cpu_count(),
        #: [seconds after the drop, ms late, GUI-thread ms on a CPU, ms waiting for a CPU] (first 50)
        "stalls_over_target_detail": over[:50],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_PDFS, help="folder of PDFs to ingest")
    ap.add_argument("--out", type=Path, default=None, help="write the JSON result here")
    ap.add_argument("--limit", type=int, default=None, help="only the first N PDFs (sorted by name)")
    ap.add_argument("--fake-embedder", action="store_true", help="hashing embedder instead of MiniLM")
    ap.add_argument("--no-isolate", action="store_true",
                    help="Chroma and the embedder in the app's process (as before the helper process), to compare")
    ap.add_argument("--warm", action="store_true",
                    help="load the embedder and Chroma before measuring (excludes the one-off start-up)")
    ap.add_argument("--timeout", type=float, default=3600.0, help="give up (and cancel) after this many seconds")
    args = ap.parse_args(argv)
    if not args.data.is_dir():
        print(f"{args.data} is not a folder (FinanceBench lives in ../shared/bench)", file=sys.stderr)
        return 2
    pdfs = _pdfs(args.data, args.limit)
    result = run(pdfs, args.fake_embedder, args.timeout, args.warm, isolate=not args.no_isolate)
    result["data"] = str(args.data)
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
