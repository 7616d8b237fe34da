"""Starting child processes from several threads without losing a child's exit status.

``multiprocessing.Process.start()`` reaps the finished children of *every* thread (its
``_cleanup`` calls ``waitpid`` on each). When another thread is reaping its own child at the
same moment, one of the two ``waitpid`` calls gets ECHILD: that owner then sees its dead
child as still running, and ``Process.close()`` fails with "still running" (seen in the test
suite once two files were parsed at once). So every child the app starts is started under
:data:`REAPING`, and an owner that reaps and closes its child does so under it too.
"""

from __future__ import annotations

import threading
from typing import Any

REAPING = threading.Lock()


def start(proc: Any) -> None:
    """``proc.start()`` while no other thread is reaping a child under :data:`REAPING`."""
    with REAPING:
        proc.start()
