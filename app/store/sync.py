"""Team mode's local catalog: a mirror of the server's committed documents, with FTS5.

Why a mirror: Chroma (the shared store) has vectors but no BM25, and every part of Dossier
— lexical search, answers, citation spans, summaries, risk review, the viewer — reads page
texts and chunks from :class:`app.store.catalog.Catalog`. Keeping that exact class (same
schema, same single-transaction commit) as a per-client mirror makes team mode behave like
local mode by construction, with lexical search as fast as ever. The server stays the source
of truth: :meth:`TeamCatalog.sync` adds what was committed there and drops what was removed.

Writes go to the server first (publish / unpublish), then to the mirror: a client dying in
between leaves the mirror behind, never ahead, and the next sync catches up.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from app.store.catalog import Catalog
from app.types import Chunk, DocumentRecord, PageText

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # incomplete on the server (being replaced?)


class TeamCatalog(Catalog):
    """A :class:`Catalog` whose writes are published to the team server and whose content is
    refreshed from it. ``team`` returns the :class:`app.store.team_index.TeamIndex` (opened
    lazily: listing the mirror needs no network); ``identity`` returns the index identity
    this client embeds with (needs the embedder, so it is only asked for when writing)."""

    def __init__(self, path: Path, team: Callable[[], object], identity: Callable[[], str], files_dir: Path,
                 workspace: str) -> None:
        super().__init__(path)
        self._team = team
        self._identity = identity
        self.files_dir = Path(files_dir)
        self.workspace = workspace
        self.sync_lock = threading.Lock()

    # -- writes: server first, then the mirror ---------------------------------------------
    def commit_document(self, record: DocumentRecord, pages: list[PageText], chunks: list[Chunk],
                        replaces: Iterable[str] = ()) -> None:
        replaces, identity = list(replaces), self._identity()  # (may load the embedder: not under the lock)
        if not record.ingested_at:  # the same time on the server and here
            from app.store.catalog import _now

            record = dataclasses.replace(record, ingested_at=_now())
        with self.sync_lock:
            self._team().publish(record, pages, chunks, identity, replaces=replaces,  # type: ignore[attr-defined]
                                 pdf=record.path)
            super().commit_document(record, pages, chunks, replaces=replaces)

    def remove(self, workspace: str, doc_id: str) -> bool:
        with self.sync_lock:
            self._team().unpublish(doc_id)  # type: ignore[attr-defined]
            return super().remove(workspace, doc_id)

    # -- the mirror ------------------------------------------------------------------------
    def local_pdf(self, doc_id: str) -> Path:
        return self.files_dir / f"{doc_id}.pdf"

    def sync(self, blocking: bool = True) -> SyncReport | None:
        """Bring the mirror in line with the server; None when another sync is running and
        ``blocking`` is False."""
        if not self.sync_lock.acquire(blocking=blocking):
            return None
        try:
            return self._sync()
        finally:
            self.sync_lock.release()

    def _sync(self) -> SyncReport:
        team = self._team()
        remote = team.committed()  # type: ignore[attr-defined]
        hidden = {old for rr in remote.values() for old in rr.replaces}
        visible = {doc_id: rr for doc_id, rr in remote.items() if doc_id not in hidden}
        local = {d.id: d for d in self.list_documents(self.workspace) if d.status == "indexed"}
        report = SyncReport()
        for doc_id in local.keys() - visible.keys():
            super().remove(self.workspace, doc_id)
            self.local_pdf(doc_id).unlink(missing_ok=True)
            report.removed.append(doc_id)
        for doc_id, rr in visible.items():
            mine = local.get(doc_id)
            if mine is not None and mine.index_settings == rr.record.index_settings:
                continue
            fetched = team.fetch(rr)  # type: ignore[attr-defined]
            if fetched is None:
                report.skipped.append(doc_id)
                continue
            pages, chunks = fetched
            path = mine.path if mine is not None else self._download(team, doc_id, rr.record.path)
            super().commit_document(dataclasses.replace(rr.record, path=path), pages, chunks)
            report.added.append(doc_id)
        if report.added or report.removed:
            log.info("synced with the index server: %d added, %d removed", len(report.added), len(report.removed))
        return report

    def _download(self, team: object, doc_id: str, uploader_path: str) -> str:
        """The local copy of the PDF (the viewer draws highlights on it); the uploader's path
        when the server has no file (the text is still searchable)."""
        dest = self.local_pdf(doc_id)
        if dest.is_file() or team.server.fetch_file(doc_id, dest):  # type: ignore[attr-defined]
            return str(dest)
        log.warning("the index server has no PDF for %s; highlights need the file at %s", doc_id, uploader_path)
        return uploader_path
