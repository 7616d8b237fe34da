"""A small progress bar on stderr drawn from the core's :class:`Progress` events."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from app.types import Progress


class ProgressBar:
    """Redraws one line on a terminal; on a pipe, prints one line per document instead."""

    def __init__(self, stream: TextIO | None = None, min_interval: float = 0.1) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.min_interval = min_interval
        self._last = 0.0
        self._doc = ""
        self._doc_pos = (0, 0)

    def __call__(self, ev: Progress) -> None:
        if ev.stage == "document":
            self._doc_pos = (ev.done, ev.total)
            if ev.done < ev.total:
                self._doc = ev.document
                if not self.tty:
                    print(f"[{ev.done + 1}/{ev.total}] {ev.message}", file=self.stream, flush=True)
            return
        if ev.stage == "parse" and ev.message:  # per-page notices (no text layer…)
            self._clear()
            print(f"  {_name(ev.document)}: {ev.message}", file=self.stream, flush=True)
            return
        if not self.tty:
            return
        now = time.monotonic()
        if now - self._last < self.min_interval and ev.done < ev.total:
            return
        self._last = now
        d, n = self._doc_pos
        frac = ev.done / ev.total if ev.total else 1.0
        width = 28
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        line = f"\r[{d + 1}/{n}] {_name(self._doc)[:36]:36} {ev.stage:6} [{bar}] {ev.done}/{ev.total} {ev.unit}"
        self.stream.write(line[:160])
        self.stream.flush()

    def _clear(self) -> None:
        if self.tty:
            self.stream.write("\r" + " " * 150 + "\r")

    def close(self) -> None:
        if self.tty:
            self._clear()
            self.stream.flush()


def _name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]
