"""Access tokens of the team index server: generation, the token file, constant-time checks.

Why hashes: the server only needs to *recognise* a token, so the token file may hold
``sha256:<hex>`` lines instead of the tokens themselves (a stolen server backup then reveals
no usable token). Plain tokens are accepted too for quick setups. The file is re-read when it
changes, so revoking a colleague's token is "delete the line", without a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

ENV_TOKEN = "DOSSIER_INDEX_TOKEN"
_RECHECK_S = 2.0


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hash_line(token: str) -> str:
    """The line to put in the server's token file for ``token``."""
    return f"sha256:{token_hash(token)}"


def parse_token_lines(text: str) -> set[str]:
    """SHA-256 hex digests of the tokens in a token file (``#`` comments, blank lines ignored)."""
    hashes: set[str] = set()
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("sha256:") and len(line) == 71:
            hashes.add(line[7:].lower())
        else:
            hashes.add(token_hash(line))
    return hashes


class TokenSet:
    """The accepted tokens: from ``DOSSIER_INDEX_TOKEN`` and/or a token file (re-read on change)."""

    def __init__(self, token_file: str | os.PathLike[str] | None = None, env_token: str | None = None) -> None:
        self.path = Path(token_file) if token_file else None
        self._env = {token_hash(env_token)} if env_token else set()
        self._file: set[str] = set()
        self._mtime = -1.0
        self._checked = 0.0
        self._lock = threading.Lock()
        self._reload(force=True)
        if not self._env and not self._file:
            where = f"the token file {self.path}" if self.path else f"${ENV_TOKEN} or --token-file"
            raise ValueError(f"No access token is configured ({where} is empty). "
                             "Create one with 'dossier index-token' and start the server again.")

    def _reload(self, force: bool = False) -> None:
        if self.path is None:
            return
        now = time.monotonic()
        if not force and now - self._checked < _RECHECK_S:
            return
        self._checked = now
        try:
            mtime = self.path.stat().st_mtime
            if mtime == self._mtime and not force:
                return
            hashes = parse_token_lines(self.path.read_text(encoding="utf-8"))
        except OSError as err:
            if force:
                raise ValueError(f"The token file {self.path} cannot be read ({err.strerror}).") from err
            log.warning("token file %s cannot be read (%s); keeping the previous tokens", self.path, err.strerror)
            return
        if not force and hashes != self._file:
            log.warning("token file %s changed: %d token(s) now accepted", self.path, len(hashes) + len(self._env))
        self._file, self._mtime = hashes, mtime

    def accepts(self, token: str | None) -> bool:
        """True when ``token`` is one of the configured tokens (compared in constant time)."""
        if not token:
            return False
        with self._lock:
            self._reload()
            known = self._env | self._file
        digest = token_hash(token)
        ok = False
        for h in known:  # no early exit: the time taken does not depend on which token matched
            ok |= hmac.compare_digest(h, digest)
        return ok

    def __len__(self) -> int:
        return len(self._env | self._file)
