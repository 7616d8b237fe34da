"""Turn PDF files into indexed documents: hash ► parse (child process) ► chunk ► embed ► commit.

Crash safety: the catalog transaction in :meth:`Catalog.commit_document` is the only
point at which a document becomes visible. Vectors are written to Chroma just before it;
if the process dies in between, those vectors belong to no indexed document and are
swept by :func:`sweep_orphans` at the next start. A changed file (same path, new
content hash) replaces its old version inside that same transaction.

Throughput: parsing runs in a child process (isolation from hostile PDFs) and the next
file is parsed while the current one is embedded, so PDFium and the embedder overlap.

OCR (``settings.ocr``, on by default) runs in that child for pages without a text layer.
It is not part of the index identity: it changes the chunks only of documents that have
such pages, so turning it on re-reads just those documents (their textless pages were
never OCR'd, see :meth:`Ingestor._needs_ocr`) instead of re-embedding the whole library;
turning it off keeps the OCR text already indexed (it is not wrong, only costly to make).
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from app.errors import Cancelled, DossierError, PasswordRequired, PdfError
from app.scheduler import CpuScheduler
from app.types import CancelToken, Chunk, DocumentRecord, Progress, ProgressFn, no_progress

log = logging.getLogger(__name__)

EMBED_BATCH = 32
#: Vectors are handed to the vector index in groups of this many: one Chroma upsert of 512
#: costs ~0.25 ms a vector, 32 at a time ~0.65 ms (measured; ~8 s of a FinanceBench ingest).
STORE_BATCH = 512


@dataclass
class IngestFailure:
    path: str
    message: str
    status: str = "failed"  # or "needs_password"

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message, "status": self.status}


@dataclass
class IngestSummary:
    added: list[DocumentRecord] = field(default_factory=list)
    unchanged: list[DocumentRecord] = field(default_factory=list)
    failed: list[IngestFailure] = field(default_factory=list)
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed and not self.cancelled

    def to_dict(self) -> dict[str, object]:
        return {
            "added": [d.to_dict() for d in self.added],
            "unchanged": [d.to_dict() for d in self.unchanged],
            "failed": [f.to_dict() for f in self.failed],
            "cancelled": self.cancelled,
        }


def expand_paths(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[IngestFailure]]:
    """Files to ingest (folders are searched recursively for ``*.pdf``) and up-front failures."""
    files: list[Path] = []
    failures: list[IngestFailure] = []
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            found = sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() == ".pdf")
            if not found:
                failures.append(IngestFailure(str(p), f"No PDF files found in folder {p}."))
            files.extend(found)
        elif p.is_file():
            if p.suffix.lower() != ".pdf" and not _looks_like_pdf(p):
                failures.append(IngestFailure(str(p), f"{p.name} is not a PDF file; only PDFs can be added."))
            else:
                files.append(p)
        else:
            failures.append(IngestFailure(str(p), f"{p} does not exist. Check the path and try again."))
    seen: set[Path] = set()
    unique = [f for f in (q.resolve() for q in files) if not (f in seen or seen.add(f))]
    return unique, failures


def _looks_like_pdf(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(1024).lstrip().startswith(b"%PDF")
    except OSError:
        return False


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


class Ingestor:
    """Ingests files into one workspace of a library (catalog + vectors + embedder)."""

    #: Address-space limit of the parse child: a decompression bomb fails alone at this size.
    parse_memory_mb: int = 2048

    def __init__(self, library: "LibraryLike", scheduler: CpuScheduler | None = None, parse_timeout_s: float = 300.0) -> None:
        self.lib = library
        self.scheduler = scheduler or CpuScheduler()
        self.parse_timeout_s = parse_timeout_s

    # -- public -------------------------------------------------------------------
    def ingest(
        self,
        paths: Iterable[str | os.PathLike[str]],
        password: str | None = None,
        on_progress: ProgressFn = no_progress,
        cancel: CancelToken | None = None,
    ) -> IngestSummary:
        cancel = cancel or CancelToken()
        files, failures = expand_paths(paths)
        summary = IngestSummary(failed=list(failures))
        todo = self._triage(files, summary)

        ocr_progress = _OcrProgress(on_progress)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dossier-parse") as pool:
            pending: Future | None = None
            for i, (path, sha) in enumerate(todo):
                if cancel.cancelled:
                    summary.cancelled = True
                    break
                ocr_progress.waiting_for = path.name
                fut = pending or pool.submit(self._parse, path, password, cancel, ocr_progress)
                pending = pool.submit(self._parse, todo[i + 1][0], password, cancel, ocr_progress) if i + 1 < len(todo) else None
                on_progress(Progress("document", i, len(todo), "documents", f"Indexing {path.name}", str(path)))
                try:
                    parsed = fut.result()
                    ocr_progress.waiting_for = ""
                    summary.added.append(self._index(path, sha, parsed, on_progress, cancel))
                except Cancelled:
                    summary.cancelled = True
                    break
                except PasswordRequired as err:
                    summary.failed.append(self._fail(path, sha, str(err), "needs_password"))
                except DossierError as err:
                    summary.failed.append(self._fail(path, sha, str(err)))
                except OSError as err:
                    summary.failed.append(self._fail(path, sha, f"{path.name} could not be read ({err.strerror or err}). Check that the file still exists and is readable."))
            if pending is not None:  # a prefetched parse we no longer need (cancelled run)
                try:
                    pending.result()
                except Exception:  # noqa: BLE001 - the parse of a file we no longer index
                    pass
        on_progress(Progress("document", len(todo), len(todo), "documents", "Done"))
        return summary

    # -- steps ----------------------------------------------------------------------
    def _triage(self, files: list[Path], summary: IngestSummary) -> list[tuple[Path, str]]:
        from app.ingest.pdf_text import sha256_file

        todo: list[tuple[Path, str]] = []
        for path in files:
            try:
                sha = sha256_file(path)
            except OSError as err:
                summary.failed.append(IngestFailure(str(path), f"{path.name} could not be read ({err.strerror or err})."))
                continue
            existing = self.lib.catalog.get(self.lib.workspace, doc_id_for(sha))
            if (existing is not None and existing.status == "indexed"
                    and existing.index_settings == self.lib.index_identity and not self._needs_ocr(existing)):
                summary.unchanged.append(existing)
            else:
                todo.append((path, sha))
        return todo

    @property
    def ocr_enabled(self) -> bool:
        return bool(getattr(self.lib.settings, "ocr", True))

    def _needs_ocr(self, doc: DocumentRecord) -> bool:
        """An indexed document with scanned pages that were never OCR'd (indexed while OCR was off)."""
        if not (self.ocr_enabled and doc.textless_pages):
            return False
        return any(not p.has_text and not p.ocr for p in self.lib.catalog.pages(self.lib.workspace, doc.id))

    def _parse(self, path: Path, password: str | None, cancel: CancelToken, on_progress: ProgressFn = no_progress):  # -> ParsedPdf
        from app.ingest.ocr import ocr_threads
        from app.ingest.parse_worker import parse_in_subprocess

        return parse_in_subprocess(str(path), password=password, timeout_s=self.parse_timeout_s,
                                   memory_mb=self.parse_memory_mb, cancel=cancel,
                                   on_progress=on_progress, ocr_threads=ocr_threads() if self.ocr_enabled else 0)

    def _index(self, path: Path, sha: str, parsed, on_progress: ProgressFn, cancel: CancelToken) -> DocumentRecord:
        from app.ingest.chunking import chunk_pages
        from app.ingest.classify import guess_doc_type

        if parsed.sha256 != sha:
            raise PdfError(f"{path.name} changed while it was being read. Add it again once it is saved.")
        doc_id = doc_id_for(sha)
        chunks = chunk_pages(doc_id, parsed.pages, parsed.outline, self.lib.settings.chunking)
        cancel.raise_if_cancelled()
        textless = [p.page for p in parsed.pages if not p.has_text]
        ocr_pages = [p.page for p in parsed.pages if p.ocr and p.has_text]
        self._report_pages(path, parsed, textless, ocr_pages, on_progress)
        record = DocumentRecord(
            id=doc_id,
            path=str(path),
            title=parsed.title,
            page_count=parsed.page_count,
            doc_type=guess_doc_type(parsed.title, parsed.pages),
            status="indexed",
            ingested_at=now_iso(),
            index_settings=self.lib.index_identity,
            workspace=self.lib.workspace,
            textless_pages=textless,
            chunk_count=len(chunks),
            ocr_pages=ocr_pages,
        )
        self._embed_and_commit(record, parsed.pages, chunks, on_progress, cancel)
        return record

    @staticmethod
    def _report_pages(path: Path, parsed, textless: list[int], ocr_pages: list[int], on_progress: ProgressFn) -> None:  # type: ignore[no-untyped-def]
        """One notice per page read by OCR and per page left without text (the CLI prints them)."""
        ocr_ran = {p.page for p in parsed.pages if p.ocr}
        for page in sorted([*textless, *ocr_pages]):
            if page in ocr_pages:
                note = f"page {page + 1}: OCR"
            elif page in ocr_ran:
                note = f"page {page + 1} has no text; OCR found none"
            else:
                note = f"page {page + 1} has no text; OCR not run"
            on_progress(Progress("parse", page, parsed.page_count, "pages", note, str(path)))

    def _embed_and_commit(self, record: DocumentRecord, pages, chunks: list[Chunk], on_progress: ProgressFn, cancel: CancelToken) -> None:
        import numpy as np

        from app.embed.base import batch_order

        lib = self.lib
        previous = lib.catalog.find_by_path(lib.workspace, record.path)
        replaced = [previous.id] if previous is not None and previous.id != record.id else []
        wrote_vectors = False
        # Batches of similar token counts (the embedder's order): a batch is padded to its
        # longest text, and a filing mixes one-line table rows with full paragraphs (vectors
        # are stored by id, so the order is free).
        texts = [embedding_text(c) for c in chunks]
        order = batch_order(lib.embedder, texts)
        unstored: list[Chunk] = []  # embedded, vectors not yet handed to the index
        vectors: list[np.ndarray] = []
        try:
            for start in range(0, len(order), EMBED_BATCH):
                batch = order[start : start + EMBED_BATCH]
                with self.scheduler.background(cancel):
                    cancel.raise_if_cancelled()
                    vectors.append(lib.embedder.embed([texts[i] for i in batch]))
                unstored += [chunks[i] for i in batch]
                done = start + len(batch)
                if done == len(order) or len(unstored) >= STORE_BATCH:
                    wrote_vectors = True  # (before the write: a failed write may have stored part)
                    lib.vectors.add(unstored, np.concatenate(vectors))
                    unstored, vectors = [], []
                on_progress(Progress("embed", done, len(chunks), "chunks", f"{done}/{len(chunks)} chunks", record.path))
            cancel.raise_if_cancelled()
            lib.catalog.commit_document(record, pages, chunks, replaces=replaced)
        except BaseException:
            if wrote_vectors:
                _quietly(lib.vectors.delete_document, record.id)
            raise
        for old in replaced:
            _quietly(lib.vectors.delete_document, old)

    def _fail(self, path: Path, sha: str, message: str, status: str = "failed") -> IngestFailure:
        try:
            self.lib.catalog.record_failure(self.lib.workspace, str(path), sha, message, status=status)
        except DossierError as err:  # the store itself is unusable: report both
            message = f"{message} (and the failure could not be recorded: {err})"
        return IngestFailure(str(path), message, status)


class _OcrProgress:
    """Passes on OCR progress ("OCR page 3/10", from the parse thread) of the document the
    ingest is waiting for; the next one's, read ahead while this one embeds, would make the
    progress jump back and forth."""

    def __init__(self, on_progress: ProgressFn) -> None:
        self.on_progress = on_progress
        self.waiting_for = ""  # file name, as the parse worker reports it

    def __call__(self, ev: Progress) -> None:
        if ev.stage == "ocr" and ev.document == self.waiting_for:
            self.on_progress(ev)


def embedding_text(chunk: Chunk) -> str:
    return f"{chunk.context}\n{chunk.text}" if chunk.context else chunk.text


def doc_id_for(sha256_hex: str) -> str:
    return sha256_hex[:32]


def _quietly(fn, *args) -> None:  # type: ignore[no-untyped-def]
    try:
        fn(*args)
    except Exception:  # noqa: BLE001 - cleanup must not hide the original error
        log.warning("cleanup %s%r failed", getattr(fn, "__name__", fn), args, exc_info=True)


class LibraryLike:  # documentation of what the ingestor needs (see app.library.Library)
    workspace: str
    index_identity: str
    settings: object
    catalog: object
    vectors: object
    embedder: object
