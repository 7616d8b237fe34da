"""A tamper-evident, append-only log: hash-chained JSON lines plus a head record.

Each line is one entry, canonical JSON (sorted keys, no spaces) with ``seq`` (1, 2, …),
``prev`` (the previous entry's hash; 64 zeros for the first) and ``hash`` = SHA-256 of the
entry without ``hash``. Editing an entry breaks its hash; inserting, deleting or reordering
entries breaks ``seq``/``prev``. Deleting entries *from the end* leaves a shorter but
valid chain, so ``audit.head`` (the last ``seq`` and ``hash``, replaced atomically after
every append) says how far the log must reach.

Crash safety: a line is written with one ``O_APPEND`` write and fsynced before the head
is replaced. A kill can therefore leave (a) a torn last line — detected by
:meth:`AuditLog.verify`; the next append moves the fragment to ``torn-*.part``, truncates
it away and writes a ``recovery`` entry saying so, so the chain stays valid and the event
stays on record — or (b) a complete last line one ahead of the head, which is accepted.
Any other disagreement between log and head found while appending is written into the
chain as an ``anomaly`` entry, so it stays visible to every later ``verify`` instead of
being papered over by the next append.

Appends are serialised by a thread lock and an OS file lock (``audit.lock``), so several
threads and processes (a read-only second window) may append to one log.

What this does not stop: someone able to rewrite every file in the data folder can forge
a whole new chain. Against that, write down the head hash (``dossier audit verify`` prints
it, exports include it) and later check it with ``dossier audit verify --anchor HASH``.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from app.errors import DossierError

ZERO = "0" * 64
LOG_FILE, HEAD_FILE, LOCK_FILE = "audit.jsonl", "audit.head", "audit.lock"
_RESERVED = ("seq", "time", "prev", "hash", "event")


class AuditError(DossierError):
    """The audit log cannot be written (Dossier refuses to answer without a record)."""


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(entry: dict[str, Any]) -> str:
    return hashlib.sha256(canonical({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass
class Problem:
    seq: int | None
    line: int | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "line": self.line, "message": self.message}


@dataclass
class Verification:
    path: str
    entries: int = 0
    head_seq: int = 0
    head_hash: str = ZERO
    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def first_problem(self) -> str:
        return self.problems[0].message if self.problems else ""

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "ok": self.ok, "entries": self.entries, "head_seq": self.head_seq,
                "head_hash": self.head_hash, "problems": [p.to_dict() for p in self.problems],
                "notices": list(self.notices)}


@dataclass
class _Tail:
    seq: int = 0
    hash: str = ZERO
    prev: str = ZERO
    size: int = 0  # bytes up to and including the last newline
    torn: bytes = b""
    readable: bool = True


class AuditLog:
    """``folder/audit.jsonl`` with its head record; see the module docstring."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOG_FILE
        self.head_path = self.folder / HEAD_FILE
        self._lock = threading.Lock()

    # -- appending ----------------------------------------------------------------------
    def append(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        """Append one entry (crash-safe, thread- and process-safe); returns it with seq and hash."""
        clash = [k for k in _RESERVED if k in data]
        if clash:
            raise ValueError(f"audit data may not set {clash}")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with self._lock, _file_lock(self.folder / LOCK_FILE):
                tail, head = self._tail(), self.read_head()
                pending = self._reconcile(tail, head)
                seq, prev = max(tail.seq, head[0] if head else 0) + 1, tail.hash
                entry: dict[str, Any] = {}
                for ev, d in [*pending, (event, data)]:
                    entry = {**d, "seq": seq, "time": _now(), "prev": prev, "event": ev}
                    entry["hash"] = entry_hash(entry)
                    self._write_line(canonical(entry) + b"\n")
                    self._write_head(seq, entry["hash"])
                    seq, prev = seq + 1, entry["hash"]
                return entry
        except OSError as err:
            raise AuditError(f"The audit log {self.path} cannot be written ({err.strerror or err}). Dossier "
                             "records every question, answer, summary and review; free disk space or fix the "
                             "data folder's permissions, then try again.") from err

    def _reconcile(self, tail: _Tail, head: tuple[int, str] | None) -> list[tuple[str, dict[str, Any]]]:
        """Entries that must precede the next one: a torn-line recovery, or an anomaly."""
        pending: list[tuple[str, dict[str, Any]]] = []
        if tail.torn:
            name = f"torn-{tail.seq + 1}-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S%f')}.part"
            (self.folder / name).write_bytes(tail.torn)
            with open(self.path, "r+b") as fh:
                fh.truncate(tail.size)
                os.fsync(fh.fileno())
            pending.append(("recovery", {"torn_bytes": len(tail.torn), "quarantined_to": name,
                                         "torn_sha256": hashlib.sha256(tail.torn).hexdigest(),
                                         "detail": "the last entry was incomplete (Dossier was stopped while "
                                                   "writing it); it was set aside and the log continues"}))
        detail = self._disagreement(tail, head)
        if detail:
            pending.append(("anomaly", {"detail": detail, "head": list(head) if head else None,
                                        "log_last": [tail.seq, tail.hash]}))
        return pending

    @staticmethod
    def _disagreement(tail: _Tail, head: tuple[int, str] | None) -> str:
        if not tail.readable:
            return "the last entry of the log could not be read (edited or damaged)"
        if head is None:
            return "" if tail.seq == 0 else f"the head record was missing (the log ended at entry #{tail.seq})"
        seq, digest = head
        if seq < 0:
            return f"the head record was unreadable (the log ended at entry #{tail.seq})"
        if (tail.seq, tail.hash) == (seq, digest) or (tail.seq == seq + 1 and tail.prev == digest):
            return ""
        return (f"the log ended at entry #{tail.seq} but the head record said #{seq}: entries were deleted "
                "or the log was replaced")

    def _write_line(self, data: bytes) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)

    def _write_head(self, seq: int, digest: str) -> None:
        tmp = self.head_path.with_name(HEAD_FILE + ".tmp")
        with open(tmp, "wb") as fh:
            fh.write(canonical({"seq": seq, "hash": digest, "time": _now()}))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.head_path)

    # -- reading ------------------------------------------------------------------------
    def read_head(self) -> tuple[int, str] | None:
        try:
            data = json.loads(self.head_path.read_bytes())
            return int(data["seq"]), str(data["hash"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            return (-1, "unreadable")

    def _tail(self) -> _Tail:
        """The last complete entry (read backwards from the end) and any torn fragment."""
        try:
            with open(self.path, "rb") as fh:
                end = fh.seek(0, os.SEEK_END)
                buf, pos = b"", end
                while pos > 0 and buf.count(b"\n") < 2:  # the last complete line and what follows
                    step = min(pos, 1 << 16)
                    pos -= step
                    fh.seek(pos)
                    buf = fh.read(step) + buf
        except FileNotFoundError:
            return _Tail()
        cut = buf.rfind(b"\n") + 1
        torn, complete = buf[cut:], buf[:cut]
        tail = _Tail(size=pos + cut, torn=torn)
        lines = complete.splitlines()
        if not lines:
            return tail
        try:
            last = json.loads(lines[-1])
            tail.seq, tail.hash, tail.prev = int(last["seq"]), str(last["hash"]), str(last["prev"])
        except (ValueError, KeyError, TypeError):
            tail.readable = False
            tail.hash = hashlib.sha256(lines[-1]).hexdigest()
        return tail

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """(line number, raw bytes incl. newline) of every line."""
        try:
            fh = open(self.path, "rb")
        except FileNotFoundError:
            return
        with fh:
            for n, raw in enumerate(fh, 1):
                yield n, raw

    def entries(self) -> list[dict[str, Any]]:
        """Every readable entry, in file order (unreadable lines are left out)."""
        out = []
        for _, raw in self.lines():
            try:
                entry = json.loads(raw)
            except ValueError:
                continue
            if isinstance(entry, dict):
                out.append(entry)
        return out

    def verify(self, anchor: str | None = None) -> Verification:
        from app.audit.verify import verify_log

        return verify_log(self, anchor)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Exclusive lock across processes (flock; msvcrt on Windows), released on exit or death."""
    fh = open(path, "a+b")
    try:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            import msvcrt

            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)
        else:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        yield
    finally:
        fh.close()
