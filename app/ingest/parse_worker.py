"""Run :func:`app.ingest.pdf_text.read_pdf` in a child process.

Why: PDFium is C++ and PDFs are hostile input. A crafted or damaged file can crash the
process (segfault, abort), loop forever or eat all memory. In a child process, with an
address-space limit (RLIMIT_AS) and a wall-clock timeout, any of these fails that one
file with a :class:`PdfError` and the application carries on.

The child streams pages back in small batches (plain tuples, not dataclasses, so pickling
stays cheap and no single huge message is built), which also gives live page progress.
Children are started with the ``spawn`` method: never ``fork`` from a process that may hold
Qt, torch or llama.cpp threads.

OCR of scanned pages (``ocr_threads`` > 0) runs in the same child, after the text layer:
ONNX Runtime is native code fed with hostile input too. The child lowers its priority
(``nice``) before OCR so the GUI and the model keep their cores, sends each OCR'd page back
as it is done ("OCR page 3/10"), and every OCR'd page extends the time limit by
``ocr_page_timeout_s`` (a 300-page scan legitimately takes minutes; one stuck page does not).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from pathlib import Path
from typing import Any

from app import child_processes
from app.errors import Cancelled, DossierError, PasswordRequired, PdfError
from app.ingest.pdf_text import OutlineEntry, ParsedPdf, read_pdf
from app.netguard import install_from_env
from app.types import CancelToken, PageText, Progress, ProgressFn

#: Test hook (also settable as the ``test_hook`` argument): "abort", "hang" or "alloc"
#: makes the child crash, hang or blow its memory limit before reading.
HOOK_ENV = "DOSSIER_PARSE_TEST_HOOK"
BATCH_PAGES = 16
POLL_S = 0.05
#: Seconds one page's OCR may take (measured ~1-3 s for a dense page on one contended core).
OCR_PAGE_TIMEOUT_S = 90.0
OCR_NICE = 10
#: The reader itself also yields to the GUI and the model (it is quick; OCR goes further down).
PARSE_NICE = 5

_ERRORS: dict[str, type[DossierError]] = {"PasswordRequired": PasswordRequired, "PdfError": PdfError}


def parse_in_subprocess(path: Path | str, password: str | None = None, timeout_s: float = 120,
                        memory_mb: int = 2048, cancel: CancelToken | None = None,
                        on_progress: ProgressFn | None = None, *, test_hook: str | None = None,
                        ocr_threads: int = 0, ocr_page_timeout_s: float = OCR_PAGE_TIMEOUT_S) -> ParsedPdf:
    """``read_pdf`` isolated in a child process; crash/hang/out-of-memory -> PdfError,
    cancel -> :class:`Cancelled` (the child is killed within ~50 ms). ``ocr_threads`` > 0:
    OCR pages without text with that many ONNX Runtime threads (0: no OCR)."""
    path = Path(path)
    hook = test_hook if test_hook is not None else os.environ.get(HOOK_ENV, "")
    ctx = mp.get_context("spawn")
    recv_conn, send_conn = ctx.Pipe(duplex=False)
    peak = ctx.Value("d", 0.0, lock=False)  # the child's own peak address space (MB), see _watch_peak
    proc = ctx.Process(target=_child, args=(str(path), password, memory_mb, send_conn, hook, ocr_threads, peak),
                       name=f"dossier-parse-{path.name}", daemon=True)
    child_processes.start(proc)
    send_conn.close()  # the parent only reads; EOF then means the child is gone
    try:
        return _collect(proc, recv_conn, path, (timeout_s, ocr_page_timeout_s), cancel, on_progress,
                        limit_mb=memory_mb, child_peak=peak)
    finally:
        recv_conn.close()
        with child_processes.REAPING:  # (see app.child_processes)
            if proc.is_alive():
                proc.kill()
            proc.join(5)
            try:
                proc.close()
            except ValueError:  # a Process.start() outside app code raced the reaping (ECHILD):
                pass  # the child was killed and reaped; its handles go with the object


def _collect(proc: Any, conn: Any, path: Path, timeouts: tuple[float, float], cancel: CancelToken | None,
             on_progress: ProgressFn | None, limit_mb: int = 0, child_peak: Any = None) -> ParsedPdf:
    """Read the child's messages until it is done, fails, dies, times out or is cancelled."""
    timeout_s, ocr_page_s = timeouts
    memory = _MemoryWatch(proc.pid, limit_mb, child_peak)
    deadline = time.monotonic() + timeout_s
    pages: list[PageText] = []
    ocr_at: tuple[int, int] | None = None  # (done, total) while OCR runs
    while True:
        if cancel is not None and cancel.cancelled:
            proc.kill()
            raise Cancelled()
        if time.monotonic() > deadline:
            proc.kill()
            if ocr_at is not None:
                raise PdfError(f"{path.name}: OCR of scanned page {ocr_at[0] + 1} of {ocr_at[1]} took longer than "
                               f"{ocr_page_s:g} s. Turn OCR off in the settings to index its text pages only.")
            raise PdfError(f"{path.name} could not be read safely: reading took longer than {timeout_s:g} s; "
                           "the file may be damaged. Re-export the PDF and try again.")
        memory.sample()
        if not conn.poll(POLL_S):
            continue
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            raise _died(proc, path, memory) from None
        kind = msg[0]
        if kind == "pages":
            _, rows, total = msg
            base = len(pages)
            pages.extend([PageText(page=base + i, text=t, has_text=h) for i, (t, h) in enumerate(rows)])
            if on_progress is not None:
                on_progress(Progress("parse", len(pages), total, "pages", document=path.name))
        elif kind == "ocr":
            ocr_at = _ocr_message(msg, pages, path, on_progress)
            deadline = max(deadline, time.monotonic() + ocr_page_s)
        elif kind == "done":
            return _rebuild(msg[1], pages)
        elif kind == "error":
            raise _ERRORS.get(msg[1], PdfError)(msg[2])


def _ocr_message(msg: tuple, pages: list[PageText], path: Path, on_progress: ProgressFn | None) -> tuple[int, int]:
    """Apply one ("ocr", done, total, row) message: row is None when OCR starts, else the
    OCR'd page (index, text, has_text, layout) replacing its text-layer version."""
    _, done, total, row = msg
    if row is not None:
        index, text, has_text, layout = row
        pages[index] = PageText(page=index, text=text, has_text=has_text, ocr=True, layout=layout)
    if on_progress is not None:
        on_progress(Progress("ocr", done, total, "pages", f"OCR page {min(done + 1, total)}/{total}",
                             document=path.name))
    return done, total


class _MemoryWatch:
    """The child's peak address space, sampled while it runs (Linux ``/proc``). Why: PDFium
    aborts (SIGABRT) when an allocation fails under RLIMIT_AS, so "it crashed" would hide
    that the file needed too much memory (a decompression bomb, say); a peak at the limit
    tells the two apart. The child also records its own peak every few ms (``child_peak``,
    shared memory): the parent's 50 ms samples miss a fast-growing child on a busy machine.
    A crash by signal counts as running out of memory from half the limit on: the allocation
    that fails is often the next doubling of a buffer, so the peak seen before it can be far
    below the limit; ordinary files peak at a fraction of it."""

    NEAR_LIMIT = 0.9
    CRASH_NEAR_LIMIT = 0.5

    def __init__(self, pid: int | None, limit_mb: int, child_peak: Any = None) -> None:
        self.path, self.limit_mb, self.peak_mb = f"/proc/{pid}/status", limit_mb, 0.0
        self.enabled = limit_mb > 0 and os.path.isdir("/proc/self")
        self.child_peak = child_peak

    def sample(self) -> None:
        if not self.enabled:
            return
        try:
            with open(self.path, "rb") as fh:
                for line in fh:
                    if line.startswith(b"VmPeak:"):
                        self.peak_mb = max(self.peak_mb, int(line.split()[1]) / 1024)
                        return
        except (OSError, ValueError, IndexError):  # the child is already gone
            pass

    def peak(self) -> float:
        own = float(self.child_peak.value) if self.child_peak is not None else 0.0
        return max(self.peak_mb, own)

    @property
    def exhausted(self) -> bool:
        return self.enabled and self.peak() >= self.NEAR_LIMIT * self.limit_mb

    def explains_crash(self) -> bool:
        return self.enabled and self.peak() >= self.CRASH_NEAR_LIMIT * self.limit_mb


def _died(proc: Any, path: Path, memory: _MemoryWatch | None = None) -> PdfError:
    proc.join(2)
    code = proc.exitcode
    crashed = code is not None and code < 0
    if memory is not None and (memory.exhausted or (crashed and memory.explains_crash())):
        return PdfError(f"{path.name} could not be read safely: it needed more than {memory.limit_mb} MB of memory "
                        "(the limit for reading one file); the file may be damaged or built to exhaust memory. "
                        "Re-export the PDF and try again.")
    how = f"the reader crashed (signal {-code})" if code is not None and code < 0 else f"the reader stopped (exit {code})"
    return PdfError(f"{path.name} could not be read safely: {how}; the file may be damaged. "
                    "Re-export or repair the PDF and try again.")


def _rebuild(meta: dict[str, Any], pages: list[PageText]) -> ParsedPdf:
    outline = [OutlineEntry(*row) for row in meta.pop("outline")]
    return ParsedPdf(pages=pages, outline=outline, **meta)


# -- child side -----------------------------------------------------------------------

def _child(path: str, password: str | None, memory_mb: int, conn: Any, hook: str, ocr_threads: int = 0,
           peak: Any = None) -> None:
    """Entry point of the child process (must stay importable at module level for spawn)."""
    install_from_env()  # a PDF reader never needs the network: strict unless the parent said otherwise
    _limit_memory(memory_mb)
    if peak is not None:
        threading.Thread(target=_watch_peak, args=(peak,), name="dossier-peak", daemon=True).start()
    _lower_priority(PARSE_NICE)
    try:
        _run_hook(hook)
        batch: list[tuple[str, bool]] = []

        def on_page(page: PageText, total: int) -> None:
            batch.append((page.text, page.has_text))
            if len(batch) >= BATCH_PAGES or page.page == total - 1:
                conn.send(("pages", list(batch), total))
                batch.clear()

        doc = read_pdf(path, password=password, on_page=on_page, **_ocr_args(conn, ocr_threads))
        meta = {"path": doc.path, "sha256": doc.sha256, "title": doc.title, "page_count": doc.page_count,
                "metadata": doc.metadata, "encrypted": doc.encrypted,
                "outline": [(o.level, o.title, o.page) for o in doc.outline]}
        conn.send(("done", meta))
    except DossierError as exc:
        conn.send(("error", type(exc).__name__, str(exc)))
    except MemoryError:
        conn.send(("error", "PdfError", f"{Path(path).name} could not be read safely: it needed more than "
                   f"{memory_mb} MB of memory; the file may be damaged."))
    except BaseException as exc:  # noqa: BLE001 - anything else is reported, never raised
        conn.send(("error", "PdfError", f"{Path(path).name} could not be read safely: {type(exc).__name__}: "
                   f"{exc}; the file may be damaged."))
    finally:
        conn.close()


def _ocr_args(conn: Any, threads: int) -> dict[str, Any]:
    """``read_pdf`` arguments that OCR textless pages and stream each one to the parent."""
    if threads <= 0:
        return {}
    from app.ingest.ocr import OcrEngine

    def on_ocr(page: PageText | None, done: int, total: int) -> None:
        if page is None:
            _lower_priority(OCR_NICE - PARSE_NICE)
        row = None if page is None else (page.page, page.text, page.has_text, page.layout)
        conn.send(("ocr", done, total, row))

    return {"ocr": OcrEngine(threads=threads), "on_ocr": on_ocr}


def _lower_priority(steps: int) -> None:
    """Let the GUI and the model go first (OCR takes seconds per page at full tilt)."""
    try:
        os.nice(steps)
    except (AttributeError, OSError):  # pragma: no cover - not POSIX, or not allowed
        pass


def _watch_peak(peak: Any, interval_s: float = 0.005) -> None:
    """Copy this process's VmPeak (MB) into shared memory every few ms, for the parent to read
    after a crash. PDFium runs through ctypes, which releases the GIL, so this thread keeps
    sampling while a page is being decoded."""
    while True:
        try:
            with open("/proc/self/status", "rb") as fh:
                for line in fh:
                    if line.startswith(b"VmPeak:"):
                        peak.value = max(peak.value, int(line.split()[1]) / 1024)
                        break
        except (OSError, ValueError, IndexError):
            return  # no /proc (not Linux): nothing to watch
        time.sleep(interval_s)


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return
    limit = int(memory_mb) * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _run_hook(hook: str) -> None:
    if hook == "abort":
        os.abort()
    elif hook == "hang":
        time.sleep(3600)
    elif hook == "alloc":
        hog = []
        while True:
            hog.append(bytearray(64 * 1024 * 1024))
