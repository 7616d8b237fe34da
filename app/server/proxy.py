"""Token-checking reverse proxy in front of a loopback Chroma server, plus the PDF file store.

Every request must carry a configured token (``Authorization: Bearer <token>`` or
``X-Chroma-Token: <token>``), except ``/api/v2/heartbeat`` (for health checks). Refused
requests get HTTP 401 with a JSON body in Chroma's error shape, so the chromadb client raises
a ``ChromaAuthError`` that Dossier turns into a clear message. Tokens never reach Chroma or a
log line.

``/dossier/v1/files/<doc_id>`` (PUT, GET, HEAD, DELETE) stores the original PDFs, named by
their content hash: a PUT whose bytes do not hash to ``doc_id`` is refused, so a file can
never be replaced by different content. They live beside the Chroma folder (one backup).

Why the standard library: the server must run from the same install as the desktop app;
``ThreadingHTTPServer`` gives one thread per client connection with HTTP/1.1 keep-alive,
and each thread keeps its own keep-alive connection to Chroma.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import re
import shutil
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app.server.tokens import TokenSet

log = logging.getLogger(__name__)

FILES_PREFIX = "/dossier/v1/files/"
PUBLIC_PATHS = frozenset({"/api/v2/heartbeat"})
MAX_BODY = 64 * 1024 * 1024  # Chroma requests (a batch of chunks is ~0.3 MB)
MAX_FILE = 1024 * 1024 * 1024  # one PDF
_DOC_ID = re.compile(r"^[0-9a-f]{32}$")
_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                  "transfer-encoding", "upgrade", "content-length", "authorization", "x-chroma-token", "host"})
_COPY = 1024 * 1024


class IndexProxy(ThreadingHTTPServer):
    """Listens on ``address``; forwards authenticated requests to Chroma at ``upstream``."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], upstream: tuple[str, int], tokens: TokenSet,
                 files_dir: str | os.PathLike[str]) -> None:
        super().__init__(address, _Handler)
        self.upstream = upstream
        self.tokens = tokens
        self.files_dir = Path(files_dir)
        self.files_dir.mkdir(parents=True, exist_ok=True)
        self.local = threading.local()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: IndexProxy
    server_version = "DossierIndex/1"
    #: headers and body go out in separate writes; with Nagle on, the body waits for the
    #: client's delayed ACK (~40 ms per response, measured ~100 ms per search without this)
    disable_nagle_algorithm = True

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s %s", self.address_string(), format % args)

    # -- dispatch ------------------------------------------------------------------------
    def _handle(self) -> None:
        path = urlsplit(self.path).path
        if path not in PUBLIC_PATHS and not self.server.tokens.accepts(self._token()):
            self._refuse()
            return
        try:
            if path.startswith(FILES_PREFIX):
                self._files(path[len(FILES_PREFIX):])
            else:
                self._forward()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _token(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip()
        return self.headers.get("X-Chroma-Token") or None

    def _refuse(self) -> None:
        sent = bool(self.headers.get("Authorization") or self.headers.get("X-Chroma-Token"))
        why = "the access token was not accepted" if sent else "an access token is required"
        log.warning("refused %s %s from %s: %s", self.command, urlsplit(self.path).path, self.client_address[0], why)
        self.close_connection = True  # the body (if any) is not read
        self._json(401, {"error": "AuthError", "message": f"Dossier index server: {why}."}, close=True)

    def _json(self, status: int, body: dict[str, Any], close: bool = False) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _length(self, limit: int) -> int | None:
        """The request's Content-Length, or None after answering 411/413."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            self._json(411, {"error": "InvalidArgumentError", "message": "send a Content-Length"}, close=True)
            return None
        n = int(self.headers.get("Content-Length") or 0)
        if n > limit:
            self.close_connection = True
            self._json(413, {"error": "InvalidArgumentError", "message": f"request larger than {limit} bytes"},
                       close=True)
            return None
        return n

    # -- Chroma ------------------------------------------------------------------------------
    def _forward(self) -> None:
        n = self._length(MAX_BODY)
        if n is None:
            return
        body = self.rfile.read(n) if n else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
        try:
            status, reason, resp_headers, data = self._upstream(body, headers)
        except OSError as err:
            log.error("Chroma at %s:%d is not answering: %s", *self.server.upstream, err)
            self._json(502, {"error": "InternalError", "message": "the index database is not answering"})
            return
        self.send_response(status, reason)
        for k, v in resp_headers:
            if k.lower() not in _HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _upstream(self, body: bytes | None, headers: dict[str, str]) -> tuple[int, str, list, bytes]:
        """One request to Chroma on this thread's keep-alive connection (one retry on a stale one)."""
        for attempt in (0, 1):
            conn = getattr(self.server.local, "conn", None)
            if conn is None:
                conn = http.client.HTTPConnection(*self.server.upstream, timeout=600)
                self.server.local.conn = conn
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                return resp.status, resp.reason, resp.getheaders(), data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
                    http.client.CannotSendRequest, http.client.ResponseNotReady):
                conn.close()
                self.server.local.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    # -- PDF files ----------------------------------------------------------------------------
    def _files(self, doc_id: str) -> None:
        if not _DOC_ID.match(doc_id):
            self._json(400, {"error": "InvalidArgumentError", "message": "a file id is 32 hex characters"})
            return
        path = self.server.files_dir / doc_id[:2] / f"{doc_id}.pdf"
        if self.command == "PUT":
            self._put_file(doc_id, path)
        elif self.command in ("GET", "HEAD"):
            self._get_file(path)
        elif self.command == "DELETE":
            path.unlink(missing_ok=True)
            self._json(200, {"deleted": doc_id})
        else:
            self._json(405, {"error": "InvalidArgumentError", "message": f"{self.command} is not supported"})

    def _put_file(self, doc_id: str, path: Path) -> None:
        n = self._length(MAX_FILE)
        if n is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                left = n
                while left:
                    block = self.rfile.read(min(_COPY, left))
                    if not block:
                        raise ConnectionResetError("the upload ended early")
                    digest.update(block)
                    out.write(block)
                    left -= len(block)
                out.flush()
                os.fsync(out.fileno())
            if not digest.hexdigest().startswith(doc_id):
                self._json(400, {"error": "InvalidArgumentError", "message": "the file does not match its id"})
                return
            os.replace(tmp, path)
            tmp = ""
        finally:
            if tmp:
                Path(tmp).unlink(missing_ok=True)
        self._json(201, {"stored": doc_id, "bytes": n})

    def _get_file(self, path: Path) -> None:
        try:
            fh = open(path, "rb")
        except FileNotFoundError:
            self._json(404, {"error": "NotFoundError", "message": "no such file on the index server"})
            return
        with fh:
            size = os.fstat(fh.fileno()).st_size
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if self.command != "HEAD":
                shutil.copyfileobj(fh, self.wfile, _COPY)
