"""The local engine: llama.cpp running in its own process (see :mod:`app.llm._worker`).

Why a child process: a segfault or out-of-memory kill in native code must cost one answer,
not the application, and a prompt evaluation that is already running inside llama.cpp can
only be stopped by ending the process. The parent streams pieces from a pipe, enforces
cancel (≤ 200 ms) and hang timeouts, and restarts the process after a crash.

Threads: pass ``threads=1`` while ingestion is embedding documents (both fight for the same
cores and llama.cpp's throughput collapses when its threads are preempted); otherwise the
default ``max(1, cores - 1)`` (at most 8) leaves one core for the GUI.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from pathlib import Path
from typing import Any, Iterator

from app import child_processes
from app.errors import ModelError
from app.llm.base import ChatMessage, GenerationStats, ModelInfo
from app.llm.gguf_info import read_gguf_info
from app.settings import cpu_count
from app.types import CancelToken

#: Seconds the model process gets to acknowledge a cancel before it is killed.
CANCEL_GRACE_S = 0.13
_POLL_S = 0.01
MAX_DEFAULT_CTX = 8192


def default_threads() -> int:
    return max(1, min(8, cpu_count() - 1))


def default_n_ctx(info: ModelInfo) -> int:
    """min(trained context, 8192), reduced when the KV cache would not fit in memory."""
    n_ctx = min(info.trained_context or 4096, MAX_DEFAULT_CTX)
    per_token = _kv_bytes_per_token(info)
    budget = _memory_bytes() // 4
    while per_token and n_ctx > 2048 and per_token * n_ctx > budget:
        n_ctx //= 2
    return n_ctx


def _kv_bytes_per_token(info: ModelInfo) -> int:
    meta = info.extra.get("metadata", {})
    arch = info.architecture
    layers = int(meta.get(f"{arch}.block_count", 0) or 0)
    heads = int(meta.get(f"{arch}.attention.head_count", 0) or 0)
    kv_heads = int(meta.get(f"{arch}.attention.head_count_kv", heads) or heads)
    emb = int(meta.get(f"{arch}.embedding_length", 0) or 0)
    if not (layers and heads and emb):
        return 0
    return 2 * layers * kv_heads * (emb // heads) * 2  # K and V, f16


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 8 << 30


class LocalLLM:
    """:class:`app.llm.base.LLM` backed by a llama.cpp model process."""

    def __init__(
        self,
        model_path: str | Path,
        n_ctx: int = 0,
        n_gpu_layers: int = 0,
        threads: int = 0,
        batch: int = 256,
        temperature: float = 0.1,
        hang_timeout_s: float = 120.0,
        load_timeout_s: float = 600.0,
    ) -> None:
        self.info: ModelInfo = read_gguf_info(model_path)  # fails early for a bad file
        self.temperature = temperature
        self.hang_timeout_s = hang_timeout_s
        self.load_timeout_s = load_timeout_s
        self.last_stats = GenerationStats()
        #: (tokens evaluated, prompt tokens) of the prompt being read, for progress displays.
        self.prompt_progress = (0, 0)
        self._config: dict[str, Any] = {
            "model_path": str(Path(model_path)),
            "n_ctx": n_ctx or default_n_ctx(self.info),
            "n_gpu_layers": n_gpu_layers,
            "threads": threads or default_threads(),
            "batch": max(1, batch),
        }
        self.info.n_ctx = self._config["n_ctx"]
        self.info.extra["threads"] = self._config["threads"]
        self.info.extra["chat_template_source"] = "gguf" if self.info.has_chat_template else "fallback"
        self._mp = mp.get_context("spawn")
        self._cancel_flag = self._mp.RawValue("i", 0)
        self._proc: Any = None
        self._conn: Any = None
        self._ready = False
        self._lock = threading.RLock()
        self._active: Iterator[str] | None = None

    # -- lifecycle ----------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        """Process id of the model process (None when not running)."""
        return self._proc.pid if self._proc is not None and self._proc.is_alive() else None

    @property
    def threads(self) -> int:
        return int(self._config["threads"])

    def load(self) -> ModelInfo:
        """Start the model process and wait until the model is loaded."""
        with self._lock:
            self._ensure_ready()
        return self.info

    def close(self) -> None:
        with self._lock:
            self._stop_process(graceful=True)

    def __enter__(self) -> "LocalLLM":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # best effort: never leave a model process behind
        try:
            self._stop_process(graceful=False)
        except Exception:  # noqa: BLE001
            pass

    def _start_process(self) -> None:
        from app.llm import _worker

        parent, child = self._mp.Pipe(duplex=True)
        self._cancel_flag.value = 0
        proc = self._mp.Process(
            target=_worker.main, args=(child, self._cancel_flag, self._config), daemon=True, name="dossier-llm"
        )
        child_processes.start(proc)
        child.close()
        self._proc, self._conn, self._ready = proc, parent, False

    def _ensure_ready(self) -> None:
        if self._proc is not None and not self._proc.is_alive():
            self._stop_process(graceful=False)
        if self._proc is None:
            self._start_process()
        if self._ready:
            return
        msg = self._receive(self.load_timeout_s, loading=True)
        if msg[0] == "ready":
            self._ready = True
            self.info.n_ctx = int(msg[1]["n_ctx"])
            self.info.extra["chat_template"] = msg[1]["chat_template"]
            self.info.extra["process"] = msg[1]
            return
        self._stop_process(graceful=False)
        raise ModelError(
            f"Could not load the model {self.info.name} ({msg[-1]}). "
            "Check that the file is a complete GGUF model that fits in memory, or choose another model."
        )

    def _stop_process(self, graceful: bool) -> None:
        proc, conn = self._proc, self._conn
        self._proc, self._conn, self._ready, self._active = None, None, False, None
        if proc is None:
            return
        if graceful and proc.is_alive():
            try:
                conn.send({"op": "close"})
                proc.join(2.0)
            except (OSError, ValueError):
                pass
        if proc.is_alive():
            proc.kill()
        proc.join(5.0)
        if conn is not None:
            conn.close()

    def _crashed(self, loading: bool) -> ModelError:
        proc = self._proc
        if proc is not None:
            proc.join(1.0)
        code = proc.exitcode if proc is not None else None
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        was_ready = self._ready
        self._stop_process(graceful=False)
        if loading or not was_ready:
            return ModelError(
                f"The model process stopped while loading {self.info.name} ({how}). The model may be "
                "too large for this computer's memory; choose a smaller model or close other programs."
            )
        self._start_process()  # restart now; the next call waits for it to be ready
        return ModelError(f"The model process stopped unexpectedly ({how}). It was restarted; please ask again.")

    # -- pipe ---------------------------------------------------------------------------
    def _receive(self, timeout_s: float, loading: bool = False, cancel: CancelToken | None = None) -> tuple:
        """Next message from the model process, or None when ``cancel`` fired first."""
        deadline = time.monotonic() + timeout_s
        conn = self._conn
        while True:
            if cancel is not None and cancel.cancelled:  # before reading: pieces may be queued
                return ("cancel",)
            try:
                if conn.poll(_POLL_S):
                    return conn.recv()
            except (EOFError, OSError):
                raise self._crashed(loading) from None
            if not self._proc.is_alive():
                raise self._crashed(loading)
            if time.monotonic() > deadline:
                self._stop_process(graceful=False)
                what = "loading the model" if loading else "answering"
                raise ModelError(
                    f"The model stopped responding while {what} (no progress for {int(timeout_s)} s) and was "
                    "stopped. Try again; if it keeps happening, use a smaller model or fewer threads."
                )

    def _request(self, req: dict[str, Any]) -> None:
        self._ensure_ready()
        self._cancel_flag.value = 0
        try:
            self._conn.send(req)
        except (OSError, ValueError):
            raise self._crashed(False) from None

    # -- LLM protocol -------------------------------------------------------------------
    def n_ctx(self) -> int:
        return int(self.info.n_ctx)

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Token counts from the model's tokenizer, one round trip for the whole list."""
        if not texts:
            return []
        with self._lock:
            self._abort_active()
            self._request({"op": "count", "texts": list(texts)})
            msg = self._receive(self.hang_timeout_s)
        if msg[0] != "counts":
            raise ModelError(f"The model could not count tokens ({msg[-1]}). Please try again.")
        return list(msg[1])

    def stream_chat(
        self,
        messages: list[ChatMessage],
        max_tokens: int = 512,
        temperature: float | None = None,
        stop: list[str] | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[str]:
        """Stream the reply. Work starts at the first ``next()``; errors are raised there.

        A cancelled stream simply ends (no exception); ``last_stats`` says what was done.
        """
        req = {
            "op": "chat",
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "max_tokens": int(max_tokens),
            "temperature": self.temperature if temperature is None else float(temperature),
            "stop": list(stop or []),
        }
        return self._generate(req, cancel)

    def _generate(self, req: dict[str, Any], cancel: CancelToken | None) -> Iterator[str]:
        me = object()
        with self._lock:
            self._abort_active()
            self.last_stats = GenerationStats()
            if cancel is not None and cancel.cancelled:
                return
            self._request(req)
            self._active = me
        finished = False
        try:
            while True:
                with self._lock:
                    if self._active is not me:  # superseded by a newer request
                        finished = True
                        return
                    piece = self._next_piece(cancel)
                if piece is None:
                    finished = True
                    return
                yield piece
        finally:
            if not finished:  # the consumer stopped iterating early: stop the model too
                with self._lock:
                    if self._active is me:
                        self._abort_active()
            elif self._active is me:
                self._active = None

    def _next_piece(self, cancel: CancelToken | None) -> str | None:
        """One streamed piece; None when the reply is complete or was cancelled.
        Prompt-evaluation progress messages are signs of life: each restarts the hang timer."""
        try:
            msg = self._receive(self.hang_timeout_s, cancel=cancel)
            while msg[0] == "prompt":
                self.prompt_progress = (int(msg[1]), int(msg[2]))
                msg = self._receive(self.hang_timeout_s, cancel=cancel)
        except ModelError:
            self._active = None
            raise
        if msg[0] == "piece":
            return str(msg[1])
        self._active = None
        if msg[0] == "done":
            self.last_stats = GenerationStats(**msg[1])
            return None
        if msg[0] == "cancel":
            self._cancel_running()
            return None
        raise self._request_error(msg)

    def _abort_active(self) -> None:
        """A previous stream was abandoned without being exhausted: stop its generation."""
        if self._active is not None:
            self._active = None
            self._cancel_running()

    def _cancel_running(self) -> None:
        """Ask the model process to stop; kill it if it does not answer within the grace time."""
        if self._proc is None:
            return
        self._cancel_flag.value = 1
        deadline = time.monotonic() + CANCEL_GRACE_S
        try:
            while time.monotonic() < deadline:
                if self._conn.poll(max(0.0, deadline - time.monotonic())):
                    msg = self._conn.recv()
                    if msg[0] == "done":
                        self.last_stats = GenerationStats(**msg[1])
                        return
                    if msg[0] == "error":
                        return
        except (EOFError, OSError):
            pass
        # Still busy (e.g. inside a long prompt evaluation): end it now, and start a fresh one
        # in the background so the caller's stream ends within the cancel budget.
        self._stop_process(graceful=False)
        threading.Thread(target=self._prestart, daemon=True, name="dossier-llm-restart").start()

    def _prestart(self) -> None:
        with self._lock:
            if self._proc is None:
                self._start_process()

    def _request_error(self, msg: tuple) -> ModelError:
        if msg[0] == "error" and msg[1] == "context":
            return ModelError(
                f"The question and its evidence are too long for the model's context ({msg[2]} tokens). "
                "Select fewer documents or passages, or use a model setting with a larger context."
            )
        return ModelError(f"The model failed to answer ({msg[-1]}). Please try again.")
