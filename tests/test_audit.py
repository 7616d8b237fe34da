"""The audit trail: hash chain, head record, crash recovery, concurrency, and tamper detection
(edit, insertion, reordering, deletion in the middle and at the end) on real log files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app.audit import AuditLog
from app.audit.log import HEAD_FILE, canonical, entry_hash

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    """A real log with 6 entries."""
    lg = AuditLog(tmp_path / "audit")
    for i in range(1, 7):
        lg.append("question", {"question": f"question {i}", "user": "tester"})
    return lg


def _lines(lg: AuditLog) -> list[bytes]:
    return lg.path.read_bytes().splitlines(keepends=True)


def _write(lg: AuditLog, lines: list[bytes]) -> None:
    lg.path.write_bytes(b"".join(lines))


def test_a_fresh_chain_verifies(log: AuditLog) -> None:
    check = log.verify()
    assert check.ok and check.entries == 6 and check.head_seq == 6 and not check.notices
    entries = log.entries()
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5, 6]
    assert entries[0]["prev"] == "0" * 64 and all(b["prev"] == a["hash"] for a, b in zip(entries, entries[1:]))
    assert json.loads((log.folder / HEAD_FILE).read_text())["hash"] == entries[-1]["hash"]


def test_an_edited_entry_is_named(log: AuditLog) -> None:
    lines = _lines(log)
    lines[2] = lines[2].replace(b"question 3", b"question X")
    _write(log, lines)
    check = log.verify()
    assert not check.ok and check.problems[0].seq == 3
    assert "entry #3 (line 3) was changed" in check.first_problem()


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(log: AuditLog) -> None:
    lines = _lines(log)
    entry = json.loads(lines[2])
    entry["question"] = "a nicer question"
    entry["hash"] = entry_hash(entry)
    lines[2] = canonical(entry) + b"\n"
    _write(log, lines)
    check = log.verify()
    assert not check.ok and check.problems[0].seq == 4 and "does not follow" in check.first_problem()


def test_a_deleted_middle_entry_is_named(log: AuditLog) -> None:
    lines = _lines(log)
    del lines[3]
    _write(log, lines)
    check = log.verify()
    assert not check.ok and "entry #4 is missing before entry #5" in check.first_problem()


def test_reordered_entries_are_detected(log: AuditLog) -> None:
    lines = _lines(log)
    lines[2], lines[3] = lines[3], lines[2]
    _write(log, lines)
    check = log.verify()
    assert not check.ok and check.problems[0].line == 3 and "entry #3 is missing before entry #4" in check.first_problem()
    assert any("out of place" in p.message for p in check.problems)


def test_an_inserted_entry_with_a_valid_hash_is_detected(log: AuditLog) -> None:
    lines = _lines(log)
    forged = {"seq": 3, "time": "2020-01-01T00:00:00.000+00:00", "prev": json.loads(lines[1])["hash"],
              "event": "question", "question": "forged", "user": "mallory"}
    forged["hash"] = entry_hash(forged)
    lines.insert(2, canonical(forged) + b"\n")
    _write(log, lines)
    check = log.verify()
    assert not check.ok and check.problems[0].line == 4  # the real #3 no longer fits
    assert "out of place" in check.first_problem()


def test_truncating_the_tail_is_detected_through_the_head_record(log: AuditLog) -> None:
    _write(log, _lines(log)[:4])
    check = log.verify()
    assert not check.ok
    assert "ends at entry #4 but the head record says #6: the last 2 entries were deleted" in check.first_problem()


def test_replacing_the_last_entry_is_detected(log: AuditLog) -> None:
    lines = _lines(log)
    last = json.loads(lines[-1])
    last["question"] = "something else"
    last["hash"] = entry_hash(last)
    lines[-1] = canonical(last) + b"\n"
    _write(log, lines)
    assert "the last entry #6 is not the one Dossier wrote" in log.verify().first_problem()


def test_a_deleted_head_record_is_a_problem(log: AuditLog) -> None:
    (log.folder / HEAD_FILE).unlink()
    assert "head record (audit.head) is missing" in log.verify().first_problem()


def test_truncation_stays_visible_after_later_appends(log: AuditLog) -> None:
    """Appending after a truncation must not heal the chain silently."""
    _write(log, _lines(log)[:4])
    log.append("question", {"question": "after the cut"})
    check = log.verify()
    assert not check.ok
    events = [e["event"] for e in log.entries()]
    assert events[-2:] == ["anomaly", "question"]
    assert [e["seq"] for e in log.entries()][-2:] == [7, 8]  # numbering continues after the head: a visible gap
    assert any("#5–#6 are missing" in p.message for p in check.problems)
    assert any("records that the log was damaged" in p.message for p in check.problems)


def test_a_torn_last_line_is_reported_then_set_aside_with_a_record(log: AuditLog) -> None:
    full = _lines(log)
    torn = full[-1][: len(full[-1]) // 2]
    _write(log, full[:-1] + [torn])  # what a kill in the middle of a write leaves
    (log.folder / HEAD_FILE).write_bytes(canonical({"seq": 5, "hash": json.loads(full[4])["hash"], "time": ""}))
    check = log.verify()
    assert not check.ok and "entry #6 (line 6) is incomplete" in check.first_problem()

    log.append("question", {"question": "next"})
    check = log.verify()
    assert check.ok, check.problems
    assert any("set aside" in n for n in check.notices)
    recovery = [e for e in log.entries() if e["event"] == "recovery"][0]
    assert (log.folder / recovery["quarantined_to"]).read_bytes() == torn
    assert [e["seq"] for e in log.entries()] == [1, 2, 3, 4, 5, 6, 7]


def test_a_written_entry_with_a_stale_head_is_accepted(log: AuditLog) -> None:
    """Killed after writing the line but before replacing the head: the entry is kept."""
    lines = _lines(log)
    (log.folder / HEAD_FILE).write_bytes(canonical({"seq": 5, "hash": json.loads(lines[4])["hash"], "time": ""}))
    check = log.verify()
    assert check.ok and any("head record was not yet updated" in n for n in check.notices)
    log.append("question", {"question": "next"})
    assert log.verify().ok and log.verify().entries == 7


def test_anchor_detects_a_rewritten_history(log: AuditLog, tmp_path: Path) -> None:
    anchor = log.entries()[2]["hash"]
    assert log.verify(anchor=anchor[:16]).ok
    forged = AuditLog(tmp_path / "forged")  # a whole new, internally valid chain
    for i in range(1, 7):
        forged.append("question", {"question": f"question {i}", "user": "tester"})
    for name in ("audit.jsonl", "audit.head"):
        (log.folder / name).write_bytes((forged.folder / name).read_bytes())
    check = log.verify(anchor=anchor)
    assert not check.ok and "no entry has the anchored hash" in check.first_problem()


def test_threads_append_without_losing_or_breaking_entries(tmp_path: Path) -> None:
    lg = AuditLog(tmp_path / "audit")

    def worker(n: int) -> None:
        for i in range(20):
            lg.append("question", {"question": f"t{n}-{i}"})

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check = lg.verify()
    assert check.ok and check.entries == 120
    assert len({e["question"] for e in lg.entries()}) == 120


_APPENDER = """
import sys
sys.path.insert(0, {root!r})
from app.audit import AuditLog
log = AuditLog({folder!r})
for i in range({n}):
    log.append("question", {{"question": "p%s-%d" % ({tag!r}, i), "padding": "x" * 20000}})
    print(i, flush=True)
"""


def _appender(folder: Path, tag: str, n: int) -> subprocess.Popen[str]:
    code = _APPENDER.format(root=str(ROOT), folder=str(folder), n=n, tag=tag)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def test_two_processes_append_to_one_log(tmp_path: Path) -> None:
    folder = tmp_path / "audit"
    procs = [_appender(folder, tag, 40) for tag in ("a", "b")]
    for p in procs:
        p.communicate(timeout=120)
        assert p.returncode == 0
    check = AuditLog(folder).verify()
    assert check.ok and check.entries == 80


def test_kill_9_while_appending_loses_nothing_written_and_the_chain_recovers(tmp_path: Path) -> None:
    folder = tmp_path / "audit"
    proc = _appender(folder, "k", 100_000)
    assert proc.stdout is not None
    for _ in range(30):  # let it write a few entries, then kill it mid-stream
        proc.stdout.readline()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    lg = AuditLog(folder)
    before = lg.verify()
    complete = [e for e in lg.entries()]
    assert before.entries >= 30  # every entry acknowledged before the kill is there
    assert before.ok or "incomplete" in before.first_problem()
    lg.append("question", {"question": "after the crash"})
    after = lg.verify()
    assert after.ok, after.problems
    assert [e["hash"] for e in lg.entries()][: len(complete)] == [e["hash"] for e in complete]


def test_append_refuses_reserved_fields_and_reports_an_unwritable_folder(tmp_path: Path) -> None:
    from app.audit import AuditError

    lg = AuditLog(tmp_path / "audit")
    with pytest.raises(ValueError):
        lg.append("question", {"seq": 99})
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(AuditError, match="cannot be written"):
        AuditLog(blocker / "audit").append("question", {"question": "q"})


def test_appends_are_durable_one_line_each(tmp_path: Path) -> None:
    lg = AuditLog(tmp_path / "audit")
    for _ in range(5):
        lg.append("question", {"question": "multi\nline\r\ntext ✓"})
    assert len(_lines(lg)) == 5 and lg.verify().ok
    assert lg.entries()[0]["question"] == "multi\nline\r\ntext ✓"
