"""A small SQLite cache of summaries per (document, model, summary schema version).

Why: summarising a long filing takes a minute on a small CPU model, and a document's
summary does not change until the document, the model or the summary format does. The
key holds all three, so a new model or a new schema simply misses the cache.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from app.analysis.summarize import SCHEMA_VERSION, summarize_document
from app.analysis.types import Summary
from app.errors import StoreError


def model_identity(llm: Any) -> str:
    """Name + file + quantisation of the model (what changes the summary's wording)."""
    if llm is None:
        return "extractive"
    info = getattr(llm, "info", None)
    parts = [str(getattr(info, a, "") or "") for a in ("name", "path", "quantization")]
    return "|".join(parts)


class SummaryCache:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            self._db.execute("CREATE TABLE IF NOT EXISTS summaries (doc_id TEXT NOT NULL, model TEXT NOT NULL, "
                             "schema INTEGER NOT NULL, created TEXT NOT NULL, data TEXT NOT NULL, "
                             "PRIMARY KEY (doc_id, model, schema))")
        except (OSError, sqlite3.Error) as err:
            raise StoreError(f"The summary cache at {self.path} cannot be opened ({err}). "
                             "Check that the data folder is writable, or delete the file.") from err

    def get(self, doc_id: str, model: str) -> Summary | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM summaries WHERE doc_id=? AND model=? AND schema=?",
                                   (doc_id, model, SCHEMA_VERSION)).fetchone()
        if row is None:
            return None
        try:
            return Summary.from_dict(json.loads(row[0]))
        except (ValueError, KeyError, TypeError):
            return None  # a damaged entry is simply recomputed

    def put(self, summary: Summary, model: str) -> None:
        data = json.dumps(summary.to_dict())
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO summaries VALUES (?, ?, ?, ?, ?)",
                             (summary.doc_id, model, SCHEMA_VERSION, now, data))

    def invalidate(self, doc_id: str) -> None:
        """Forget every summary of a document (call when it is removed or re-indexed)."""
        with self._lock:
            self._db.execute("DELETE FROM summaries WHERE doc_id=?", (doc_id,))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def summarize_cached(cache: SummaryCache, doc: Any, pages_fn: Callable[[], list], chunks_fn: Callable[[], list],
                     llm: Any, refresh: bool = False, **kwargs: Any) -> Summary:
    """The cached summary of ``doc`` for ``llm``, computing (and storing) it on a miss.

    ``pages_fn``/``chunks_fn`` load the document's pages/chunks only when needed.
    """
    key = model_identity(llm)
    if not refresh:
        hit = cache.get(doc.id, key)
        if hit is not None:
            return hit
    summary = summarize_document(doc, pages_fn(), chunks_fn(), llm, **kwargs)
    cache.put(summary, key)
    return summary
