"""The shared index of one workspace on the team server, and the publish protocol.

Chroma has no transaction across records, so visibility rests on one record per document,
written last. Collections (names from :func:`app.store.vectors.collection_name`)::

    <ws>-<hash("dossier-team-v1")>-d   document records: id = doc id (state "committed") and
                                      upload markers: id = "<doc>.pending.<identity hash>"
    <ws>-<hash("dossier-team-v1")>-p   page texts, id "<doc>:p<n>" (the source of highlights)
    collection_name(ws, identity)      chunk vectors + chunk text/offsets, one per index identity

Upload (any client): marker (pending, heartbeat in *server* time) ► chunk vectors (marker
heartbeat every ~20 s) ► page texts ► PDF file ► chunk count verified ► committed record.
Readers only ever list committed records, so a client killed at any point leaves nothing
visible; the next client that finds a marker older than :data:`STALE_PENDING_S` deletes it
and, unless the document was committed with that identity, the upload's leftovers.
Removal deletes the committed record first.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from app.errors import StoreError
from app.store.remote_index import IndexServerClient
from app.store.vectors import collection_name
from app.types import Chunk, DocumentRecord, PageText

log = logging.getLogger(__name__)

TEAM_SCHEMA = "dossier-team-v1"
#: An upload marker whose heartbeat is older than this (server time) belongs to a dead client.
STALE_PENDING_S = 900.0
HEARTBEAT_S = 20.0
_ONE = [[1.0]]  # records and pages are looked up by id/metadata only; Chroma needs some vector
_PAGE = 5000


@dataclass
class RemoteRecord:
    record: DocumentRecord
    identity: str
    replaces: list[str] = field(default_factory=list)


def _marker_id(doc_id: str, identity: str) -> str:
    return f"{doc_id}.pending.{hashlib.sha256(identity.encode()).hexdigest()[:12]}"


class TeamIndex:
    """Records, pages, files and per-identity chunk collections of ``workspace`` on the server."""

    def __init__(self, server: IndexServerClient, workspace: str) -> None:
        self.server = server
        self.workspace = workspace
        base = collection_name(workspace, TEAM_SCHEMA)
        self._docs_name, self._pages_name = f"{base}-d", f"{base}-p"
        self._lock = threading.Lock()

    @property
    def docs(self) -> Any:
        return self.server.collection(self._docs_name, space="l2")

    @property
    def pages_col(self) -> Any:
        return self.server.collection(self._pages_name, space="l2")

    def chunks_col(self, identity: str) -> Any:
        return self.server.collection(collection_name(self.workspace, identity))

    def vectors(self, identity: str) -> "RemoteVectors":
        return RemoteVectors(self, identity)

    def _get_all(self, col: Any, what: str, **kw: Any) -> dict[str, list]:
        """``col.get`` over all pages of results (ids + metadatas)."""
        ids: list[str] = []
        metas: list[dict] = []
        offset = 0
        while True:
            res = self.server.call(what, col.get, include=["metadatas"], limit=_PAGE, offset=offset, **kw)
            ids.extend(res["ids"])
            metas.extend(m or {} for m in res["metadatas"])
            if len(res["ids"]) < _PAGE:
                return {"ids": ids, "metadatas": metas}
            offset += _PAGE

    # -- reading --------------------------------------------------------------------------
    def committed(self) -> dict[str, RemoteRecord]:
        """Every visible document of the workspace (the server's list is the truth)."""
        res = self._get_all(self.docs, "list the shared documents", where={"state": "committed"})
        return {i: _remote_record(m, self.workspace) for i, m in zip(res["ids"], res["metadatas"])}

    def fetch(self, rr: RemoteRecord) -> tuple[list[PageText], list[Chunk]] | None:
        """Page texts and chunks of a committed document; None if they are incomplete on the server."""
        doc_id = rr.record.id
        pres = self._get_all(self.pages_col, "read page texts", where={"doc_id": doc_id})
        pages = sorted((_page(m) for m in pres["metadatas"]), key=lambda p: p.page)
        cres = self._get_all(self.chunks_col(rr.identity), "read chunks", where={"doc_id": doc_id})
        chunks = sorted((_chunk(m) for m in cres["metadatas"]), key=lambda c: c.ordinal)
        if len(pages) != rr.record.page_count or len(chunks) != rr.record.chunk_count:
            log.warning("document %s is incomplete on the server (%d/%d pages, %d/%d chunks); skipped", doc_id,
                        len(pages), rr.record.page_count, len(chunks), rr.record.chunk_count)
            return None
        return pages, chunks

    # -- uploads ---------------------------------------------------------------------------
    def begin(self, doc_id: str, identity: str) -> None:
        """Write (or refresh) the upload marker: nothing of the document is visible yet."""
        meta = {"state": "pending", "doc_id": doc_id, "identity": identity, "heartbeat": self.server.server_time()}
        self.server.call("start the upload", self.docs.upsert, ids=[_marker_id(doc_id, identity)],
                         embeddings=_ONE, metadatas=[meta])

    def _marker_alive(self, doc_id: str, identity: str) -> bool:
        res = self.server.call("check the upload", self.docs.get, ids=[_marker_id(doc_id, identity)], include=[])
        return bool(res["ids"])

    def _chunk_count(self, doc_id: str, identity: str) -> int:
        res = self.server.call("count chunks", self.chunks_col(identity).get, where={"doc_id": doc_id}, include=[])
        return len(res["ids"])

    def publish(self, record: DocumentRecord, pages: Sequence[PageText], chunks: Sequence[Chunk], identity: str,
                replaces: Iterable[str] = (), pdf: str | Path | None = None) -> None:
        """Make an uploaded document visible to every client (see the module docstring)."""
        doc_id, replaces = record.id, [r for r in replaces if r != record.id]
        if chunks and not self._marker_alive(doc_id, identity):  # (no chunks: nothing was uploaded yet)
            raise StoreError(f"The index server dropped the upload of {record.title or doc_id} (it looked "
                             "abandoned). Add the file again.")
        self._put_pages(doc_id, pages)
        if pdf is not None and Path(pdf).is_file():
            self.server.put_file(doc_id, pdf)
        if self._chunk_count(doc_id, identity) != len(chunks):
            raise StoreError(f"The index server holds an incomplete copy of {record.title or doc_id}. "
                             "Add the file again.")
        previous = self.server.call("read a record", self.docs.get, ids=[doc_id], include=["metadatas"])
        meta = _record_meta(record, identity, replaces, len(chunks), self.server.server_time())
        self.server.call("publish the document", self.docs.upsert, ids=[doc_id], embeddings=_ONE, metadatas=[meta])
        # the marker is left for the next sweep (it never touches a committed document): every
        # Chroma write costs ~40 ms, so one fewer per document on the ingest path
        if self._chunk_count(doc_id, identity) != len(chunks):  # a sweeper raced us: take it back
            self.unpublish(doc_id)
            raise StoreError(f"The upload of {record.title or doc_id} was interrupted on the server. Add it again.")
        old_identity = (previous["metadatas"][0] or {}).get("identity") if previous["ids"] else None
        if old_identity and old_identity != identity:  # re-indexed with another embedder: drop old vectors
            self.server.call("delete old vectors", self.chunks_col(old_identity).delete, where={"doc_id": doc_id})
        for old in replaces:
            self.unpublish(old)

    def _put_pages(self, doc_id: str, pages: Sequence[PageText]) -> None:
        step = max(1, min(self.server.max_batch(), 1000))
        for i in range(0, len(pages), step):
            part = pages[i:i + step]
            self.server.call("store page texts", self.pages_col.upsert, ids=[f"{doc_id}:p{p.page}" for p in part],
                             embeddings=_ONE * len(part),
                             metadatas=[{"doc_id": doc_id, "page": p.page, "text": p.text, "has_text": p.has_text,
                                         "ocr": p.ocr, "layout": p.layout} for p in part])

    # -- removal -----------------------------------------------------------------------------
    def unpublish(self, doc_id: str) -> bool:
        """Hide a document from every client, then delete its chunks, pages and file."""
        res = self.server.call("read a record", self.docs.get, ids=[doc_id], include=["metadatas"])
        if not res["ids"]:
            return False
        identity = (res["metadatas"][0] or {}).get("identity", "")
        self.server.call("remove the document", self.docs.delete, ids=[doc_id])
        self._delete_data(doc_id, identity)
        return True

    def _delete_data(self, doc_id: str, identity: str, keep_pages: bool = False) -> None:
        if identity:
            self.server.call("delete vectors", self.chunks_col(identity).delete, where={"doc_id": doc_id})
        if not keep_pages:
            self.server.call("delete page texts", self.pages_col.delete, where={"doc_id": doc_id})
            self.server.delete_file(doc_id)

    def abort(self, doc_id: str, identity: str) -> bool:
        """Undo an unfinished upload (never touches a committed document's data); True when
        there was unfinished data to delete."""
        self.server.call("cancel the upload", self.docs.delete, ids=[_marker_id(doc_id, identity)])
        res = self.server.call("read a record", self.docs.get, ids=[doc_id], include=["metadatas"])
        committed = (res["metadatas"][0] or {}) if res["ids"] else None
        if committed and committed.get("identity") == identity:
            return False  # the marker of a finished upload
        self._delete_data(doc_id, identity, keep_pages=committed is not None)
        return True

    def sweep_stale(self, max_age_s: float | None = None) -> int:
        """Delete uploads whose client stopped sending heartbeats (killed mid-ingest) and the
        markers of finished ones; returns how many unfinished uploads were deleted."""
        max_age = STALE_PENDING_S if max_age_s is None else max_age_s
        res = self._get_all(self.docs, "list unfinished uploads", where={"state": "pending"})
        if not res["ids"]:
            return 0
        now = self.server.server_time()
        swept = 0
        for meta in res["metadatas"]:
            if now - float(meta.get("heartbeat", 0.0)) < max_age:
                continue
            if self.abort(str(meta.get("doc_id", "")), str(meta.get("identity", ""))):
                log.info("swept an abandoned upload of %s", meta.get("doc_id"))
                swept += 1
        return swept


class RemoteVectors:
    """Chunk vectors on the server, with :class:`app.store.vectors.VectorIndex`'s interface.

    Unlike the local index, chunks carry their text and offsets (the server is the source of
    truth for other clients' mirrors), and the first ``add`` of a document writes its upload
    marker."""

    def __init__(self, team: TeamIndex, identity: str) -> None:
        self.team = team
        self.identity = identity
        self.collection = collection_name(team.workspace, identity)
        self._beats: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def _col(self) -> Any:
        return self.team.chunks_col(self.identity)

    def _call(self, what: str, fn: Any, *args: Any, **kw: Any) -> Any:
        return self.team.server.call(what, fn, *args, **kw)

    def count(self) -> int:
        return int(self._call("count vectors", self._col.count))

    def _heartbeat(self, doc_id: str) -> None:
        import time

        with self._lock:
            last = self._beats.get(doc_id)
            if last is not None and time.monotonic() - last < HEARTBEAT_S:
                return
            self._beats[doc_id] = time.monotonic()
        self.team.begin(doc_id, self.identity)

    def add(self, chunks: Sequence[Chunk], embeddings: np.ndarray) -> None:
        if len(chunks) != len(embeddings):
            raise ValueError(f"{len(chunks)} chunks but {len(embeddings)} embeddings")
        emb = np.asarray(embeddings, dtype=np.float32)
        for doc_id in dict.fromkeys(c.doc_id for c in chunks):
            self._heartbeat(doc_id)
        step = max(1, min(self.team.server.max_batch(), 1000))
        for i in range(0, len(chunks), step):
            part = chunks[i:i + step]
            self._call("store vectors", self._col.upsert, ids=[c.id for c in part], embeddings=emb[i:i + step],
                       metadatas=[_chunk_meta(c) for c in part])

    def query(self, vector: np.ndarray, k: int, doc_ids: list[str] | None = None) -> list[tuple[str, float]]:
        if doc_ids is not None and not doc_ids or k <= 0:
            return []
        where: dict[str, Any] | None = None
        if doc_ids is not None:
            where = {"doc_id": {"$in": list(doc_ids)}} if len(doc_ids) > 1 else {"doc_id": doc_ids[0]}
        # no count() first (one round trip less): Chroma 1.x returns fewer hits when it has fewer
        res = self._call("search", self._col.query, query_embeddings=[np.asarray(vector, dtype=np.float32)],
                         n_results=int(k), where=where, include=["distances"])
        return list(zip(res["ids"][0], (float(d) for d in res["distances"][0])))

    def delete_document(self, doc_id: str) -> None:
        """Undo an unfinished upload of ``doc_id``; a committed document is removed only by
        :meth:`TeamIndex.unpublish` (``Catalog.remove`` in team mode)."""
        with self._lock:
            self._beats.pop(doc_id, None)
        self.team.abort(doc_id, self.identity)

    def doc_ids(self) -> set[str]:
        res = self.team._get_all(self._col, "read vectors")
        return {str(m.get("doc_id")) for m in res["metadatas"] if m.get("doc_id")}

    def sweep_orphans(self, keep: set[str] | None = None) -> int:
        """Team mode: the server, not a local catalog, knows what is committed; ``keep`` is
        ignored and only uploads abandoned by dead clients are swept."""
        return self.team.sweep_stale()

    def embeddings_for_document(self, doc_id: str) -> dict[str, np.ndarray]:
        res = self._call("read vectors", self._col.get, where={"doc_id": doc_id}, include=["embeddings"])
        embs = res.get("embeddings")
        if embs is None:
            return {}
        return {cid: np.asarray(e, dtype=np.float32) for cid, e in zip(res["ids"], embs)}

    def close(self) -> None:
        return None


# -- metadata <-> data ------------------------------------------------------------------------
def _chunk_meta(c: Chunk) -> dict[str, Any]:
    return {"doc_id": c.doc_id, "ordinal": c.ordinal, "page_start": c.page_start, "page_end": c.page_end,
            "char_start": c.char_start, "char_end": c.char_end, "section": c.section, "kind": c.kind,
            "text": c.text, "context": c.context}


def _chunk(m: dict[str, Any]) -> Chunk:
    return Chunk(doc_id=str(m["doc_id"]), ordinal=int(m["ordinal"]), text=str(m.get("text", "")),
                 section=str(m.get("section", "")), page_start=int(m["page_start"]), page_end=int(m["page_end"]),
                 char_start=int(m["char_start"]), char_end=int(m["char_end"]),
                 kind=str(m.get("kind", "text")), context=str(m.get("context", "")))  # type: ignore[arg-type]


def _page(m: dict[str, Any]) -> PageText:
    return PageText(page=int(m["page"]), text=str(m.get("text", "")), has_text=bool(m.get("has_text", True)),
                    ocr=bool(m.get("ocr", False)), layout=str(m.get("layout", "")))  # OCR boxes for highlights


def _record_meta(r: DocumentRecord, identity: str, replaces: list[str], chunk_count: int, at: float) -> dict:
    """The committed record: every DocumentRecord field as JSON (new fields travel too), and
    the fields readers filter on as plain metadata."""
    record = {**r.to_dict(), "status": "indexed", "error": "", "chunk_count": chunk_count}
    return {"state": "committed", "doc_id": r.id, "identity": identity, "title": r.title,
            "record": json.dumps(record), "replaces": json.dumps(replaces), "committed_at": at}


_RECORD_FIELDS = frozenset(f.name for f in dataclasses.fields(DocumentRecord))


def _remote_record(m: dict[str, Any], workspace: str) -> RemoteRecord:
    raw = json.loads(str(m.get("record", "{}")))
    rec = DocumentRecord(**{k: v for k, v in raw.items() if k in _RECORD_FIELDS})  # fields of newer clients: dropped
    rec.workspace, rec.status = workspace, "indexed"
    return RemoteRecord(rec, str(m.get("identity", "")), json.loads(str(m.get("replaces", "[]"))))
