"""Event-loop lag probe: a 10 ms timer that records how late each tick fires.

Why: "the window never freezes" needs a number. Any work done on the GUI thread (or a
worker holding the GIL too long, or a flood of queued signals) shows up as a late tick.
Used by ``bench/gui_responsiveness.py``; set ``DOSSIER_LAG_PROBE=1`` to log stalls > 100 ms
while using the app.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QObject, Qt, QTimer

log = logging.getLogger(__name__)


class LagProbe(QObject):
    def __init__(self, interval_ms: int = 10, log_over_ms: float | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.log_over_ms = log_over_ms
        self.stalls_ms: list[float] = []
        #: (seconds since start, ms late) of every tick later than ``log_over_ms`` (or 100 ms)
        self.big_stalls: list[tuple[float, float]] = []
        self._start = 0.0
        self._last = 0.0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.stalls_ms.clear()
        self.big_stalls.clear()
        self._last = self._start = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        late = max(0.0, (now - self._last) * 1000.0 - self.interval_ms)
        self._last = now
        self.stalls_ms.append(late)
        if late > (self.log_over_ms if self.log_over_ms is not None else 100.0):
            self.big_stalls.append((round(now - self._start, 2), round(late, 1)))
            if self.log_over_ms is not None:
                log.warning("GUI event loop stalled for %.0f ms", late)

    def max_ms(self) -> float:
        return max(self.stalls_ms, default=0.0)

    def percentile_ms(self, q: float) -> float:
        if not self.stalls_ms:
            return 0.0
        data = sorted(self.stalls_ms)
        return data[min(len(data) - 1, int(round(q / 100.0 * (len(data) - 1))))]
