"""Cache of risk reports per (document, taxonomy version) in a small SQLite file.

Why: a review takes seconds per document and the register export reviews every document;
the taxonomy version includes a hash of the playbook, so editing the playbook (or a new
model/taxonomy release) naturally misses the cache instead of serving stale findings.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from app.errors import StoreError
from app.risks.types import RiskReport


class ReviewCache:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False)
            self._db.execute("CREATE TABLE IF NOT EXISTS reviews (doc_id TEXT, version TEXT, report TEXT, "
                             "PRIMARY KEY (doc_id, version))")
            self._db.commit()
        except (OSError, sqlite3.Error) as e:
            raise StoreError(f"The risk review cache {self.path} cannot be opened ({e}). "
                             "Check the data folder is writable, or delete that file.") from e

    def get(self, doc_id: str, version: str) -> RiskReport | None:
        row = self._db.execute("SELECT report FROM reviews WHERE doc_id=? AND version=?", (doc_id, version)).fetchone()
        if not row:
            return None
        try:
            return RiskReport.from_dict(json.loads(row[0]))
        except (ValueError, KeyError, TypeError):
            return None  # written by an incompatible version: review again

    def put(self, report: RiskReport) -> None:
        self._db.execute("INSERT OR REPLACE INTO reviews VALUES (?, ?, ?)",
                         (report.doc_id, report.taxonomy_version, json.dumps(report.to_dict())))
        self._db.commit()

    def invalidate(self, doc_id: str | None = None) -> None:
        """Forget one document's reviews (e.g. when it is removed or re-ingested), or all."""
        if doc_id is None:
            self._db.execute("DELETE FROM reviews")
        else:
            self._db.execute("DELETE FROM reviews WHERE doc_id=?", (doc_id,))
        self._db.commit()

    def close(self) -> None:
        self._db.close()
