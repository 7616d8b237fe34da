"""The remote engine: an OpenAI-compatible llama.cpp server on the local network.

Why: a team can share one large model on a GPU box (``llama-server`` or llama-cpp-python's
``python -m llama_cpp.server``) while documents and the index stay on each desktop. Only the
standard library is used (``http.client``): the stream is read by a helper thread so that
cancel works within ~50 ms even while the server is still evaluating the prompt — cancel
shuts the socket down, which also tells the server to stop. The access token is read from
the OS keyring (:mod:`app.secrets`) at each request and never written anywhere else.
"""

from __future__ import annotations

import http.client
import json
import queue
import socket
import threading
import time
from typing import Any, Iterator
from urllib.parse import urlsplit

from app.errors import ModelError
from app.llm.base import ChatMessage, GenerationStats, ModelInfo
from app.types import CancelToken

_POLL_S = 0.02
DEFAULT_N_CTX = 4096


def remote_secret_name(base_url: str) -> str:
    """The keyring entry name for a server's access token."""
    return f"remote:{normalize_base_url(base_url)}"


def normalize_base_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if url.endswith("/v1"):
        url = url[:-3]
    if "://" not in url:
        url = "http://" + url
    return url


def estimate_tokens(text: str) -> int:
    """Conservative (over-)estimate when the server cannot tokenize: ~3 characters a token."""
    return len(text) // 3 + 1 if text else 0


class RemoteLLM:
    """:class:`app.llm.base.LLM` talking to ``/v1/chat/completions`` with ``stream=True``."""

    def __init__(
        self,
        base_url: str,
        model: str = "",
        api_key_ref: str | None = None,
        n_ctx: int = 0,
        temperature: float = 0.1,
        timeout_s: float = 120.0,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ModelError(f"'{base_url}' is not a server address. Use e.g. http://gpu-box:8080 in Settings → Model.")
        self._scheme, self._host, self._port = parts.scheme, parts.hostname, parts.port
        self._prefix = parts.path.rstrip("/")
        self.model = model
        self.api_key_ref = api_key_ref
        self.temperature = temperature
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self._n_ctx = n_ctx
        self._n_ctx_probed = bool(n_ctx)
        self._tokenize_mode: str | None = None  # "extras" | "llama-server" | "estimate"
        self.info = ModelInfo(name=model or "remote model", path=self.base_url, n_ctx=n_ctx,
                              has_chat_template=True, extra={"remote": True})
        self.last_stats = GenerationStats()
        self._no_store = ""  # why no secure store exists, when the keyring has none

    # -- HTTP ---------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream, application/json"}
        token = self._token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _token(self) -> str | None:
        """The server's token from the OS keyring. No secure store means no token (many servers
        on a team's network need none); a server that does need one answers 401, and
        :meth:`_status_error` then says that no secure store exists to keep it."""
        if not self.api_key_ref:
            return None
        from app.secrets import SecretStoreUnavailable, get_secret

        try:
            return get_secret(self.api_key_ref)
        except SecretStoreUnavailable as err:
            self._no_store = str(err)
            return None

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        return cls(self._host, self._port, timeout=timeout)

    def _open(self, method: str, path: str, body: Any, timeout: float) -> tuple[Any, Any]:
        """Send a request; returns (connection, response) with a 2xx status or raises."""
        conn = self._connection(self.connect_timeout_s)
        data = None if body is None else json.dumps(body).encode("utf-8")
        try:
            conn.connect()
            conn.sock.settimeout(timeout)
            conn.request(method, self._prefix + path, body=data, headers=self._headers())
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            raise self._connection_error(e) from e
        if resp.status >= 300:
            detail = _error_detail(resp)
            conn.close()
            raise _HTTPStatus(resp.status, detail, path)
        return conn, resp

    def _json(self, method: str, path: str, body: Any = None) -> Any:
        conn, resp = self._open(method, path, body, self.timeout_s)
        try:
            return json.loads(resp.read().decode("utf-8") or "null")
        except (OSError, ValueError, http.client.HTTPException) as e:
            raise ModelError(f"The model server at {self.base_url} sent an unreadable reply ({e}).") from e
        finally:
            conn.close()

    def _connection_error(self, e: BaseException) -> ModelError:
        if isinstance(e, ConnectionRefusedError):
            why = "connection refused — is the server running, and is the port right?"
        elif isinstance(e, socket.gaierror):
            why = "unknown host name"
        elif isinstance(e, (socket.timeout, TimeoutError)):
            why = "no answer in time"
        else:
            why = f"{type(e).__name__}: {e}"
        return ModelError(f"Cannot reach the model server at {self.base_url} ({why}). "
                          "Check the server address in Settings → Model and that the server is running.")

    def _status_error(self, err: "_HTTPStatus") -> ModelError:
        if err.status in (401, 403):
            has = bool(self._token())
            what = "refused the access token" if has else "requires an access token and none is stored"
            if self._no_store:
                return ModelError(f"The model server at {self.base_url} {what} (HTTP {err.status}), and it cannot "
                                  f"be stored safely here: {self._no_store}")
            return ModelError(f"The model server at {self.base_url} {what} (HTTP {err.status}). "
                              "Enter the server's token in Settings → Model (it is kept in the OS keyring).")
        if err.status == 404:
            return ModelError(f"The model server at {self.base_url} has no {err.path} (HTTP 404: {err.detail}). "
                              "Check the address (use the server's base URL, e.g. http://host:8080) and model name.")
        return ModelError(f"The model server at {self.base_url} failed (HTTP {err.status}: {err.detail}). "
                          "Try again, or ask the server's administrator.")

    # -- LLM protocol -------------------------------------------------------------------
    def n_ctx(self) -> int:
        if not self._n_ctx_probed:
            self._n_ctx_probed = True
            self._n_ctx = self._probe_n_ctx() or DEFAULT_N_CTX
            self.info.n_ctx = self._n_ctx
        return self._n_ctx or DEFAULT_N_CTX

    def _probe_n_ctx(self) -> int:
        """llama-server reports its context size at /props; other servers do not."""
        try:
            props = self._json("GET", "/props")
        except (ModelError, _HTTPStatus):
            return 0
        if not isinstance(props, dict):
            return 0
        gen = props.get("default_generation_settings") or {}
        return int(gen.get("n_ctx") or props.get("n_ctx") or 0)

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Counts from the server's tokenizer; a conservative estimate if it has none."""
        counts = []
        for text in texts:
            counts.append(self._count_one(text) if text else 0)
        return counts

    def _count_one(self, text: str) -> int:
        modes = [self._tokenize_mode] if self._tokenize_mode else ["extras", "llama-server"]
        for mode in modes:
            if mode == "estimate":
                break
            try:
                if mode == "extras":
                    n = int(self._json("POST", "/extras/tokenize/count", {"input": text})["count"])
                else:
                    n = len(self._json("POST", "/tokenize", {"content": text, "add_special": False})["tokens"])
            except _HTTPStatus as e:
                if e.status in (401, 403):
                    raise self._status_error(e) from None
                continue
            except (KeyError, TypeError):
                continue
            self._tokenize_mode = mode
            return n
        self._tokenize_mode = "estimate"
        return estimate_tokens(text)

    def stream_chat(
        self,
        messages: list[ChatMessage],
        max_tokens: int = 512,
        temperature: float | None = None,
        stop: list[str] | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[str]:
        body: dict[str, Any] = {
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "max_tokens": int(max_tokens),
            "temperature": self.temperature if temperature is None else float(temperature),
            "stream": True,
        }
        if self.model:
            body["model"] = self.model
        if stop:
            body["stop"] = list(stop)
        return self._generate(body, cancel)

    def _generate(self, body: dict[str, Any], cancel: CancelToken | None) -> Iterator[str]:
        self.last_stats = GenerationStats()
        if cancel is not None and cancel.cancelled:
            return
        t0 = time.perf_counter()
        try:
            conn, resp = self._open("POST", "/v1/chat/completions", body, self.timeout_s)
        except _HTTPStatus as e:
            raise self._status_error(e) from None
        events: queue.Queue[tuple[str, Any]] = queue.Queue()
        threading.Thread(target=_pump_sse, args=(conn, resp, events), daemon=True, name="dossier-sse").start()
        stats = self.last_stats
        t_first = None
        try:
            while True:
                if cancel is not None and cancel.cancelled:
                    return
                try:
                    kind, payload = events.get(timeout=_POLL_S)
                except queue.Empty:
                    continue
                if kind == "end":
                    return
                if kind == "error":
                    raise self._stream_error(payload)
                text = _apply_chunk(payload, stats)
                if text:
                    if t_first is None:
                        t_first = time.perf_counter()
                        stats.prompt_seconds = t_first - t0
                    stats.generated_tokens += 1
                    stats.generation_seconds = time.perf_counter() - t_first
                    yield text
        finally:
            _abort(conn)

    def _stream_error(self, payload: Any) -> ModelError:
        if isinstance(payload, (socket.timeout, TimeoutError)):
            return ModelError(f"The model server at {self.base_url} stopped sending the answer "
                              f"(nothing for {int(self.timeout_s)} s). Try again.")
        if isinstance(payload, BaseException):
            return ModelError(f"The connection to the model server at {self.base_url} broke ({payload}). Try again.")
        return ModelError(f"The model server at {self.base_url} reported an error: {payload}. Try again.")

    def close(self) -> None:
        return None


class _HTTPStatus(Exception):
    def __init__(self, status: int, detail: str, path: str) -> None:
        super().__init__(f"HTTP {status}")
        self.status, self.detail, self.path = status, detail, path


def _error_detail(resp: Any) -> str:
    try:
        raw = resp.read(4096).decode("utf-8", errors="replace")
        data = json.loads(raw)
        err = data.get("detail") or data.get("error") or data
        if isinstance(err, dict):
            err = err.get("message") or err
        return str(err)[:200]
    except (OSError, ValueError, AttributeError, http.client.HTTPException):
        return resp.reason or ""


def _pump_sse(conn: Any, resp: Any, events: "queue.Queue[tuple[str, Any]]") -> None:
    """Reader thread: server-sent events → queue of ("data", dict) / ("error", …) / ("end", None).

    It owns the connection and closes it when done (closing it from the consumer's thread
    while a read is in progress races inside http.client)."""
    try:
        while True:
            raw = resp.readline()
            if not raw:
                break
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if not line.startswith("data:"):
                continue  # comments, "event:" lines, blank separators
            data = line[5:].strip()
            if data == "[DONE]":
                break
            chunk = json.loads(data)
            if isinstance(chunk, dict) and chunk.get("error"):
                err = chunk["error"]
                events.put(("error", err.get("message", err) if isinstance(err, dict) else err))
                return
            events.put(("data", chunk))
    except Exception as e:  # noqa: BLE001 - any failure here ends the stream with an error
        events.put(("error", e))
        return
    finally:
        conn.close()
    events.put(("end", None))


def _apply_chunk(chunk: dict[str, Any], stats: GenerationStats) -> str:
    """Text of one streamed chunk; usage/timings (llama-server) are copied into ``stats``."""
    timings = chunk.get("timings") or {}
    usage = chunk.get("usage") or {}
    if usage.get("prompt_tokens"):
        stats.prompt_tokens = int(usage["prompt_tokens"])
    if timings.get("cache_n") is not None:
        stats.cached_prompt_tokens = int(timings["cache_n"])
        stats.prompt_tokens = max(stats.prompt_tokens, int(timings.get("prompt_n", 0)) + stats.cached_prompt_tokens)
    choices = chunk.get("choices") or []
    if not choices:
        return ""
    delta = choices[0].get("delta") or {}
    return str(delta.get("content") or "")


def _abort(conn: http.client.HTTPConnection) -> None:
    """Shut the socket down: the reader thread wakes up and closes the connection, and the
    server sees the client leave and stops generating."""
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
