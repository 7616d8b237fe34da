"""Store integrity check and repair (``dossier doctor --check [--repair]``).

Why: a document lives in three places — its catalog rows (SQLite: document, pages,
chunks), its FTS5 rows (lexical search) and its Chroma vectors (dense search). A crash,
a disk error, a restored backup or a hand-edited file can leave them out of step, and
search then silently misses passages. This module compares the three, per document, and
repairs what it can:

* missing vectors: re-embedded from the chunk text stored in the catalog (the same
  ``embedding_text`` the ingest used), so nothing needs the original PDF;
* FTS rows missing, orphaned, altered, or an FTS index that fails FTS5's own
  ``integrity-check``: the FTS index is rebuilt from the chunks table;
* vectors of documents that are not indexed, or of chunks that do not exist: deleted;
* catalog chunk/page rows of documents that are not indexed: deleted;
* chunks or pages missing from the catalog (the text itself is gone): the document is
  marked ``failed`` with a reason that says to add the file again.

It reads the catalog over its own SQLite connection (like ``fsck``, independent of the
code it checks) and does not sweep orphans on open, so a check reports exactly what is on
disk. Documents indexed with other index settings (another embedder or chunking) are
reported, not re-embedded: their chunks belong to another chunking, so they need a re-ingest.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, field
from typing import Any

from app.types import CancelToken, Progress, ProgressFn, no_progress

EMBED_BATCH = 32
_PAGE = 5000


@dataclass
class DocCheck:
    doc_id: str
    title: str
    path: str
    expected_chunks: int
    chunks: int = 0
    expected_pages: int = 0
    pages: int = 0
    missing_vectors: list[str] = field(default_factory=list)
    extra_vectors: list[str] = field(default_factory=list)
    missing_fts: int = 0
    altered_fts: int = 0
    other_settings: str = ""
    repaired: list[str] = field(default_factory=list)
    marked_failed: str = ""

    @property
    def unrepairable(self) -> str:
        """Why the document cannot be repaired from the store ("" when it can)."""
        why = []
        if self.chunks < self.expected_chunks:
            why.append(f"{self.expected_chunks - self.chunks} of {self.expected_chunks} text chunks are missing")
        if self.pages < self.expected_pages:
            why.append(f"{self.expected_pages - self.pages} of {self.expected_pages} pages are missing")
        return "; ".join(why)

    def problems(self) -> list[str]:
        out = [self.unrepairable] if self.unrepairable else []
        if self.missing_vectors:
            out.append(f"{len(self.missing_vectors)} of {self.chunks} chunks have no vector (dense search misses them)")
        if self.extra_vectors:
            out.append(f"{len(self.extra_vectors)} vectors belong to no chunk of this document")
        if self.missing_fts:
            out.append(f"{self.missing_fts} chunks are missing from the lexical index")
        if self.altered_fts:
            out.append(f"{self.altered_fts} lexical index rows do not match their chunk")
        return out

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["problems"] = self.problems()
        d["missing_vectors"] = len(self.missing_vectors)
        d["extra_vectors"] = len(self.extra_vectors)
        return d


@dataclass
class StoreCheck:
    workspace: str
    collection: str
    documents: list[DocCheck] = field(default_factory=list)
    orphan_vectors: dict[str, int] = field(default_factory=dict)  # doc id -> vectors
    orphan_fts_rows: int = 0
    orphan_catalog_rows: int = 0
    fts_integrity: str = "ok"
    actions: list[str] = field(default_factory=list)
    remaining: list[str] | None = None  # after a repair: what is still wrong

    def problems(self) -> list[str]:
        out = [f"{d.title} ({d.doc_id[:12]}): {p}" for d in self.documents for p in d.problems()]
        if self.orphan_vectors:
            out.append(f"{sum(self.orphan_vectors.values())} vectors of {len(self.orphan_vectors)} documents "
                       "that are not indexed (orphans)")
        if self.orphan_fts_rows:
            out.append(f"{self.orphan_fts_rows} lexical index rows belong to no chunk")
        if self.orphan_catalog_rows:
            out.append(f"{self.orphan_catalog_rows} catalog rows belong to no indexed document")
        if self.fts_integrity != "ok":
            out.append(f"the lexical index failed its integrity check ({self.fts_integrity})")
        return out

    @property
    def ok(self) -> bool:
        return not (self.remaining if self.remaining is not None else self.problems())

    def to_dict(self) -> dict[str, Any]:
        return {"workspace": self.workspace, "collection": self.collection, "ok": self.ok,
                "documents": [d.to_dict() for d in self.documents], "orphan_vectors": dict(self.orphan_vectors),
                "orphan_fts_rows": self.orphan_fts_rows, "orphan_catalog_rows": self.orphan_catalog_rows,
                "fts_integrity": self.fts_integrity, "problems": self.problems(), "actions": list(self.actions),
                "remaining": self.remaining}


# -- checking ----------------------------------------------------------------------------

def open_vectors(library: Any) -> Any:
    """The library's vector index, opened without the start-up orphan sweep (a check must
    see what is on disk, and only ``--repair`` may change it)."""
    before = library.may_sweep
    library.may_sweep = False
    try:
        return library.vectors
    finally:
        library.may_sweep = before


def _collection(vectors: Any) -> Any:
    return vectors._col  # the Chroma collection: ids by document are not part of VectorIndex's API


def vector_ids_by_doc(vectors: Any) -> dict[str, set[str]]:
    col, out = _collection(vectors), {}
    total = int(vectors.count())
    for offset in range(0, total, _PAGE):
        res = vectors._guard("read vectors", col.get, include=["metadatas"], limit=_PAGE, offset=offset)
        for cid, meta in zip(res["ids"], res["metadatas"]):
            doc = str((meta or {}).get("doc_id") or cid.rpartition(":")[0])
            out.setdefault(doc, set()).add(cid)
    return out


def _connect(library: Any) -> sqlite3.Connection:
    return _open(library.catalog.path)


def _open(path: Any) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA busy_timeout=30000")
    return db


def check(library: Any, on_progress: ProgressFn = no_progress, cancel: CancelToken | None = None) -> StoreCheck:
    """Compare catalog, FTS index and vectors of the library's workspace; changes nothing."""
    ws = library.workspace
    vectors = open_vectors(library)
    result = StoreCheck(workspace=ws, collection=vectors.collection)
    db = _connect(library)
    try:
        by_doc = vector_ids_by_doc(vectors)
        fts = _fts_state(db)
        docs = [d for d in library.catalog.list_documents(ws) if d.status == "indexed"]
        for i, doc in enumerate(docs):
            if cancel is not None:
                cancel.raise_if_cancelled()
            on_progress(Progress("check", i, len(docs), "documents", doc.title, doc.path))
            result.documents.append(_check_doc(db, library, doc, by_doc, fts))
        indexed = {d.id for d in docs}
        result.orphan_vectors = {d: len(ids) for d, ids in by_doc.items() if d not in indexed}
        result.orphan_fts_rows = len(fts["orphans"])
        result.orphan_catalog_rows = _orphan_catalog_rows(db, ws, count_only=True)
        result.fts_integrity = fts.get("error") or _fts_integrity(db)
        on_progress(Progress("check", len(docs), len(docs), "documents", "Checked"))
    finally:
        db.close()
    return result


def _check_doc(db: sqlite3.Connection, library: Any, doc: Any, by_doc: dict[str, set[str]],
               fts: dict[str, Any]) -> DocCheck:
    ws = library.workspace
    rows = db.execute("SELECT rowid, ordinal FROM chunks WHERE workspace=? AND doc_id=?", (ws, doc.id)).fetchall()
    pages = db.execute("SELECT COUNT(*) FROM pages WHERE workspace=? AND doc_id=?", (ws, doc.id)).fetchone()[0]
    dc = DocCheck(doc.id, doc.title, doc.path, expected_chunks=doc.chunk_count, chunks=len(rows),
                  expected_pages=doc.page_count, pages=int(pages))
    dc.missing_fts = sum(1 for rowid, _ in rows if rowid not in fts["rows"])
    dc.altered_fts = sum(1 for rowid, _ in rows if rowid in fts["altered"])
    if doc.index_settings and doc.index_settings != library.index_identity:
        dc.other_settings = doc.index_settings
        return dc
    expected = {f"{doc.id}:{ordinal}" for _, ordinal in rows}
    have = by_doc.get(doc.id, set())
    dc.missing_vectors = sorted(expected - have, key=_ordinal)
    dc.extra_vectors = sorted(have - expected, key=_ordinal)
    return dc


def _ordinal(chunk_id: str) -> int:
    tail = chunk_id.rpartition(":")[2]
    return int(tail) if tail.isdigit() else -1


def _fts_state(db: sqlite3.Connection) -> dict[str, Any]:
    """Merge-join chunks and chunks_fts by rowid (all workspaces share the FTS table):
    FTS rowids present, FTS rows with no chunk, and rows whose content differs."""
    from app.store.fts import fts_text

    chunks = db.execute("SELECT rowid, text, context, section, doc_id FROM chunks ORDER BY rowid")
    try:
        fts_rows = db.cursor().execute("SELECT rowid, text, context, section, doc FROM chunks_fts ORDER BY rowid")
    except sqlite3.DatabaseError as err:  # the FTS table cannot even be opened: every row is missing
        return {"rows": set(), "orphans": [], "altered": set(), "error": str(err)}
    present: set[int] = set()
    orphans: list[int] = []
    altered: set[int] = set()
    a, b = next(chunks, None), next(fts_rows, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):  # a chunk without an FTS row
            a = next(chunks, None)
        elif a is None or b[0] < a[0]:  # an FTS row without a chunk
            orphans.append(b[0])
            b = next(fts_rows, None)
        else:
            present.add(a[0])
            if tuple(b[1:]) != (fts_text(a[1]), fts_text(a[2]), fts_text(a[3]), a[4]):
                altered.add(a[0])
            a, b = next(chunks, None), next(fts_rows, None)
    return {"rows": present, "orphans": orphans, "altered": altered}


def _fts_integrity(db: sqlite3.Connection) -> str:
    try:
        db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES('integrity-check')")
    except sqlite3.Error as err:
        return str(err)
    return "ok"


def _orphan_catalog_rows(db: sqlite3.Connection, ws: str, count_only: bool) -> int:
    where = "workspace=? AND doc_id NOT IN (SELECT id FROM documents WHERE workspace=? AND status='indexed')"
    if count_only:
        return sum(int(db.execute(f"SELECT COUNT(*) FROM {t} WHERE {where}", (ws, ws)).fetchone()[0])
                   for t in ("chunks", "pages"))
    n = 0
    db.execute(f"DELETE FROM chunks_fts WHERE rowid IN (SELECT rowid FROM chunks WHERE {where})", (ws, ws))
    for table in ("chunks", "pages"):
        n += db.execute(f"DELETE FROM {table} WHERE {where}", (ws, ws)).rowcount
    return n


# -- repairing ---------------------------------------------------------------------------

def repair(library: Any, found: StoreCheck, on_progress: ProgressFn = no_progress,
           cancel: CancelToken | None = None) -> list[str]:
    """Fix what ``found`` reports (see the module docstring); returns the actions taken,
    and records per-document actions on ``found.documents``."""
    actions: list[str] = []
    vectors = open_vectors(library)
    if found.orphan_fts_rows or found.fts_integrity != "ok" or any(d.missing_fts or d.altered_fts
                                                                   for d in found.documents):
        rebuild_fts(library.catalog.path)  # first: the steps below delete FTS rows, which needs a working table
        actions.append("rebuilt the lexical index from the stored chunks")
        for d in found.documents:
            if d.missing_fts or d.altered_fts:
                d.repaired.append("lexical index rebuilt")
    db = _connect(library)
    try:
        for dc in found.documents:
            if dc.unrepairable:
                _mark_failed(db, library, dc, vectors)
                actions.append(f"{dc.title} ({dc.doc_id[:12]}): marked failed — {dc.marked_failed}")
        removed = _tx(db, lambda: _orphan_catalog_rows(db, library.workspace, count_only=False))
        if removed:
            actions.append(f"deleted {removed} catalog rows of documents that are not indexed")
    finally:
        db.close()
    _repair_vectors(library, vectors, found, actions, on_progress, cancel)
    return actions


def _tx(db: sqlite3.Connection, fn: Any) -> Any:
    db.execute("BEGIN IMMEDIATE")
    try:
        out = fn()
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return out


def rebuild_fts(catalog_path: Any) -> None:
    """Rebuild chunks_fts from the chunks table. An FTS table too damaged to open cannot be
    dropped either; then its schema entry is removed directly and its shadow tables dropped.
    (``Catalog`` itself refuses to open such a file; calling this on it first is the cure.)"""
    from app.store.catalog import Catalog

    db = _open(catalog_path)
    try:
        try:
            _tx(db, lambda: Catalog._rebuild_fts(db))  # the one definition of how FTS rows are built
            return
        except sqlite3.DatabaseError:
            db.execute("PRAGMA writable_schema=ON")
            _tx(db, lambda: db.execute("DELETE FROM sqlite_master WHERE type='table' AND name='chunks_fts'"))
            db.execute("PRAGMA writable_schema=OFF")
    finally:
        db.close()
    db = _open(catalog_path)  # a fresh connection reads the edited schema
    try:
        for shadow in ("data", "idx", "content", "docsize", "config"):
            db.execute(f"DROP TABLE IF EXISTS chunks_fts_{shadow}")
        _tx(db, lambda: Catalog._rebuild_fts(db))
    finally:
        db.close()


def _mark_failed(db: sqlite3.Connection, library: Any, dc: DocCheck, vectors: Any) -> None:
    """The text itself is gone: hide the document and say how to get it back."""
    from datetime import datetime, timezone

    ws = library.workspace
    reason = (f"The index lost part of this document ({dc.unrepairable}; found by 'dossier doctor --check'). "
              f"Add the file again to re-index it: dossier ingest \"{dc.path}\"")
    def run() -> None:
        db.execute("DELETE FROM chunks_fts WHERE rowid IN (SELECT rowid FROM chunks WHERE workspace=? AND doc_id=?)",
                   (ws, dc.doc_id))
        db.execute("DELETE FROM chunks WHERE workspace=? AND doc_id=?", (ws, dc.doc_id))
        db.execute("DELETE FROM pages WHERE workspace=? AND doc_id=?", (ws, dc.doc_id))
        db.execute("UPDATE documents SET status='failed', error=?, chunk_count=0 WHERE workspace=? AND id=?",
                   (reason, ws, dc.doc_id))
        db.execute("INSERT INTO failures VALUES (?,?,?,?,?)",
                   (ws, dc.path, dc.doc_id, reason, datetime.now(timezone.utc).isoformat(timespec="seconds")))

    _tx(db, run)
    vectors.delete_document(dc.doc_id)
    dc.marked_failed = reason


def _repair_vectors(library: Any, vectors: Any, found: StoreCheck, actions: list[str],
                    on_progress: ProgressFn, cancel: CancelToken | None) -> None:
    for doc_id, n in found.orphan_vectors.items():
        vectors.delete_document(doc_id)
        actions.append(f"deleted {n} orphan vectors of {doc_id[:12]} (not an indexed document)")
    for dc in found.documents:
        if dc.marked_failed:
            continue
        if dc.extra_vectors:
            vectors._guard("delete vectors", _collection(vectors).delete, ids=list(dc.extra_vectors))
            dc.repaired.append(f"deleted {len(dc.extra_vectors)} stray vectors")
        if dc.missing_vectors:
            _reembed(library, vectors, dc, on_progress, cancel)
            dc.repaired.append(f"re-embedded {len(dc.missing_vectors)} chunks")
        actions.extend(f"{dc.title} ({dc.doc_id[:12]}): {a}" for a in dc.repaired if "lexical" not in a)


def _reembed(library: Any, vectors: Any, dc: DocCheck, on_progress: ProgressFn, cancel: CancelToken | None) -> None:
    """Vectors from the chunk text stored in the catalog, exactly as the ingest embeds them."""
    from app.ingest.pipeline import embedding_text

    wanted = library.catalog.chunks_by_ids(library.workspace, dc.missing_vectors)
    chunks = [wanted[c] for c in dc.missing_vectors if c in wanted]
    for start in range(0, len(chunks), EMBED_BATCH):
        if cancel is not None:
            cancel.raise_if_cancelled()
        batch = chunks[start:start + EMBED_BATCH]
        vectors.add(batch, library.embedder.embed([embedding_text(c) for c in batch]))
        on_progress(Progress("embed", start + len(batch), len(chunks), "chunks", dc.title, dc.path))


def check_and_repair(library: Any, repair_: bool = False, on_progress: ProgressFn = no_progress,
                     cancel: CancelToken | None = None) -> StoreCheck:
    """Check; with ``repair_``, repair and check again (``remaining`` says what is still wrong)."""
    found = check(library, on_progress, cancel)
    if not repair_ or not found.problems():
        return found
    found.actions = repair(library, found, on_progress, cancel)
    after = check(library, on_progress, cancel)
    found.remaining = after.problems()
    return found
