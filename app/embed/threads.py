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
#: A probe round costs its slower batches (~2 % of an ingest at 1 probe per 40 batches).
#: When the same count wins again by this factor, the next round waits twice as long, up to
#: MAX_REPROBE_EVERY batches; a batch of the chosen count slower than SLOWDOWN x its probed
#: rate (twice in a row: the machine got busy) starts a round at once.
CLEAR_WIN = 1.5
MAX_REPROBE_EVERY = 320
SLOWDOWN = 0.6


class ThreadChooser:
    """Chooses among ``candidates`` thread counts; thread-safe, cheap (a few floats)."""

    def __init__(self, candidates: list[int]) -> None:
        self.candidates = sorted(set(c for c in candidates if c > 0)) or [1]
        self.best = self.candidates[-1]
        self._rates: dict[int, list[float]] = {}
        self._probing = len(self.candidates) > 1
        self._since_probe = 0
        self.interval = REPROBE_EVERY  # batches until the next probe round
        self._best_rate = 0.0  # tokens/s of ``best`` in the last probe round
        self._slow = 0  # consecutive batches of ``best`` below SLOWDOWN x _best_rate
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
            if len(self.candidates) > 1 and self._since_probe >= self.interval:
                self._start_probe()
            return self.best

    def record(self, threads: int, tokens: int, seconds: float) -> None:
        """Report a finished batch (probe batches are kept; others watch for a slowdown)."""
        if seconds <= 0 or tokens <= 0:
            return
        with self._lock:
            if self._probing:
                if len(self._rates.get(threads, [])) < PROBE_BATCHES:
                    self._rates.setdefault(threads, []).append(tokens / seconds)
            elif threads == self.best and len(self.candidates) > 1 and self._best_rate:
                self._slow = self._slow + 1 if tokens / seconds < SLOWDOWN * self._best_rate else 0
                if self._slow >= 2:
                    self.interval = REPROBE_EVERY
                    self._start_probe()

    def _start_probe(self) -> None:
        self._probing, self._rates, self._since_probe, self._slow = True, {}, 0, 0

    def _finish_probe(self) -> None:
        def rate(c: int) -> float:
            r = sorted(self._rates.get(c, []))
            return r[len(r) // 2] if r else 0.0

        previous = self.best
        self.best = max(self.candidates, key=rate)
        self._best_rate = rate(self.best)
        others = max((rate(c) for c in self.candidates if c != self.best), default=0.0)
        clear = self.best == previous and self._best_rate >= CLEAR_WIN * others
        self.interval = min(MAX_REPROBE_EVERY, self.interval * 2) if clear else REPROBE_EVERY
        self._probing = False
