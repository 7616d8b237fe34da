"""Check an audit log from its first entry to its head record (see :mod:`app.audit.log`).

Reports every break it finds, in file order, each naming the entry (``#seq``) and line,
and keeps going after a break (re-synchronising on the damaged entry) so that one edit
does not hide a later deletion. ``recovery`` entries (a torn line set aside after a crash)
are notices; ``anomaly`` entries (the log and head disagreed when Dossier appended) are
problems, because they record that entries went missing at some point.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from app.audit.log import ZERO, Problem, Verification, entry_hash

if TYPE_CHECKING:
    from app.audit.log import AuditLog

_MIN_ANCHOR = 12


class _Walk:
    def __init__(self) -> None:
        self.expected, self.prev = 1, ZERO
        self.last_seq, self.last_hash, self.last_prev = 0, ZERO, ZERO
        self.hashes: set[str] = set()
        self.by_seq: dict[int, str] = {}


def verify_log(log: "AuditLog", anchor: str | None = None) -> Verification:
    result = Verification(path=str(log.path))
    walk = _Walk()
    for n, raw in log.lines():
        if not raw.endswith(b"\n"):
            result.problems.append(Problem(walk.last_seq + 1, n, _torn_message(walk.last_seq, n)))
            break
        _check_line(n, raw, walk, result)
    result.entries = walk.last_seq
    _check_head(log, walk, result)
    if anchor:
        _check_anchor(anchor.strip().lower(), walk, result)
    return result


def _torn_message(last_seq: int, line: int) -> str:
    return (f"entry #{last_seq + 1} (line {line}) is incomplete: Dossier was stopped while writing it, or the "
            "file was cut. The next entry Dossier writes sets the fragment aside and records that it did.")


def _check_line(n: int, raw: bytes, walk: _Walk, result: Verification) -> None:
    try:
        entry = json.loads(raw)
        seq, prev, digest, event = int(entry["seq"]), str(entry["prev"]), str(entry["hash"]), str(entry["event"])
    except (ValueError, KeyError, TypeError):
        result.problems.append(Problem(walk.expected, n, f"line {n} is not a valid audit entry (it was edited or "
                                                          f"damaged); entry #{walk.expected} was expected there"))
        walk.expected += 1
        return
    problem = _chain_problem(n, entry, seq, prev, digest, walk)
    if problem:
        result.problems.append(Problem(seq, n, problem))
        if seq < walk.expected:
            return  # a stray copy: keep following the chain that was there before it
    if event == "anomaly":
        result.problems.append(Problem(seq, n, f"entry #{seq} records that the log was damaged before it was "
                                               f"written: {entry.get('detail', '')}"))
    elif event == "recovery" and not problem:
        result.notices.append(f"entry #{seq}: {entry.get('detail', '')} ({entry.get('torn_bytes')} bytes in "
                              f"{entry.get('quarantined_to')})")
    walk.expected, walk.prev = seq + 1, digest  # re-synchronise on this entry either way
    walk.last_seq, walk.last_hash, walk.last_prev = seq, digest, prev
    walk.hashes.add(digest)
    walk.by_seq[seq] = digest


def _chain_problem(n: int, entry: dict[str, Any], seq: int, prev: str, digest: str, walk: _Walk) -> str:
    if entry_hash(entry) != digest:
        return f"entry #{seq} (line {n}) was changed after it was written: its content does not match its hash"
    if seq > walk.expected:
        gone = f"entry #{walk.expected} is" if seq == walk.expected + 1 else f"entries #{walk.expected}–#{seq - 1} are"
        return f"{gone} missing before entry #{seq} (line {n}): deleted"
    if seq < walk.expected:
        return (f"entry #{seq} (line {n}) is out of place: entry #{walk.expected} was expected (entries were "
                "inserted, duplicated or reordered)")
    if prev != walk.prev:
        return (f"entry #{seq} (line {n}) does not follow the entry before it: entries were inserted, removed "
                "or reordered")
    return ""


def _check_head(log: "AuditLog", walk: _Walk, result: Verification) -> None:
    head = log.read_head()
    result.head_seq, result.head_hash = walk.last_seq, walk.last_hash
    if head is None:
        if walk.last_seq:
            result.problems.append(Problem(None, None, f"the head record ({log.head_path.name}) is missing, so "
                                                       "deleting entries from the end could not be detected"))
        return
    seq, digest = head
    if seq < 0:
        result.problems.append(Problem(None, None, f"the head record ({log.head_path.name}) is unreadable"))
    elif seq > walk.last_seq:
        result.problems.append(Problem(walk.last_seq + 1, None, (
            f"the log ends at entry #{walk.last_seq} but the head record says #{seq}: the last "
            f"{seq - walk.last_seq} entr{'y was' if seq - walk.last_seq == 1 else 'ies were'} deleted")))
    elif seq == walk.last_seq and digest != walk.last_hash:
        result.problems.append(Problem(seq, None, f"the last entry #{seq} is not the one Dossier wrote "
                                                  "(it was replaced)"))
    elif seq == walk.last_seq - 1 and walk.last_prev == digest:
        result.notices.append(f"entry #{walk.last_seq} was written just before Dossier stopped (the head record "
                              "was not yet updated); it is part of the chain")
    elif seq < walk.last_seq:
        result.problems.append(Problem(seq + 1, None, (
            f"the head record says the log ends at entry #{seq}, but it continues to #{walk.last_seq}: entries "
            "were added by something other than Dossier, or the head record was rolled back")))


def _check_anchor(anchor: str, walk: _Walk, result: Verification) -> None:
    if len(anchor) < _MIN_ANCHOR:
        result.problems.append(Problem(None, None, f"the anchor must be at least {_MIN_ANCHOR} hex characters "
                                                   "of an entry hash"))
    elif not any(h.startswith(anchor) for h in walk.hashes):
        result.problems.append(Problem(None, None, f"no entry has the anchored hash {anchor[:16]}…: the entry "
                                                   "you recorded earlier is no longer in the chain (history "
                                                   "was rewritten)"))
