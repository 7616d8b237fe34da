"""Helpers for the team-mode tests: an in-memory keyring, real server processes on loopback,
and (run as a script) a client process that ingests slowly so a test can kill it mid-ingest.

Not a test module (no ``test_`` prefix); imported by tests/test_team_*.py and run as
``python tests/team_helpers.py SERVER_URL DATA_DIR PDF`` with the token in ``TEAM_TOKEN``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from memory_keyring import MemoryKeyring  # noqa: F401 - re-exported for the team tests

REPO = Path(__file__).resolve().parents[1]




def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(proc: subprocess.Popen, port: int, log: Path, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError as err:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {log.read_text(errors='replace')[-2000:]}") from err
            time.sleep(0.1)


def start_index_server(folder: Path, token_file: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """``dossier serve-index`` exactly as an administrator runs it (through the CLI)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DOSSIER_INDEX_TOKEN"}
    env["PYTHONPATH"] = str(REPO)
    out: IO[bytes]
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "app.cli.main", "serve-index", "--path", str(folder),
                                 "--port", str(port), "--token-file", str(token_file)],
                                env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
    wait_port(proc, port, log)
    return proc, f"http://127.0.0.1:{port}"


def start_llm_server(model: Path, token: str, log: Path, n_ctx: int = 2048) -> tuple[subprocess.Popen, str]:
    """llama-cpp-python's OpenAI-compatible server with the bundled GGUF (as tests/test_llm_remote.py)."""
    port = free_port()
    env = dict(os.environ, API_KEY=token, PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1")
    args = [sys.executable, "-m", "app.llm.serve", "--model", str(model), "--host", "127.0.0.1", "--port", str(port),
            "--n_ctx", str(n_ctx), "--n_threads", "1", "--n_threads_batch", "1", "--verbose", "False"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
    wait_port(proc, port, log)
    return proc, f"http://127.0.0.1:{port}"


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _slow_client(url: str, data_dir: str, pdf: str) -> None:
    """Ingest ``pdf`` into the team index, slowly, printing one line per stored batch."""
    import keyring

    from app.embed.fake import FakeEmbedder
    from app.secrets import set_secret
    from app.service import Service
    from app.settings import Settings
    from app.store.remote_index import index_secret_name

    class SlowEmbedder(FakeEmbedder):
        def embed(self, texts, on_progress=None, cancel=None):  # type: ignore[no-untyped-def]
            time.sleep(0.25)
            return super().embed(texts, on_progress=on_progress, cancel=cancel)

    import app.ingest.pipeline as pipeline

    pipeline.STORE_BATCH = 32  # store every embedded batch, so the kill lands between stored batches
    keyring.set_keyring(MemoryKeyring())
    set_secret(index_secret_name(url), os.environ["TEAM_TOKEN"])
    settings = Settings()
    settings.index_server_url = url
    with Service(data_dir, settings, embedder=SlowEmbedder()) as svc:
        def progress(p) -> None:  # type: ignore[no-untyped-def]
            if p.stage == "embed":
                print(f"EMBEDDED {p.done}/{p.total}", flush=True)

        svc.ingest([pdf], on_progress=progress)
    print("DONE", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    _slow_client(*sys.argv[1:4])
