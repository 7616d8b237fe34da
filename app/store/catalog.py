"""The catalog: one SQLite file (WAL) with documents, page texts, chunks and an FTS5 index.

The catalog is the source of truth for what is *visible*: a document exists for search and
the library only once :meth:`Catalog.commit_document` has written its row, pages, chunks
and FTS rows in a single transaction. Vectors are written to Chroma before that commit;
any vector whose document is not indexed here is an orphan (see ``VectorIndex.sweep_orphans``).
A crash at any moment therefore leaves either the old state or the new one, never a half.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from app.errors import StoreError
from app.store.fts import TOKENIZER, build_match, fts_text
from app.types import Chunk, DocumentRecord, PageText

SCHEMA_VERSION = "1"
#: FTS5 columns. ``doc`` holds the document id so a scoped search filters inside the MATCH
#: (FTS5 intersects doclists) instead of scoring every matching chunk of the whole library.
FTS_COLUMNS = ("text", "context", "section", "doc")
CATALOG_FILE = "catalog.sqlite"

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    workspace TEXT NOT NULL, id TEXT NOT NULL, path TEXT NOT NULL, title TEXT NOT NULL,
    page_count INTEGER NOT NULL, doc_type TEXT NOT NULL, status TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '', ingested_at TEXT NOT NULL DEFAULT '',
    index_settings TEXT NOT NULL DEFAULT '', textless_pages TEXT NOT NULL DEFAULT '[]',
    chunk_count INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (workspace, id));
CREATE INDEX IF NOT EXISTS documents_path ON documents (workspace, path);
CREATE TABLE IF NOT EXISTS pages (
    workspace TEXT NOT NULL, doc_id TEXT NOT NULL, page INTEGER NOT NULL, text TEXT NOT NULL,
    has_text INTEGER NOT NULL, ocr INTEGER NOT NULL, layout TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (workspace, doc_id, page));
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY, workspace TEXT NOT NULL, doc_id TEXT NOT NULL,
    ordinal INTEGER NOT NULL, section TEXT NOT NULL, page_start INTEGER NOT NULL,
    page_end INTEGER NOT NULL, char_start INTEGER NOT NULL, char_end INTEGER NOT NULL,
    kind TEXT NOT NULL, text TEXT NOT NULL, context TEXT NOT NULL DEFAULT '',
    UNIQUE (workspace, doc_id, ordinal));
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5({", ".join(FTS_COLUMNS)}, tokenize="{TOKENIZER}");
CREATE TABLE IF NOT EXISTS failures (
    workspace TEXT NOT NULL, path TEXT NOT NULL, sha TEXT NOT NULL, error TEXT NOT NULL,
    at TEXT NOT NULL);
"""

_DOC_COLS = ("workspace, id, path, title, page_count, doc_type, status, error, ingested_at, "
             "index_settings, textless_pages, chunk_count")
#: Columns added after a catalog format shipped: (table, column, definition). Older catalogs
#: get them on open (ALTER TABLE ADD COLUMN); the schema version stays, old rows keep working.
_ADDED_COLUMNS = (("pages", "layout", "TEXT NOT NULL DEFAULT ''"),)  # OCR boxes (app.text.layout)
#: A document's OCR'd pages, read from its page rows (so they can never disagree).
_OCR_PAGES = ("(SELECT group_concat(p.page) FROM pages p WHERE p.workspace=documents.workspace "
              "AND p.doc_id=documents.id AND p.ocr=1 AND p.has_text=1)")
_DOC_SELECT = f"{_DOC_COLS}, {_OCR_PAGES}"
_CHUNK_COLS = "doc_id, ordinal, text, section, page_start, page_end, char_start, char_end, kind, context"
#: bm25() column weights: chunk text, heading/table context, section path, doc id (filter only).
BM25_WEIGHTS = (1.0, 0.6, 0.4, 0.0)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _store_error(path: Path, err: sqlite3.Error) -> StoreError:
    msg = str(err).lower()
    if "locked" in msg or "busy" in msg:
        why = "it is locked by another program (is Dossier already running?). Close the other program and try again"
    elif "readonly" in msg or "read-only" in msg or "unable to open" in msg or "permission" in msg:
        why = "the folder cannot be written. Choose a writable data folder or fix its permissions"
    elif "not a database" in msg or "malformed" in msg or "corrupt" in msg:
        why = "the file is damaged. Move it aside (Dossier will build a new index) and re-add your documents"
    elif "full" in msg or "disk" in msg:
        why = "the disk is full. Free some space and try again"
    else:
        why = f"of a database error ({err}). Try again; if it persists, move the file aside and re-add your documents"
    return StoreError(f"The document index at {path} cannot be used because {why}.")


class Catalog:
    """Thread-safe handle on ``catalog.sqlite`` (one connection, serialised by a lock)."""

    def __init__(self, path: Path, timeout: float = 5.0) -> None:
        path = Path(path)
        self.path = path if path.suffix in (".sqlite", ".sqlite3", ".db") else path / CATALOG_FILE
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreError(f"The data folder {self.path.parent} cannot be created ({err.strerror}). "
                             "Choose a writable data folder.") from err
        try:
            self._db = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None,
                                       check_same_thread=False)
        except sqlite3.Error as err:
            raise _store_error(self.path, err) from err
        try:
            self._init_schema()
        except sqlite3.Error as err:
            self._db.close()
            raise _store_error(self.path, err) from err

    def _init_schema(self) -> None:
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        with self._tx() as db:
            for stmt in _SCHEMA.split(";\n"):
                if stmt.strip():
                    db.execute(stmt)
            cols = tuple(r[1] for r in db.execute("PRAGMA table_info(chunks_fts)"))
            if cols != FTS_COLUMNS:
                self._rebuild_fts(db)
            for table, column, definition in _ADDED_COLUMNS:
                if column not in {r[1] for r in db.execute(f"PRAGMA table_info({table})")}:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
            row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            elif row[0] != SCHEMA_VERSION:
                raise StoreError(f"The document index at {self.path} was written by another Dossier "
                                 f"version (schema {row[0]}). Use that version, or move the file aside "
                                 "and re-add your documents.")

    @staticmethod
    def _rebuild_fts(db: sqlite3.Connection) -> None:
        """Recreate the FTS index from the chunks table (an index written by an older build)."""
        db.execute("DROP TABLE IF EXISTS chunks_fts")
        db.execute(f'CREATE VIRTUAL TABLE chunks_fts USING fts5({", ".join(FTS_COLUMNS)}, tokenize="{TOKENIZER}")')
        rows = db.execute("SELECT rowid, text, context, section, doc_id FROM chunks").fetchall()
        db.executemany("INSERT INTO chunks_fts (rowid, text, context, section, doc) VALUES (?,?,?,?,?)",
                       [(r, fts_text(t), fts_text(c), fts_text(s), d) for r, t, c, s, d in rows])

    # -- plumbing --------------------------------------------------------------------
    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; rolls back on any error (nothing of it becomes visible)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")

    def _write(self, fn: Any, *args: Any) -> Any:
        try:
            with self._tx() as db:
                return fn(db, *args)
        except sqlite3.Error as err:
            raise _store_error(self.path, err) from err

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        try:
            with self._lock:
                return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as err:
            raise _store_error(self.path, err) from err

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- documents -------------------------------------------------------------------
    @staticmethod
    def _record(row: tuple) -> DocumentRecord:
        (ws, id_, path, title, pc, dt, st, err, at, idx, textless, cc, ocr) = row
        return DocumentRecord(id=id_, path=path, title=title, page_count=pc, doc_type=dt, status=st,
                              error=err, ingested_at=at, index_settings=idx, workspace=ws,
                              textless_pages=json.loads(textless or "[]"), chunk_count=cc,
                              ocr_pages=sorted(int(p) for p in str(ocr).split(",")) if ocr else [])

    def get(self, workspace: str, doc_id: str) -> DocumentRecord | None:
        rows = self._read(f"SELECT {_DOC_SELECT} FROM documents WHERE workspace=? AND id=?", (workspace, doc_id))
        return self._record(rows[0]) if rows else None

    def find_by_path(self, workspace: str, path: str) -> DocumentRecord | None:
        """The document last ingested from ``path`` (indexed ones first)."""
        rows = self._read(f"SELECT {_DOC_SELECT} FROM documents WHERE workspace=? AND path=? "
                          "ORDER BY status='indexed' DESC, ingested_at DESC LIMIT 1", (workspace, str(path)))
        return self._record(rows[0]) if rows else None

    def list_documents(self, workspace: str) -> list[DocumentRecord]:
        rows = self._read(f"SELECT {_DOC_SELECT} FROM documents WHERE workspace=? ORDER BY title, id", (workspace,))
        return [self._record(r) for r in rows]

    def workspaces(self) -> list[str]:
        return [r[0] for r in self._read("SELECT DISTINCT workspace FROM documents ORDER BY 1")]

    def indexed_doc_ids(self, workspace: str) -> set[str]:
        rows = self._read("SELECT id FROM documents WHERE workspace=? AND status='indexed'", (workspace,))
        return {r[0] for r in rows}

    # -- writes ----------------------------------------------------------------------
    @staticmethod
    def _delete(db: sqlite3.Connection, workspace: str, doc_id: str) -> None:
        db.execute("DELETE FROM chunks_fts WHERE rowid IN (SELECT rowid FROM chunks WHERE workspace=? AND doc_id=?)",
                   (workspace, doc_id))
        db.execute("DELETE FROM chunks WHERE workspace=? AND doc_id=?", (workspace, doc_id))
        db.execute("DELETE FROM pages WHERE workspace=? AND doc_id=?", (workspace, doc_id))
        db.execute("DELETE FROM documents WHERE workspace=? AND id=?", (workspace, doc_id))

    @staticmethod
    def _insert_doc(db: sqlite3.Connection, r: DocumentRecord) -> None:
        db.execute(f"INSERT INTO documents ({_DOC_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                   (r.workspace, r.id, str(r.path), r.title, r.page_count, r.doc_type, r.status, r.error,
                    r.ingested_at or _now(), r.index_settings, json.dumps(list(r.textless_pages)), r.chunk_count))

    def commit_document(self, record: DocumentRecord, pages: list[PageText], chunks: list[Chunk],
                        replaces: Iterable[str] = ()) -> None:
        """Make a document visible, atomically replacing ``replaces`` (and failed rows of its path)."""
        ws = record.workspace
        rec = DocumentRecord(**{**record.to_dict(), "status": "indexed", "error": "",
                                "chunk_count": len(chunks), "ingested_at": record.ingested_at or _now()})

        def run(db: sqlite3.Connection) -> None:
            stale = db.execute("SELECT id FROM documents WHERE workspace=? AND path=? AND status!='indexed'",
                               (ws, str(rec.path))).fetchall()
            for doc_id in {*replaces, rec.id, *(r[0] for r in stale)}:
                self._delete(db, ws, doc_id)
            self._insert_doc(db, rec)
            db.executemany("INSERT INTO pages (workspace, doc_id, page, text, has_text, ocr, layout) "
                           "VALUES (?,?,?,?,?,?,?)",
                           [(ws, rec.id, p.page, p.text, int(p.has_text), int(p.ocr), p.layout) for p in pages])
            for c in chunks:
                if c.doc_id != rec.id:
                    raise ValueError(f"chunk {c.id} does not belong to document {rec.id}")
                cur = db.execute(f"INSERT INTO chunks (workspace, {_CHUNK_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                                 (ws, c.doc_id, c.ordinal, c.text, c.section, c.page_start, c.page_end,
                                  c.char_start, c.char_end, c.kind, c.context))
                db.execute("INSERT INTO chunks_fts (rowid, text, context, section, doc) VALUES (?,?,?,?,?)",
                           (cur.lastrowid, fts_text(c.text), fts_text(c.context), fts_text(c.section), c.doc_id))

        self._write(run)

    def record_failure(self, workspace: str, path: str, sha: str, error: str, status: str = "failed") -> str:
        """Show a document that could not be ingested (no chunks) and log the failure; returns its id."""
        if status not in ("failed", "needs_password"):
            raise ValueError(f"status must be 'failed' or 'needs_password', not {status!r}")
        import hashlib

        doc_id = sha[:32] if sha else hashlib.sha256(str(path).encode()).hexdigest()[:32]
        rec = DocumentRecord(id=doc_id, path=str(path), title=Path(str(path)).name, page_count=0,
                             doc_type="other", status=status, error=error, workspace=workspace)  # type: ignore[arg-type]

        def run(db: sqlite3.Connection) -> None:
            old = db.execute("SELECT id FROM documents WHERE workspace=? AND path=? AND status!='indexed'",
                             (workspace, str(path))).fetchall()
            for d in {doc_id, *(r[0] for r in old)}:
                if d == doc_id and db.execute("SELECT 1 FROM documents WHERE workspace=? AND id=? AND "
                                              "status='indexed'", (workspace, d)).fetchone():
                    continue  # never hide an indexed copy of the same bytes
                self._delete(db, workspace, d)
            if not db.execute("SELECT 1 FROM documents WHERE workspace=? AND id=?", (workspace, doc_id)).fetchone():
                self._insert_doc(db, rec)
            db.execute("INSERT INTO failures VALUES (?,?,?,?,?)", (workspace, str(path), sha, error, _now()))

        self._write(run)
        return doc_id

    def failures(self, workspace: str) -> list[dict[str, str]]:
        rows = self._read("SELECT path, sha, error, at FROM failures WHERE workspace=? ORDER BY rowid", (workspace,))
        return [dict(zip(("path", "sha", "error", "at"), r)) for r in rows]

    def remove(self, workspace: str, doc_id: str) -> bool:
        """Delete a document and everything of it; True if it existed."""
        def run(db: sqlite3.Connection) -> bool:
            found = db.execute("SELECT 1 FROM documents WHERE workspace=? AND id=?", (workspace, doc_id)).fetchone()
            self._delete(db, workspace, doc_id)
            return found is not None

        return bool(self._write(run))

    # -- pages and chunks ------------------------------------------------------------
    def pages(self, workspace: str, doc_id: str) -> list[PageText]:
        rows = self._read("SELECT page, text, has_text, ocr, layout FROM pages WHERE workspace=? AND doc_id=? "
                          "ORDER BY page", (workspace, doc_id))
        return [PageText(page=p, text=t, has_text=bool(h), ocr=bool(o), layout=lay) for p, t, h, o, lay in rows]

    def page_text(self, workspace: str, doc_id: str, page: int) -> str:
        rows = self._read("SELECT text FROM pages WHERE workspace=? AND doc_id=? AND page=?", (workspace, doc_id, page))
        return rows[0][0] if rows else ""

    @staticmethod
    def _chunk(row: tuple) -> Chunk:
        d, o, t, s, ps, pe, cs, ce, k, ctx = row
        return Chunk(doc_id=d, ordinal=o, text=t, section=s, page_start=ps, page_end=pe, char_start=cs,
                     char_end=ce, kind=k, context=ctx)

    def chunks(self, workspace: str, doc_id: str) -> list[Chunk]:
        rows = self._read(f"SELECT {_CHUNK_COLS} FROM chunks WHERE workspace=? AND doc_id=? ORDER BY ordinal",
                          (workspace, doc_id))
        return [self._chunk(r) for r in rows]

    def chunks_by_ids(self, workspace: str, ids: Iterable[str]) -> dict[str, Chunk]:
        """Chunks by id ("docid:ordinal"); unknown ids are left out."""
        by_doc: dict[str, list[int]] = {}
        for cid in ids:
            doc_id, _, ordinal = str(cid).rpartition(":")
            if doc_id and ordinal.isdigit():
                by_doc.setdefault(doc_id, []).append(int(ordinal))
        out: dict[str, Chunk] = {}
        for doc_id, ordinals in by_doc.items():  # one index range per document
            for i in range(0, len(ordinals), 500):
                part = ordinals[i:i + 500]
                sql = (f"SELECT {_CHUNK_COLS} FROM chunks WHERE workspace=? AND doc_id=? "
                       f"AND ordinal IN ({','.join('?' * len(part))})")
                for row in self._read(sql, [workspace, doc_id, *part]):
                    c = self._chunk(row)
                    out[c.id] = c
        return out

    # -- lexical search --------------------------------------------------------------
    def lexical_search(self, workspace: str, query: str, doc_ids: list[str] | None = None,
                       k: int = 50, drop_terms: set[str] | None = None) -> list[tuple[str, float]]:
        """BM25 top-``k`` chunk ids for free text (higher score = better); never raises on odd input.
        ``drop_terms``: words to leave out of the query (see :func:`app.store.fts.title_terms`)."""
        match = build_match(query, drop=drop_terms or frozenset())
        if not match or (doc_ids is not None and not doc_ids):
            return []
        if doc_ids is not None:
            scope = " OR ".join('"' + d.replace('"', '""') + '"' for d in dict.fromkeys(doc_ids))
            match = f"({match}) AND doc : ({scope})"
        sql = ("SELECT c.doc_id, c.ordinal, bm25(chunks_fts, ?, ?, ?, ?) AS s FROM chunks_fts "
               "JOIN chunks c ON c.rowid = chunks_fts.rowid WHERE chunks_fts MATCH ? AND c.workspace=?")
        params: list[Any] = [*BM25_WEIGHTS, match, workspace]
        if doc_ids is not None:  # exact filter too: the MATCH above matches id *tokens*
            sql += f" AND c.doc_id IN ({','.join('?' * len(doc_ids))})"
            params.extend(doc_ids)
        sql += " ORDER BY s LIMIT ?"
        params.append(int(k))
        return [(f"{d}:{o}", -float(s)) for d, o, s in self._read(sql, params)]
