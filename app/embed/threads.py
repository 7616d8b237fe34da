"""Pick the embedder's thread count from measured speed, not from the core count.

Why: on a busy machine (the PDF reader, OCR, a browser, another helper) OpenMP threads wait
for each other at every barrier, and two threads can be *slower* than one. Measured on the
2-core dev machine with load ~7: bf16 MiniLM embedded 8 chunks/s with 2 threads and 19
with 1; on an idle machine 2 threads win. So with ``threads=0`` ("automatic") the embedder
tries each candidate on real batches, keeps the fastest (by tokens per second, so batch
sizes do not bias it) and tries again now and then, because load changes.
"""

from __future__ import annotations

import threading

#: Batches measured per candidate in a probe round, and batches between probe rounds.
PROBE_BATCHES = 2
REPROBE_EVERY = 40


class ThreadChooser:
    """Chooses among ``candidates`` thread counts; thread-safe, cheap (a few floats)."""

    def __init__(self, candidates: list[int]) -> None:
        self.candidates = sorted(set(c for c in candidates if c > 0)) or [1]
        self.best = self.candidates[-1]
        self._rates: dict[int, list[float]] = {}
        self._probing = len(self.candidates) > 1
        self._since_probe = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        """The thread count to use for the next batch."""
        with self._lock:
            if self._probing:
                for c in self.candidates:
                    if len(self._rates.get(c, [])) < PROBE_BATCHES:
                        return c
                self._finish_probe()
            self._since_probe += 1
            if len(self.candidates) > 1 and self._since_probe >= REPROBE_EVERY:
                self._probing, self._rates, self._since_probe = True, {}, 0
            return self.best

    def record(self, threads: int, tokens: int, seconds: float) -> None:
        """Report a finished batch (only probe batches are kept)."""
        if seconds <= 0 or tokens <= 0:
            return
        with self._lock:
            if self._probing and len(self._rates.get(threads, [])) < PROBE_BATCHES:
                self._rates.setdefault(threads, []).append(tokens / seconds)

    def _finish_probe(self) -> None:
        def rate(c: int) -> float:
            r = sorted(self._rates.get(c, []))
            return r[len(r) // 2] if r else 0.0

        self.best = max(self.candidates, key=rate)
        self._probing = False
