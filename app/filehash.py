"""SHA-256 of large files (model weights), cached by path, size and modification time.

Why: the audit trail and ``dossier doctor`` name the exact model file by its hash, but a
7B GGUF is 4-5 GB (~10 s to hash); it is hashed once and the result reused until the
file changes (a different size or mtime means a different file as far as we are concerned).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)

CACHE_FILE = "file_hashes.json"
_LOCK = threading.Lock()
_MEMO: dict[tuple[str, int, int], str] = {}


def sha256_file(path: str | os.PathLike[str], block: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for piece in iter(lambda: fh.read(block), b""):
            h.update(piece)
    return h.hexdigest()


def sha256_cached(path: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None) -> str:
    """The file's SHA-256, from the cache when path, size and mtime are unchanged.
    ``cache_dir`` (the data folder) keeps the cache across runs; a read-only folder only
    loses that persistence, never the answer."""
    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns)
    cache = _load(cache_dir)
    entry = cache.get(str(p))
    if isinstance(entry, dict) and entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns:
        digest = str(entry.get("sha256", ""))
    else:
        with _LOCK:
            digest = _MEMO.get(key, "")
        digest = digest or sha256_file(p)
        cache[str(p)] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}
        _save(cache_dir, cache)
    with _LOCK:
        _MEMO[key] = digest
    return digest


def _load(cache_dir: str | os.PathLike[str] | None) -> dict[str, object]:
    if cache_dir is None:
        return {}
    try:
        data = json.loads((Path(cache_dir) / CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(cache_dir: str | os.PathLike[str] | None, cache: dict[str, object]) -> None:
    if cache_dir is None:
        return
    path = Path(cache_dir) / CACHE_FILE
    tmp = path.with_name(f"{CACHE_FILE}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(cache, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as err:
        log.info("file hash cache not saved in %s (%s)", cache_dir, err)
