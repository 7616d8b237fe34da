"""The data folder's writer lock: one process at a time changes a data folder.

An advisory OS lock on ``dossier.lock``, so it is released automatically when the holder
dies (a kill -9 never leaves a stale lock behind). A second window or command that cannot
take it opens the folder read-only (see :class:`app.service.Service`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class WriterLock:
    """An advisory lock file; released automatically if the process dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: Any = None
        self.reason = ""  # "busy" (another process holds it) or "read-only"

    def acquire(self) -> bool:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: msvcrt locking
            return self._acquire_windows()
        try:
            fh = open(self.path, "a+")
        except OSError:
            self.reason = "read-only"  # reading still works
            return False
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            self.reason = "busy"
            return False
        self._fh = fh
        return True

    def _acquire_windows(self) -> bool:  # pragma: no cover
        import msvcrt

        try:
            fh = open(self.path, "a+")
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            self.reason = "busy"
            return False
        self._fh = fh
        return True

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
