"""Turn PDF files into indexed documents: hash ► parse (child process) ► chunk ► embed ► commit.

Crash safety: the catalog transaction in :meth:`Catalog.commit_document` is the only
point at which a document becomes visible. Vectors are written to Chroma just before it;
if the process dies in between, those vectors belong to no indexed document and are
swept by :func:`sweep_orphans` at the next start. A changed file (same path, new
content hash) replaces its old version inside that same transaction.

Throughput: parsing runs in child processes (isolation from hostile PDFs), PARSE_AHEAD
files at a time, while the current file is embedded, so PDFium and the embedder overlap. A
file whose parse is slow (OCR) is indexed after the files behind it that are ready
(:class:`_ParseQueue`). A text embedded once in a run (boilerplate, a template's clauses, a
table header repeated in each filing) is not embedded again (:class:`_VectorMemo`).

OCR (``settings.ocr``, on by default) runs in that child for pages without a text layer.
It is not part of the index identity: it changes the chunks only of documents that have
such pages, so turning it on re-reads just those documents (their textless pages were
never OCR'd, see :meth:`Ingestor._needs_ocr`) instead of re-embedding the whole library;
turning it off keeps the OCR text already indexed (it is not wrong, only costly to make).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
import os
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from app.errors import Cancelled, DossierError, PasswordRequired, PdfError
from app.scheduler import CpuScheduler
from app.types import CancelToken, Chunk, DocumentRecord, Progress, ProgressFn, no_progress

log = logging.getLogger(__name__)

EMBED_BATCH = 32
#: Files parsed at once (child processes) and parsed files waiting to be indexed: a file
#: whose parse is slow (OCR of scanned pages: seconds a page) no longer holds up the files
#: behind it; they are parsed by the other worker and indexed meanwhile.
PARSE_AHEAD = 2
#: A file ready to be indexed waits this long for the one queued before it, so that files are
#: indexed in the order given unless one of them is really slow.
IN_ORDER_WAIT_S = 1.0
#: Vectors of texts already embedded in this ingest run kept for reuse (identical chunks in
#: other documents: boilerplate clauses, repeated table headers); ~1.6 KB an entry.
MEMO_ENTRIES = 50_000
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
        memo = _VectorMemo()
        with ThreadPoolExecutor(max_workers=PARSE_AHEAD, thread_name_prefix="dossier-parse") as pool:
            parses = _ParseQueue(pool, todo, lambda path: self._parse(path, password, cancel, ocr_progress))
            for i in range(len(todo)):
                if cancel.cancelled:
                    summary.cancelled = True
                    break
                path, sha, fut = parses.next_ready(ocr_progress)
                on_progress(Progress("document", i, len(todo), "documents", f"Indexing {path.name}", str(path)))
                try:
                    parsed = fut.result()
                    summary.added.append(self._index(path, sha, parsed, on_progress, cancel, memo))
                except Cancelled:
                    summary.cancelled = True
                    break
                except PasswordRequired as err:
                    summary.failed.append(self._fail(path, sha, str(err), "needs_password"))
                except DossierError as err:
                    summary.failed.append(self._fail(path, sha, str(err)))
                except OSError as err:
                    summary.failed.append(self._fail(path, sha, f"{path.name} could not be read ({err.strerror or err}). Check that the file still exists and is readable."))
            parses.drain()  # parses started ahead that a cancelled run no longer needs
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

    def _index(self, path: Path, sha: str, parsed, on_progress: ProgressFn, cancel: CancelToken,
               memo: "_VectorMemo") -> DocumentRecord:
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
        self._embed_and_commit(record, parsed.pages, chunks, on_progress, cancel, memo)
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

    def _embed_and_commit(self, record: DocumentRecord, pages, chunks: list[Chunk], on_progress: ProgressFn,
                          cancel: CancelToken, memo: "_VectorMemo") -> None:
        import numpy as np

        from app.embed.base import batch_order

        lib = self.lib
        previous = lib.catalog.find_by_path(lib.workspace, record.path)
        replaced = [previous.id] if previous is not None and previous.id != record.id else []
        wrote_vectors = False
        # Each distinct text is embedded once: chunks whose text this run already embedded
        # (here or in an earlier document) reuse its vector.
        texts = [embedding_text(c) for c in chunks]
        groups: dict[bytes, list[int]] = {}
        for i, text in enumerate(texts):
            groups.setdefault(_text_key(text), []).append(i)
        known = [k for k in groups if k in memo]
        new = [k for k in groups if k not in memo]
        # Batches of similar token counts (the embedder's order): a batch is padded to its
        # longest text, and a filing mixes one-line table rows with full paragraphs (vectors
        # are stored by id, so the order is free).
        new_texts = [texts[groups[k][0]] for k in new]
        order = batch_order(lib.embedder, new_texts)
        steps = [(False, known[s:s + EMBED_BATCH]) for s in range(0, len(known), EMBED_BATCH)]
        steps += [(True, [new[j] for j in order[s:s + EMBED_BATCH]]) for s in range(0, len(order), EMBED_BATCH)]
        unstored: list[Chunk] = []  # embedded, vectors not yet handed to the index
        vectors: list[np.ndarray] = []
        done = 0
        try:
            for n, (embed, keys) in enumerate(steps):
                if embed:
                    with self.scheduler.background(cancel):
                        cancel.raise_if_cancelled()
                        embedded = lib.embedder.embed([texts[groups[k][0]] for k in keys])
                    memo.update(keys, embedded)
                else:  # (before any update of this document: still in the memo)
                    embedded = [memo[k] for k in keys]
                for k, vector in zip(keys, embedded):
                    unstored += [chunks[i] for i in groups[k]]
                    vectors += [vector] * len(groups[k])
                    done += len(groups[k])
                if n == len(steps) - 1 or len(unstored) >= STORE_BATCH:
                    wrote_vectors = True  # (before the write: a failed write may have stored part)
                    lib.vectors.add(unstored, np.stack(vectors))
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


class _ParseQueue:
    """Files being parsed ahead of the indexing loop, handed out in order unless one is slow.

    Up to PARSE_AHEAD parses run (or wait, parsed) at once. :meth:`next_ready` returns the
    oldest file once it is parsed; when it is still being read after IN_ORDER_WAIT_S (OCR)
    and a later one is ready, that one goes first, and the slow one keeps its worker."""

    def __init__(self, pool: ThreadPoolExecutor, todo: list[tuple[Path, str]], parse) -> None:  # type: ignore[no-untyped-def]
        self.pool, self.parse = pool, parse
        self.todo = list(reversed(todo))  # popped from the end: next file last
        self.inflight: dict[Future, tuple[Path, str]] = {}  # in the order started
        self._top_up()

    def _top_up(self) -> None:
        while self.todo and len(self.inflight) < PARSE_AHEAD:
            path, sha = self.todo.pop()
            self.inflight[self.pool.submit(self.parse, path)] = (path, sha)

    def next_ready(self, ocr_progress: "_OcrProgress") -> tuple[Path, str, Future]:
        chosen = next(iter(self.inflight))
        ocr_progress.waiting_for = self.inflight[chosen][0].name
        if not wait([chosen], timeout=IN_ORDER_WAIT_S).done:
            finished = wait(list(self.inflight), return_when=FIRST_COMPLETED).done
            chosen = next(f for f in self.inflight if f in finished)  # the first started of those
        ocr_progress.waiting_for = ""
        path, sha = self.inflight.pop(chosen)
        self._top_up()  # the next file is parsed while this one is embedded
        return path, sha, chosen

    def drain(self) -> None:
        for fut in self.inflight:
            try:
                fut.result()
            except Exception:  # noqa: BLE001 - the parse of a file we no longer index
                pass
        self.inflight.clear()


class _VectorMemo:
    """Vectors of the texts embedded in one ingest run, by a hash of the text (bounded)."""

    def __init__(self, limit: int = 0) -> None:
        self.limit = limit or MEMO_ENTRIES
        self._vectors: dict[bytes, object] = {}

    def __contains__(self, key: bytes) -> bool:
        return key in self._vectors

    def __getitem__(self, key: bytes):  # type: ignore[no-untyped-def]
        return self._vectors[key]

    def update(self, keys: list[bytes], vectors) -> None:  # type: ignore[no-untyped-def]
        for key, vector in zip(keys, vectors):
            if len(self._vectors) >= self.limit:
                del self._vectors[next(iter(self._vectors))]  # oldest first
            self._vectors[key] = vector


def _text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


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
