"""Connection to the team index server (``dossier serve-index``): Chroma over HTTP, plus PDF files.

Why a wrapper around ``chromadb.HttpClient``: every failure must become a message that says
what to do (wrong token → Settings → Team; server down → start it or switch to local mode),
the token must come from the OS keyring and never show in a message or log, and the chromadb
client waits forever by default (``httpx`` timeout None) — a hung server would freeze the app.
"""

from __future__ import annotations

import http.client
import logging
import os
import shutil
import threading
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app.errors import StoreError

log = logging.getLogger(__name__)

INDEX_SECRET_PREFIX = "index:"
FILES_PATH = "/dossier/v1/files/"
_FROM_KEYRING = object()
_HOW_TO_TOKEN = "set it in Settings → Team (or 'dossier team-login URL'); it is kept in the OS keyring"


class IndexAuthError(StoreError):
    """The index server refused the request: no token, or not a token it accepts."""


class IndexUnreachable(StoreError):
    """The index server cannot be reached (down, wrong address, network)."""


def normalize_url(url: str) -> str:
    """``host:port`` or ``http://host:port/`` → ``http://host:port`` (the keyring key uses this)."""
    url = url.strip().rstrip("/")
    if url and "://" not in url:
        url = "http://" + url
    return url


def index_secret_name(url: str) -> str:
    """The keyring entry name for an index server's token."""
    return f"{INDEX_SECRET_PREFIX}{normalize_url(url)}"


class IndexServerClient:
    """chromadb ``HttpClient`` against the server at ``url`` with the token from the keyring.

    ``token``: pass a string (or None for "no token") to bypass the keyring (benchmarks, tests)."""

    def __init__(self, url: str, token: Any = _FROM_KEYRING, timeout_s: float = 120.0) -> None:
        self.url = normalize_url(url)
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
            raise StoreError(f"'{url}' is not an index server address. Use e.g. http://index-host:8765 in "
                             "Settings → Team, or leave it empty to keep the index on this computer.")
        self.scheme, self.host = parts.scheme, parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self._no_store = ""  # why no secure store exists, when the keyring has none
        if token is _FROM_KEYRING:
            from app.secrets import SecretStoreUnavailable, get_secret

            try:
                token = get_secret(index_secret_name(self.url))
            except SecretStoreUnavailable as err:  # no token then; a server that wants one says 401
                token, self._no_store = None, str(err)
        self._token: str | None = token or None
        self.timeout_s = timeout_s
        self._client: Any = None
        self._collections: dict[str, Any] = {}
        self._lock = threading.RLock()

    # -- errors ---------------------------------------------------------------------------
    def error(self, what: str, err: BaseException) -> StoreError:
        """A user-facing error for ``err`` raised while trying to ``what``."""
        from chromadb.errors import AuthorizationError, ChromaAuthError

        text = str(err)
        if isinstance(err, (ChromaAuthError, AuthorizationError)) or "401" in text[:40] or "AuthError" in text:
            return self.auth_error()
        if _is_unreachable(err):
            return IndexUnreachable(
                f"Cannot reach the index server at {self.url} to {what} ({_short(err)}). Check the address in "
                "Settings → Team and that 'dossier serve-index' is running there; or clear the address to "
                "work with the index on this computer.")
        return StoreError(f"The index server at {self.url} failed to {what} ({_short(err)}). Try again; if it "
                          "persists, ask the server's administrator to check its log.")

    def auth_error(self) -> IndexAuthError:
        if self._token:
            return IndexAuthError(f"The index server at {self.url} refused the token (HTTP 401): {_HOW_TO_TOKEN}. "
                                  "Ask your administrator for a valid token if you do not have one.")
        if self._no_store:
            return IndexAuthError(f"The index server at {self.url} requires an access token, and it cannot be "
                                  f"stored safely here: {self._no_store}")
        return IndexAuthError(f"The index server at {self.url} requires an access token and none is stored: "
                              f"{_HOW_TO_TOKEN}.")

    def call(self, what: str, fn: Any, *args: Any, **kw: Any) -> Any:
        try:
            return fn(*args, **kw)
        except StoreError:
            raise
        except Exception as err:  # chromadb/httpx raise many types; all become one clear message
            raise self.error(what, err) from None

    # -- Chroma ---------------------------------------------------------------------------
    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self.call("connect", self._connect)
            return self._client

    def _connect(self) -> Any:
        import chromadb
        import httpx
        from chromadb.config import Settings

        os.environ["ANONYMIZED_TELEMETRY"] = "False"
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        client = chromadb.HttpClient(host=self.host, port=self.port, ssl=self.scheme == "https", headers=headers,
                                     settings=Settings(anonymized_telemetry=False))
        session = getattr(getattr(client, "_server", None), "_session", None)
        if session is not None:  # chromadb leaves httpx without a timeout: never hang the app forever
            session.timeout = httpx.Timeout(self.timeout_s, connect=5.0)
        return client

    def collection(self, name: str, space: str = "cosine") -> Any:
        with self._lock:
            if name not in self._collections:
                self._collections[name] = self.call(
                    "open the shared index", self.client.get_or_create_collection, name=name,
                    embedding_function=None, metadata={"hnsw:space": space})
            return self._collections[name]

    def server_time(self) -> float:
        """The server's clock in seconds (heartbeats use it, so client clocks may differ)."""
        return float(self.call("read the server clock", self.client.heartbeat)) / 1e9

    def max_batch(self) -> int:
        if not getattr(self, "_max_batch", 0):
            self._max_batch = int(self.call("read the batch size", self.client.get_max_batch_size))
        return self._max_batch

    def check(self) -> None:
        """Connect and make an authenticated request; raises the clear error otherwise."""
        self.call("check the connection", self.client.list_collections, limit=1)

    # -- files ----------------------------------------------------------------------------
    def _http(self, timeout: float) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        return cls(self.host, self.port, timeout=timeout)

    def _file_request(self, method: str, doc_id: str, body: Any = None, length: int = 0) -> tuple[Any, Any]:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        if body is not None:
            headers["Content-Length"] = str(length)
            headers["Content-Type"] = "application/pdf"
        conn = self._http(self.timeout_s)
        try:
            conn.request(method, FILES_PATH + doc_id, body=body, headers=headers)
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException) as err:
            conn.close()
            raise self.error(f"transfer the PDF of document {doc_id[:10]}", err) from None
        if resp.status == 401:
            conn.close()
            raise self.auth_error()
        return conn, resp

    def put_file(self, doc_id: str, path: str | os.PathLike[str]) -> None:
        """Upload the PDF whose content hash is ``doc_id`` (the server checks the hash)."""
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            conn, resp = self._file_request("PUT", doc_id, fh, size)
        with closing(conn):
            detail = resp.read(2000).decode("utf-8", "replace")
            if resp.status >= 300:
                raise StoreError(f"The index server at {self.url} did not store the PDF {Path(path).name} "
                                 f"(HTTP {resp.status}: {detail}). Add the file again.")

    def fetch_file(self, doc_id: str, dest: Path) -> bool:
        """Download the PDF to ``dest`` (atomically); False when the server has no such file."""
        conn, resp = self._file_request("GET", doc_id)
        with closing(conn):
            if resp.status == 404:
                return False
            if resp.status >= 300:
                raise StoreError(f"The index server at {self.url} could not send the PDF of {doc_id[:10]} "
                                 f"(HTTP {resp.status}). Try again later.")
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_suffix(".part")
            try:
                with open(tmp, "wb") as out:
                    shutil.copyfileobj(resp, out, 1024 * 1024)
                os.replace(tmp, dest)
            except (OSError, http.client.HTTPException) as err:
                tmp.unlink(missing_ok=True)
                raise self.error(f"download the PDF of {doc_id[:10]}", err) from None
        return True

    def delete_file(self, doc_id: str) -> None:
        conn, resp = self._file_request("DELETE", doc_id)
        with closing(conn):
            resp.read()

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
            self._collections.clear()
        if client is not None and hasattr(client, "close"):
            try:
                client.close()
            except Exception:  # noqa: BLE001 - closing must not fail the caller
                log.debug("closing the index client failed", exc_info=True)


def _is_unreachable(err: BaseException) -> bool:
    import httpx

    if isinstance(err, (httpx.ConnectError, httpx.TimeoutException, ConnectionError, TimeoutError)):
        return True
    return isinstance(err, ValueError) and "Could not connect" in str(err)


def _short(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    if "Could not connect" in text or "Connection refused" in text or "connection refused" in text:
        return "connection refused — is the server running, and is the port right?"
    return text[:200]
