"""The network guard: Dossier refuses outbound connections unless the user configured a server.

Why: "no byte of a document leaves the workstation" must hold for every library Dossier
loads (Chroma, transformers, torch, llama.cpp bindings), including code paths we never
call on purpose (telemetry, model hubs, update checks). Setting offline flags is not
proof; refusing at the socket layer is. The guard patches the Python socket layer:

* ``socket.socket.connect`` / ``connect_ex`` / ``sendto`` / ``sendmsg`` for IPv4/IPv6
  destinations (``socket.create_connection``, http.client, urllib3, asyncio all end here);
* ``socket.getaddrinfo`` / ``gethostbyname(_ex)`` / ``gethostbyaddr`` for non-local names,
  because a DNS query for a name is itself a packet that leaves the machine.

Always allowed: Unix sockets and socket pairs (multiprocessing pipes to the model process
and the PDF parser), loopback addresses, ``localhost``, this machine's own host name, and
the hosts of the servers the user configured (``Settings.remote_urls()``: the model server
``llm_remote_url`` and the team index server ``index_server_url``).

Modes (environment variable ``DOSSIER_NETWORK_GUARD``, read at start-up):
``strict`` (default) refuses and logs; ``warn`` allows but logs and counts (debugging);
``off`` does not install the guard. It is deliberately not a field in settings.json: a
persistent switch in a file would silently undo the guarantee; an environment variable
lasts one run and is visible in ``dossier doctor``.

Every outbound attempt is counted (allowed ones too) in :func:`attempts`; with
``DOSSIER_NETWORK_RECORD=/path/file.jsonl`` each attempt is also appended to that file by
every Dossier process, children included (tests and audits use it). Child processes
(model process, PDF parser) call :func:`install_from_env`, strict unless the parent said
otherwise, with no allow-list: they never need the network.

Limit: native code that opens sockets without Python (a C library calling ``connect(2)``)
is not seen here; ``tests/test_offline.py`` therefore also traces the system calls of a
full ingest/ask/summarize/review run with ``strace`` where it is installed.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Iterator

from app import netpolicy
from app.errors import DossierError
from app.netpolicy import (allow_settings, allow_urls, allowed_endpoints, allowed_urls,  # noqa: F401 - the API
                           endpoint_allowed, forget_settings, is_ip, is_local_host, name_allowed, url_endpoint)

log = logging.getLogger(__name__)

MODE_ENV = "DOSSIER_NETWORK_GUARD"
RECORD_ENV = "DOSSIER_NETWORK_RECORD"
MODES = ("strict", "warn", "off")
#: Environment the app sets at start-up so no library even tries a model hub or telemetry.
#: ONNX Runtime (OCR; 1.32 here) ships Microsoft's 1DS telemetry on Linux/macOS: it writes a
#: device id and an event store under ~/.cache/Microsoft/DeveloperTools/.onnxruntime and
#: queues events for its native uploader, which the socket guard below cannot see. ORT_DISABLE_TELEMETRY=1
#: (read when ORT initialises) stops all of it — measured with onnxruntime 1.32.0: no device
#: id, no event store; ORT_TELEMETRY_DISABLED is the name later releases also honour.
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
               "HF_HUB_DISABLE_TELEMETRY": "1", "ANONYMIZED_TELEMETRY": "False", "DO_NOT_TRACK": "1",
               "ORT_DISABLE_TELEMETRY": "1", "ORT_TELEMETRY_DISABLED": "1"}
#: Frames of these modules are plumbing; the caller named in messages is the first frame outside.
_PLUMBING = ("socket", "ssl", "http", "urllib", "urllib3", "asyncio", "selectors", "app.netguard", "requests",
             "httpx", "httpcore", "anyio", "h11", "aiohttp", "concurrent", "threading")


class NetworkBlocked(DossierError, PermissionError):
    """An outbound connection was refused by the guard (also an ``OSError``, so libraries
    that tolerate network failures degrade instead of crashing)."""


@dataclass(frozen=True)
class Attempt:
    kind: str  # "connect" | "resolve" | "send"
    host: str
    port: int | None
    caller: str
    allowed: bool
    mode: str
    pid: int
    at: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.mode = "off"
        self.installed = False
        self.originals: dict[str, Any] = {}
        self.attempts: list[Attempt] = []


_S = _State()


# -- public API --------------------------------------------------------------------------

def install(mode: str | None = None) -> str:
    """Install the guard in this process (idempotent); returns the mode in force.
    ``mode`` None reads ``DOSSIER_NETWORK_GUARD`` (default strict). The mode is exported to
    the environment so child processes guard themselves the same way."""
    mode = _valid_mode(mode if mode is not None else os.environ.get(MODE_ENV, "strict"))
    with _S.lock:
        _S.mode = mode
        os.environ[MODE_ENV] = mode
        if mode == "off":
            _unpatch()
        else:
            _patch()
    if mode != "strict":
        log.warning("network guard is %s (set %s=strict to refuse outbound connections)", mode, MODE_ENV)
    return mode


def uninstall() -> None:
    """Remove the patches (the mode becomes "off")."""
    with _S.lock:
        _unpatch()
        _S.mode = "off"


def install_from_env(default: str = "strict") -> str:
    """For child processes: the offline flags (whoever started the child), and the guard as
    the parent said (``DOSSIER_NETWORK_GUARD``), else ``default``."""
    apply_offline_env()
    return install(os.environ.get(MODE_ENV) or default)


def apply_offline_env() -> None:
    """Set the offline flags (model hubs, telemetry) for this process and its children."""
    os.environ.update(OFFLINE_ENV)


@contextmanager
def session(mode: str | None = None, record_to: str | os.PathLike[str] | None = None) -> Iterator[None]:
    """Guard (and offline flags) for the duration of a block, then restore the previous state.
    The CLI runs each command inside one; tests use it to scope the guard."""
    keys = (MODE_ENV, RECORD_ENV, *OFFLINE_ENV)
    saved_env = {k: os.environ.get(k) for k in keys}
    with _S.lock:
        saved = (_S.mode, _S.installed, netpolicy.snapshot())
    apply_offline_env()
    if record_to is not None:
        os.environ[RECORD_ENV] = str(record_to)
    install(mode)
    try:
        yield
    finally:
        with _S.lock:
            netpolicy.restore(saved[2])
            if saved[1]:
                _S.mode = saved[0]
                _patch()
            else:
                uninstall()
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def allows(host: str, port: int) -> bool:
    """Would a connection to ``host:port`` be allowed now (local, or a configured server)?"""
    return is_local_host(host) or _endpoint_allowed(host, port) or (not is_ip(host) and name_allowed(host))


def _endpoint_allowed(host: str, port: int | None) -> bool:
    return endpoint_allowed(host, port, _S.originals.get("getaddrinfo", socket.getaddrinfo))


def attempts() -> list[Attempt]:
    """Outbound attempts seen in this process since start (or :func:`reset_attempts`)."""
    with _S.lock:
        return list(_S.attempts)


def reset_attempts() -> None:
    with _S.lock:
        _S.attempts.clear()


def state() -> dict[str, Any]:
    """What ``dossier doctor`` shows."""
    with _S.lock:
        tried = list(_S.attempts)
        mode, installed = _S.mode, _S.installed
    return {"mode": mode, "installed": installed,
            "allowed_servers": [f"{h}:{p}" for h, p in sorted(allowed_endpoints())],
            "outbound_attempts": len(tried), "refused": sum(1 for a in tried if not a.allowed),
            "offline_env": {k: os.environ.get(k, "") for k in OFFLINE_ENV}}


def mode() -> str:
    return _S.mode if _S.installed else "off"


# -- decisions ---------------------------------------------------------------------------

def _valid_mode(value: str) -> str:
    value = (value or "strict").strip().lower()
    if value not in MODES:
        log.warning("unknown %s=%r; using strict", MODE_ENV, value)
        return "strict"
    return value


def _caller() -> str:
    """The first frame outside socket plumbing, as ``module:line`` (cheap: only on attempts)."""
    frame = sys._getframe(1)
    for _ in range(40):
        if frame is None:
            break
        name = str(frame.f_globals.get("__name__", "?"))
        if not any(name == p or name.startswith(p + ".") for p in _PLUMBING):
            return f"{name}:{frame.f_lineno}"
        frame = frame.f_back
    return "unknown"


def _check(kind: str, host: str, port: int | None, allowed: bool) -> None:
    """Count an outbound attempt; refuse it in strict mode unless allowed."""
    attempt = Attempt(kind, str(host), port, _caller(), allowed, _S.mode, os.getpid(), time.time())
    with _S.lock:
        _S.attempts.append(attempt)
    _record(attempt)
    where = f"{host}:{port}" if port is not None else str(host)
    if allowed:
        log.info("network: %s to allowed server %s from %s", kind, where, attempt.caller)
        return
    if _S.mode == "warn":
        log.warning("network guard (warn mode): %s to %s from %s was allowed", kind, where, attempt.caller)
        return
    servers = ", ".join(f"{h}:{p}" for h, p in sorted(allowed_endpoints())) or "none"
    msg = (f"Dossier blocked an outbound network {'lookup' if kind == 'resolve' else 'connection'} to {where} "
           f"(from {attempt.caller}). Dossier works offline: only a model or index server set in Settings may "
           f"be contacted (allowed now: {servers}). Add the server in Settings if you meant to use it; to "
           f"debug, run with {MODE_ENV}=warn.")
    log.error(msg)
    raise NetworkBlocked(msg)


def _record(attempt: Attempt) -> None:
    path = os.environ.get(RECORD_ENV)
    if not path:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (json.dumps(attempt.to_dict()) + "\n").encode("utf-8"))
        finally:
            os.close(fd)
    except OSError:
        log.warning("could not record a network attempt in %s", path)


# -- the patches -------------------------------------------------------------------------

def _inet(sock: socket.socket) -> bool:
    return sock.family in (socket.AF_INET, socket.AF_INET6)


def _check_address(kind: str, address: Any) -> None:
    if not isinstance(address, tuple) or len(address) < 2:
        return
    host, port = str(address[0]), address[1]
    if is_local_host(host):
        return
    allowed = _endpoint_allowed(host, int(port)) if isinstance(port, int) else False
    _check(kind, host, port if isinstance(port, int) else None, allowed)


def _connect(self: socket.socket, address: Any) -> Any:
    if _inet(self):
        _check_address("connect", address)
    return _S.originals["connect"](self, address)


def _connect_ex(self: socket.socket, address: Any) -> Any:
    if _inet(self):
        _check_address("connect", address)
    return _S.originals["connect_ex"](self, address)


def _sendto(self: socket.socket, data: Any, *args: Any) -> Any:
    if _inet(self) and args:
        _check_address("send", args[-1])
    return _S.originals["sendto"](self, data, *args)


def _sendmsg(self: socket.socket, buffers: Any, *args: Any) -> Any:
    if _inet(self) and len(args) >= 3:
        _check_address("send", args[2])
    return _S.originals["sendmsg"](self, buffers, *args)


def _resolve_check(host: Any, port: Any = None) -> None:
    if isinstance(host, bytes):
        host = host.decode("idna", errors="replace")
    if host is None or is_local_host(str(host)) or is_ip(str(host).strip("[]")):
        return  # numeric or local: no DNS query leaves the machine
    p = int(port) if isinstance(port, int) or (isinstance(port, str) and port.isdigit()) else None
    _check("resolve", str(host), p, name_allowed(str(host)))


def _getaddrinfo(host: Any, port: Any, *args: Any, **kw: Any) -> Any:
    _resolve_check(host, port)
    return _S.originals["getaddrinfo"](host, port, *args, **kw)


def _gethostbyname(host: str) -> Any:
    _resolve_check(host)
    return _S.originals["gethostbyname"](host)


def _gethostbyname_ex(host: str) -> Any:
    _resolve_check(host)
    return _S.originals["gethostbyname_ex"](host)


def _gethostbyaddr(host: str) -> Any:
    if not is_local_host(host):  # a reverse lookup asks a DNS server too
        _check("resolve", str(host), None, False)
    return _S.originals["gethostbyaddr"](host)


_METHODS = {"connect": _connect, "connect_ex": _connect_ex, "sendto": _sendto, "sendmsg": _sendmsg}
_FUNCTIONS = {"getaddrinfo": _getaddrinfo, "gethostbyname": _gethostbyname,
              "gethostbyname_ex": _gethostbyname_ex, "gethostbyaddr": _gethostbyaddr}


def _patch() -> None:
    if _S.installed:
        return
    for name, fn in _METHODS.items():
        _S.originals[name] = getattr(socket.socket, name)
        setattr(socket.socket, name, fn)
    for name, fn in _FUNCTIONS.items():
        _S.originals[name] = getattr(socket, name)
        setattr(socket, name, fn)
    _S.installed = True


def _unpatch() -> None:
    if not _S.installed:
        return
    for name in _METHODS:
        setattr(socket.socket, name, _S.originals[name])
    for name in _FUNCTIONS:
        setattr(socket, name, _S.originals[name])
    _S.installed = False


def child_probe(host: str, port: int, out: Any) -> None:
    """Spawn target for tests: guard as a Dossier child process does, try ``host:port``, and
    send back (mode, error message or "connected")."""
    install_from_env()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(1.0)
    try:
        s.connect((host, port))
        result = "connected"
    except NetworkBlocked as err:
        result = f"blocked: {err}"
    except OSError as err:
        result = f"oserror: {err}"
    finally:
        s.close()
    out.send((mode(), result))
    out.close()
