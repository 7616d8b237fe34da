"""``dossier serve-index``: Chroma on a private loopback port, the token proxy on the public one.

Layout of the server folder (back up the whole folder; see docs/deployment.md)::

    DIR/chroma/   Chroma's database (chunks with their vectors, document records, page texts)
    DIR/files/    the original PDFs, named by content hash

The Chroma child is started with the parent-death signal set (Linux), so it never outlives
the proxy; if Chroma exits on its own, the proxy stops too and the command exits non-zero,
so a service manager (systemd ``Restart=on-failure``) restarts both.
"""

from __future__ import annotations

import http.client
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from app.server.proxy import IndexProxy
from app.server.tokens import TokenSet

log = logging.getLogger(__name__)

_CHROMA_CMD = ("import sys, chromadb_rust_bindings as b; "
               "b.cli(['chroma', 'run', '--path', sys.argv[1], '--host', '127.0.0.1', '--port', sys.argv[2]])")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def start_chroma(db_dir: Path, port: int, log_path: Path | None = None) -> subprocess.Popen:
    """``chroma run`` on 127.0.0.1:``port`` (never on a public interface: it has no auth)."""
    env = dict(os.environ, ANONYMIZED_TELEMETRY="False", CHROMA_TELEMETRY="False")
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
    try:
        return subprocess.Popen([sys.executable, "-c", _CHROMA_CMD, str(db_dir), str(port)], env=env,
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
    finally:
        if log_path:
            out.close()  # type: ignore[union-attr]


def wait_ready(proc: subprocess.Popen, port: int, timeout_s: float = 60.0) -> None:
    """Until Chroma answers its heartbeat; RuntimeError if it exits or never answers."""
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"Chroma exited at start (code {proc.returncode}); see its log.")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v2/heartbeat")
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"Chroma did not answer on 127.0.0.1:{port} within {timeout_s:.0f} s.")
        time.sleep(0.1)


def stop(proc: subprocess.Popen, timeout_s: float = 10.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class IndexServer:
    """Chroma child + token proxy; :meth:`serve_forever` blocks until :meth:`shutdown`."""

    def __init__(self, folder: str | os.PathLike[str], host: str, port: int, tokens: TokenSet,
                 chroma_port: int = 0) -> None:
        self.folder = Path(folder).expanduser().resolve()
        (self.folder / "chroma").mkdir(parents=True, exist_ok=True)
        self.chroma_port = chroma_port or free_port()
        self.chroma = start_chroma(self.folder / "chroma", self.chroma_port, self.folder / "chroma.log")
        try:
            wait_ready(self.chroma, self.chroma_port)
            self.proxy = IndexProxy((host, port), ("127.0.0.1", self.chroma_port), tokens, self.folder / "files")
        except BaseException:
            stop(self.chroma)
            raise
        self.exit_code = 0

    def _watch_chroma(self) -> None:
        self.chroma.wait()
        if not getattr(self, "_stopping", False):
            log.error("Chroma exited (code %s); stopping the index server", self.chroma.returncode)
            self.exit_code = 1
            threading.Thread(target=self.proxy.shutdown, daemon=True).start()

    def serve_forever(self, on_ready: Callable[[str], None] | None = None) -> int:
        threading.Thread(target=self._watch_chroma, daemon=True, name="chroma-watch").start()
        if on_ready:
            on_ready(self.proxy.url)
        try:
            self.proxy.serve_forever(poll_interval=0.5)
        finally:
            self.close()
        return self.exit_code

    def shutdown(self) -> None:
        self._stopping = True
        threading.Thread(target=self.proxy.shutdown, daemon=True).start()

    def close(self) -> None:
        self._stopping = True
        self.proxy.server_close()
        stop(self.chroma)


def run(folder: str, host: str, port: int, tokens: TokenSet, print_fn: Callable[[str], None] = print) -> int:
    """Run until SIGTERM/SIGINT; returns the process exit code."""
    server = IndexServer(folder, host, port, tokens)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: server.shutdown())
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # the token file is re-read on change anyway
    return server.serve_forever(lambda url: print_fn(
        f"Dossier index server on {url} (folder {server.folder}, {len(tokens)} token(s)); Chroma on "
        f"127.0.0.1:{server.chroma_port}. Stop with Ctrl+C."))
