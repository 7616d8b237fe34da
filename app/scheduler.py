"""Keep embedding and generation from fighting over the same cores.

On a 2-core laptop llama.cpp with 2 threads falls from ~85 to 1-9 tokens/s while a
second process embeds. Interactive work (answering, summarising, reviewing) therefore
takes priority: background work (ingest embedding) calls :meth:`CpuScheduler.background`
around each batch and waits while any interactive job runs. Batches are short (a few
seconds), so an interactive request waits at most one batch.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from app.types import CancelToken


class CpuScheduler:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._interactive = 0
        self._background = 0

    @contextmanager
    def interactive(self) -> Iterator[None]:
        with self._cond:
            self._interactive += 1
            # let a running background batch finish before we start
            while self._background:
                self._cond.wait(0.05)
        try:
            yield
        finally:
            with self._cond:
                self._interactive -= 1
                self._cond.notify_all()

    @contextmanager
    def background(self, cancel: CancelToken | None = None) -> Iterator[None]:
        with self._cond:
            while self._interactive:
                if cancel is not None:
                    cancel.raise_if_cancelled()
                self._cond.wait(0.1)
            self._background += 1
        try:
            yield
        finally:
            with self._cond:
                self._background -= 1
                self._cond.notify_all()

    @property
    def interactive_active(self) -> bool:
        return self._interactive > 0
