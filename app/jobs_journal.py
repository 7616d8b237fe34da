"""A journal of long jobs (ingest, ask, summarize, review) so that work cut short — kill -9,
a crash, a power cut — is reported at the next start and can be resumed.

Why a journal: the store's own crash safety (one catalog transaction per document, orphan
vectors swept at start) guarantees that nothing half-done is *visible*; it cannot say that
something was *not done*. Four files of a folder indexed out of nine look like a finished
library. The journal records each job when it starts and marks it when it ends; a job still
"running" whose process is gone was interrupted.

Which process is gone: every journal (one per :class:`app.service.Service`) holds an
exclusive OS lock on its own owner file ``jobs/owner-<id>.lock`` for its lifetime; the OS
drops the lock when the process dies, however it dies. A running row whose owner file can
be locked by someone else belongs to a dead process. Several processes (the app and a CLI
command, a read-only second window) can share the journal: SQLite in WAL mode, short
transactions.

Arguments are recorded so the job can be re-run: paths, the question and document ids, the
document id of a summary or review. Never a password: an ingest records only that one was
given (resuming asks for it again). A read-only data folder has no journal (nothing to
resume there anyway).

States: running -> done | failed | cancelled (the user's choice, not reported);
running with a dead owner -> interrupted -> resumed | dismissed.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

from app.errors import Cancelled, DossierError

log = logging.getLogger(__name__)

JOBS_DIR = "jobs"
KINDS = ("ingest", "ask", "summarize", "review")
#: Finished rows kept for history (older ones are pruned at start).
KEEP_FINISHED = 500
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    args TEXT NOT NULL,
    state TEXT NOT NULL,
    owner TEXT NOT NULL,
    workspace TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state);
"""


@dataclass
class JobRecord:
    id: int
    kind: str
    args: dict[str, Any]
    state: str
    started_at: str
    ended_at: str | None = None
    message: str = ""
    pid: int = 0
    workspace: str = "default"
    titles: dict[str, str] = field(default_factory=dict)  # doc id -> title, filled by the Service

    def describe(self) -> str:
        """One line for people: 'ingest of 4 files (contracts, q3.pdf)', 'question “…”'."""
        a = self.args
        if self.kind == "ingest":
            names = ", ".join(Path(p).name for p in a.get("paths", [])[:3])
            more = "…" if len(a.get("paths", [])) > 3 else ""
            n = a.get("files", 0)
            return f"ingest of {n} file{'s' if n != 1 else ''} ({names}{more})"
        if self.kind == "ask":
            q = a.get("question", "")
            return f"question “{q[:80]}{'…' if len(q) > 80 else ''}”"
        doc = self.titles.get(a.get("doc_id", ""), "") or a.get("doc_id", "")[:12]
        return f"{'summary' if self.kind == 'summarize' else 'risk review'} of {doc}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["description"] = self.describe()
        return d


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


#: tries to open the journal database (see JobJournal._open)
OPEN_ATTEMPTS = 5


class JobJournal:
    """The journal of one data folder, as seen by one process (its owner id)."""

    def __init__(self, data_dir: str | os.PathLike[str], enabled: bool = True, workspace: str = "default") -> None:
        self.folder = Path(data_dir) / JOBS_DIR
        self.workspace = workspace  # jobs are listed and resumed per workspace
        self.owner = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._owner_lock: Any = None
        if enabled:
            try:
                self._open()
            except (OSError, sqlite3.Error) as err:  # a journal is a help, never a reason not to start
                log.warning("job journal unavailable in %s: %s", self.folder, err)
                self.close()

    @property
    def enabled(self) -> bool:
        return self._db is not None

    def _open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        # locked under a temporary name, then renamed: a visible owner file is always locked
        # while its process lives (another process checking it never sees it unlocked)
        lock = _FileLock(self.folder / f"new-{self.owner}.tmp")
        if not lock.acquire():
            raise OSError(f"cannot lock {lock.path}")
        self._owner_lock = lock
        final = self.folder / f"owner-{self.owner}.lock"
        os.replace(lock.path, final)
        lock.path = final
        for attempt in range(OPEN_ATTEMPTS):
            db = sqlite3.connect(self.folder / "journal.sqlite", timeout=10, check_same_thread=False,
                                 isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(_SCHEMA)
                db.execute("DELETE FROM jobs WHERE state NOT IN ('running', 'interrupted') AND id <= "
                           "(SELECT COALESCE(MAX(id), 0) FROM jobs) - ?", (KEEP_FINISHED,))
            except sqlite3.OperationalError as err:
                # SQLite answers "database is locked" at once, without its busy timeout, while
                # another process opens or recovers the WAL (seen when one was just killed)
                db.close()
                if "locked" not in str(err) or attempt == OPEN_ATTEMPTS - 1:
                    raise
                time.sleep(0.1 * (attempt + 1))
                continue
            self._db = db
            return

    # -- recording ----------------------------------------------------------------------
    def start(self, kind: str, args: dict[str, Any]) -> int:
        """Record a job that starts now; returns its id (0 without a journal)."""
        if kind not in KINDS:
            raise ValueError(f"unknown job kind {kind!r}")
        if "password" in args and not isinstance(args["password"], bool):
            raise ValueError("a password must never be journaled; record whether one was given")
        return int(self._exec("INSERT INTO jobs(kind, args, state, owner, workspace, pid, started_at) "
                              "VALUES (?,?,?,?,?,?,?)", (kind, json.dumps(args, ensure_ascii=False), "running",
                                                         self.owner, self.workspace, os.getpid(), now_iso())) or 0)

    def finish(self, job_id: int, state: str, message: str = "") -> None:
        if job_id:
            self._exec("UPDATE jobs SET state=?, ended_at=?, message=? WHERE id=?", (state, now_iso(), message[:500], job_id))

    def run(self, kind: str, args: dict[str, Any], fn: Callable[[], T]) -> T:
        """``fn()`` recorded as a job: done, cancelled (``Cancelled``, Ctrl+C, or a result with
        ``cancelled`` set) or failed (any other error, re-raised). A kill leaves it running."""
        job_id = self.start(kind, args)
        try:
            result = fn()
        except (Cancelled, KeyboardInterrupt):
            self.finish(job_id, "cancelled")
            raise
        except BaseException as err:
            self.finish(job_id, "failed", str(err) or type(err).__name__)
            raise
        cancelled = bool(getattr(result, "cancelled", False))
        self.finish(job_id, "cancelled" if cancelled else "done", _outcome(result))
        if not cancelled:
            self._cover(kind, args)
        return result

    def _cover(self, kind: str, args: dict[str, Any]) -> None:
        """A job that just completed also completes the interrupted ones it repeats (the same
        question; an ingest of the same or more paths): they are resumed, not pending."""
        for job in self.jobs("interrupted"):
            if job.kind == kind and _covers(kind, args, job.args):
                self.settle(job.id, "resumed")

    # -- reading and resolving --------------------------------------------------------------
    def interrupted(self) -> list[JobRecord]:
        """Jobs whose process died before they ended (oldest first); marks them so."""
        for job_id, owner in self._rows("SELECT id, owner FROM jobs WHERE state='running'"):
            if owner != self.owner and not _owner_alive(self.folder, owner):
                self._exec("UPDATE jobs SET state='interrupted', message=? WHERE id=? AND state='running'",
                           ("the application stopped before this job finished", job_id))
        self._forget_dead_owner_files()
        return self.jobs("interrupted")

    def jobs(self, *states: str, limit: int = 100) -> list[JobRecord]:
        """This workspace's jobs in these states (all states when none given), oldest first."""
        where = f"AND state IN ({','.join('?' * len(states))})" if states else ""
        rows = self._rows(f"SELECT {_COLUMNS} FROM jobs WHERE workspace=? {where} ORDER BY id DESC LIMIT ?",
                          (self.workspace, *states, limit))
        return [_record(r) for r in reversed(rows)]

    def get(self, job_id: int) -> JobRecord | None:
        rows = self._rows(f"SELECT {_COLUMNS} FROM jobs WHERE id=?", (int(job_id),))
        return _record(rows[0]) if rows else None

    def interrupted_job(self, job_id: int) -> JobRecord:
        """The interrupted job ``job_id``, or an error that says what to do."""
        self.interrupted()
        job = self.get(job_id)
        if job is not None and job.workspace != self.workspace:
            raise DossierError(f"Job {job_id} belongs to the workspace {job.workspace!r}; resume it there "
                               f"(--workspace {job.workspace}).")
        if job is None or job.state != "interrupted":
            what = f"is {job.state}" if job is not None else "does not exist"
            raise DossierError(f"Job {job_id} {what}; only interrupted jobs can be resumed or dismissed. "
                               "Run 'dossier jobs' to see them.")
        return job

    def resolve(self, job_id: int, state: str) -> None:
        """Close an interrupted job as ``resumed`` or ``dismissed`` (an error if it is not interrupted)."""
        self.interrupted_job(job_id)
        self.settle(job_id, state)

    def settle(self, job_id: int, state: str) -> None:
        """Close ``job_id`` as ``state`` if it is still interrupted (no error otherwise)."""
        self._exec("UPDATE jobs SET state=?, ended_at=? WHERE id=? AND state='interrupted'", (state, now_iso(), job_id))

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
        if self._owner_lock is not None:
            self._owner_lock.release(delete=True)
            self._owner_lock = None

    # -- internals --------------------------------------------------------------------------
    def _exec(self, sql: str, params: Iterable[Any] = ()) -> int | None:
        with self._lock:
            if self._db is None:
                return None
            try:
                return self._db.execute(sql, tuple(params)).lastrowid
            except sqlite3.Error as err:  # never let bookkeeping fail the user's work
                log.warning("job journal: %s", err)
                return None

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        with self._lock:
            if self._db is None:
                return []
            try:
                return self._db.execute(sql, tuple(params)).fetchall()
            except sqlite3.Error as err:
                log.warning("job journal: %s", err)
                return []

    def _forget_dead_owner_files(self) -> None:
        for path in [*self.folder.glob("owner-*.lock"), *self.folder.glob("new-*.tmp")]:
            if self.owner in path.name:
                continue
            lock = _FileLock(path, create=False)
            if lock.acquire():  # nobody holds it: its process is gone
                lock.release(delete=True)


_COLUMNS = "id, kind, args, state, started_at, ended_at, message, pid, workspace"


def _record(row: tuple) -> JobRecord:
    return JobRecord(row[0], row[1], json.loads(row[2]), *row[3:])


def ingest_args(paths: list[Any], password: str | None) -> dict[str, Any]:
    """What an ingest job records: absolute paths, how many PDFs they hold, whether a password
    was given (never the password)."""
    from app.ingest.pipeline import expand_paths

    absolute = [str(Path(os.fspath(p)).expanduser().absolute()) for p in paths]
    return {"paths": absolute, "files": len(expand_paths(absolute)[0]), "password": password is not None}


def _covers(kind: str, new: dict[str, Any], old: dict[str, Any]) -> bool:
    if kind == "ingest":
        return set(old.get("paths", [])) <= set(new.get("paths", []))
    if kind == "ask":
        return (new.get("question"), new.get("doc_ids")) == (old.get("question"), old.get("doc_ids"))
    return new.get("doc_id") == old.get("doc_id")


def _outcome(result: Any) -> str:
    """A short note on how a finished job went (an ingest's counts)."""
    if hasattr(result, "added") and hasattr(result, "failed"):
        return f"{len(result.added)} added, {len(getattr(result, 'unchanged', []))} unchanged, {len(result.failed)} failed"
    return ""


def _owner_alive(folder: Path, owner: str) -> bool:
    lock = _FileLock(folder / f"owner-{owner}.lock", create=False)
    if lock.acquire():
        lock.release()
        return False
    return lock.exists


class _FileLock:
    """An exclusive, non-blocking OS lock on a file, dropped by the OS when the process dies."""

    def __init__(self, path: Path, create: bool = True) -> None:
        self.path, self.create, self._fh = path, create, None
        self.exists = True

    def acquire(self) -> bool:
        try:
            fh = open(self.path, "a+" if self.create else "r+")
        except FileNotFoundError:
            self.exists = False
            return False
        try:
            try:
                import fcntl

                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except ImportError:  # pragma: no cover - Windows
                import msvcrt

                msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            fh.close()
            return False
        self._fh = fh
        return True

    def release(self, delete: bool = False) -> None:
        if self._fh is not None:
            if delete:
                Path(self.path).unlink(missing_ok=True)
            self._fh.close()
            self._fh = None


def resume_job(service: Any, job_id: int, password: str | None = None, on_progress: Any = None,
               cancel: Any = None, on_token: Callable[[str], None] | None = None) -> tuple[JobRecord, Any]:
    """Run an interrupted job again through ``service`` (recorded as a new job) and, once it
    completes, close the old one as resumed. Returns (the old record, the new result). An
    ingest skips the files already indexed, so it finishes the folder rather than redoing it."""
    from app.types import no_progress

    job = service.jobs.interrupted_job(job_id)
    a, progress = job.args, on_progress or no_progress
    if job.kind == "ingest":
        result = service.ingest(a["paths"], password=password, on_progress=progress, cancel=cancel)
    elif job.kind == "ask":
        result = service.ask(a["question"], doc_ids=a.get("doc_ids"), on_token=on_token, on_progress=progress,
                             cancel=cancel)
    elif job.kind == "summarize":
        result = service.summarize(a["doc_id"], force=bool(a.get("force")), on_token=on_token,
                                   on_progress=progress, cancel=cancel)
    else:
        result = service.review(a["doc_id"], force=bool(a.get("force")), on_progress=progress, cancel=cancel)
    if not getattr(result, "cancelled", False):
        service.jobs.settle(job.id, "resumed")  # (a repeat of the same job has already settled it)
    return job, result
