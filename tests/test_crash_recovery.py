"""Crash recovery: jobs cut short by kill -9 are reported and resumable, nothing indexed is lost.

The journal (app/jobs_journal.py) is tested on its own first (a job of a killed process is
"interrupted", a job of a live one is not; passwords are never written). Then real
``dossier`` processes are killed with SIGKILL mid-ingest, mid-answer (the bundled GGUF
model streaming) and mid-review (the model confirming findings): on restart the store check
passes, earlier documents are byte-for-byte the same, the job is reported (by
``Service.interrupted_jobs`` and by the CLI's note), and resuming it completes it. The
subprocesses use the fake embedder (the index is real Chroma + SQLite) to keep CPU low;
the GUI's notice is tested on a real window.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import hostile_corpus as hc
from app.errors import DossierError
from app.jobs_journal import JobJournal
from app.llm.fake import FakeLLM
from app.samples.pdf_writer import write_text_pdf
from app.service import Service
from app.settings import Settings
from app.types import CancelToken

REPO = Path(__file__).resolve().parents[1]
QUESTION = "What was the revenue of Acme Holdings in 2022?"


def fake_service(data: Path, **kw: Any) -> Service:
    return Service(data, Settings(embedder="fake"), **kw)


def cli_env(data: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "DOSSIER_DATA_DIR": str(data), "DOSSIER_EMBEDDER": "fake", "PYTHONUNBUFFERED": "1", **extra}


def dossier(data: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli.main", *args], capture_output=True, text=True,
                          env=cli_env(data, **extra), cwd=REPO, timeout=300)


def snapshot(svc: Service) -> dict[str, Any]:
    """Everything indexed: per document its record, chunk ids and texts, and page texts."""
    out = {}
    for d in svc.documents():
        chunks = svc.library.catalog.chunks(svc.workspace, d.id)
        out[d.id] = (d.title, d.status, d.chunk_count, [(c.id, c.text) for c in chunks],
                     [p.text for p in svc.page_texts(d.id)])
    return out


def assert_consistent(data: Path, before: dict[str, Any]) -> dict[str, Any]:
    """The restarted app: the store check passes (after the start-up sweep of vectors a
    killed ingest wrote before its commit) and every earlier document is unchanged."""
    with fake_service(data) as svc:
        first = svc.check_store()
        assert not [p for d in first.documents for p in d.problems()], first.problems()
        assert first.fts_integrity == "ok" and not first.orphan_catalog_rows and not first.orphan_fts_rows
        svc.library.vectors  # noqa: B018 - opening Chroma sweeps the killed run's uncommitted vectors
        check = svc.check_store()
        assert check.ok, check.problems()
        now = snapshot(svc)
        for doc_id, state in before.items():
            assert now.get(doc_id) == state, f"document {doc_id} changed"
        return now


def journal_rows(data: Path) -> list[tuple[int, str, str]]:
    path = data / "jobs" / "journal.sqlite"
    if not path.exists():
        return []
    with sqlite3.connect(path, timeout=10) as db:
        return db.execute("SELECT id, kind, state FROM jobs ORDER BY id").fetchall()


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def children(pid: int) -> set[int]:
    """Child processes of ``pid`` (Linux /proc), e.g. the model process of a ``dossier ask``."""
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:
            pass
    return out


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL the command (and only it); its helper processes must then go away by themselves."""
    assert proc.poll() is None, "the command finished before the kill; the test did not test anything"
    helpers = children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    try:
        wait_for(lambda: not any(alive(c) for c in helpers), 30, "the killed command's helper processes to exit")
    finally:
        for c in helpers:  # never leave them behind, even when the assertion fails
            if alive(c):
                os.kill(c, signal.SIGKILL)


# -- the journal ------------------------------------------------------------------------------

_HOLDER = textwrap.dedent("""
    import sys, time
    from app.jobs_journal import JobJournal
    j = JobJournal(sys.argv[1])
    j.start("ingest", {"paths": [sys.argv[2]], "files": 1, "password": False})
    print("started", flush=True)
    time.sleep(600)
""")


def test_only_jobs_of_dead_processes_are_interrupted(tmp_path: Path) -> None:
    holders = [subprocess.Popen([sys.executable, "-c", _HOLDER, str(tmp_path), name], stdout=subprocess.PIPE,
                                text=True, cwd=REPO) for name in ("alive.pdf", "killed.pdf")]
    try:
        for h in holders:
            assert h.stdout is not None and h.stdout.readline().strip() == "started"
        kill(holders[1])
        journal = JobJournal(tmp_path)
        assert [j.args["paths"] for j in journal.interrupted()] == [["killed.pdf"]]
        assert [j.args["paths"] for j in journal.jobs("running")] == [["alive.pdf"]]  # its process lives
        kill(holders[0])
        assert sorted(j.args["paths"][0] for j in journal.interrupted()) == ["alive.pdf", "killed.pdf"]
        assert sorted(p.name for p in (tmp_path / "jobs").glob("owner-*")) == [f"owner-{journal.owner}.lock"]
        journal.close()
    finally:
        for h in holders:
            if h.poll() is None:
                h.kill()
                h.wait()


def test_jobs_are_recorded_without_passwords(tmp_path: Path) -> None:
    data = tmp_path / "data"
    locked = hc.encrypted(tmp_path)
    llm = FakeLLM(["Revenue of Acme Holdings was $444 million in 2022 [1]."], delay_s=0.01)
    with fake_service(data, llm=llm) as svc:
        doc = svc.ingest([write_text_pdf(tmp_path / "a.pdf", hc.good_pages("Acme"))]).added[0]
        assert svc.ingest([locked], password=hc.PASSWORD).added
        svc.ask(QUESTION)
        cancel = CancelToken()
        svc.ask(QUESTION, on_token=lambda _p: cancel.cancel(), cancel=cancel)  # the user stopped it
        llm.crash_next()
        with pytest.raises(DossierError):
            svc.ask(QUESTION)
        svc.summarize(doc.id)
        svc.review(doc.id)
        assert svc.interrupted_jobs() == []
        ingest = svc.jobs.jobs()[1]
        assert ingest.args == {"paths": [str(locked)], "files": 1, "password": True}
    assert [r[1:] for r in journal_rows(data)] == [
        ("ingest", "done"), ("ingest", "done"), ("ask", "done"), ("ask", "cancelled"), ("ask", "failed"),
        ("summarize", "done"), ("review", "done")]
    stored = b"".join(p.read_bytes() for p in (data / "jobs").iterdir())
    assert hc.PASSWORD.encode() not in stored


def test_resume_and_dismiss_say_what_is_wrong(tmp_path: Path) -> None:
    data = tmp_path / "data"
    folder = tmp_path / "pdfs"
    for t in ("Acme", "Bolt"):
        write_text_pdf(folder / f"{t}.pdf", hc.good_pages(t))
    dead = JobJournal(data)  # a process that started two jobs and vanished
    first = dead.start("ingest", {"paths": [str(folder)], "files": 2, "password": False})
    second = dead.start("ask", {"question": QUESTION, "doc_ids": None})
    dead.close()
    with fake_service(data, llm=FakeLLM(["Revenue of Acme Holdings was $444 million in 2022 [1]."])) as svc:
        assert [j.describe() for j in svc.interrupted_jobs()] == [
            "ingest of 2 files (pdfs)", f"question “{QUESTION}”"]
        with pytest.raises(DossierError, match="does not exist.*dossier jobs"):
            svc.resume(999)
        svc.ingest([folder])  # adding the same folder again completes the interrupted ingest
        assert [j.id for j in svc.interrupted_jobs()] == [second]
        assert svc.jobs.get(first).state == "resumed"
        with pytest.raises(DossierError, match="is resumed"):
            svc.resume(first)
        svc.dismiss(second)
        assert svc.interrupted_jobs() == [] and svc.jobs.get(second).state == "dismissed"


# -- real processes killed ------------------------------------------------------------------------

@pytest.mark.slow
def test_kill_mid_ingest_then_resume(tmp_path: Path) -> None:
    data, folder = tmp_path / "data", tmp_path / "pdfs"
    with fake_service(data) as svc:
        svc.ingest([write_text_pdf(tmp_path / "earlier.pdf", hc.good_pages("Earlier"), title="Earlier 10-K")])
        before = snapshot(svc)
    for d in range(3):  # large enough that the second document is still being indexed at the kill
        write_text_pdf(folder / f"ledger-{d}.pdf", [f"Ledger {d} page {p}. Entry {p * 7} pays ${p * 13} to supplier "
                                                    f"{p % 97} under contract {d}-{p}." * 6 for p in range(300)])
    proc = subprocess.Popen([sys.executable, "-m", "app.cli.main", "ingest", str(folder)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=cli_env(data), cwd=REPO)
    assert proc.stderr is not None
    for line in proc.stderr:  # "[i/N] Indexing name" per document on a pipe
        if line.startswith("[2/"):
            break
    kill(proc)
    visible = assert_consistent(data, before)
    assert 1 <= len(visible) - len(before) < 3, "the kill should land inside the second document"

    with fake_service(data) as svc:
        jobs = svc.interrupted_jobs()
        assert [(j.kind, j.args["files"]) for j in jobs] == [("ingest", 3)]
    listed = dossier(data, "list")
    assert listed.returncode == 0
    assert f"an earlier ingest of 3 files (pdfs) was interrupted" in listed.stderr
    assert f"dossier resume {jobs[0].id}" in listed.stderr
    resumed = dossier(data, "resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "already indexed" in resumed.stdout
    after = assert_consistent(data, before)
    assert len(after) == len(before) + 3 and all(d[1] == "indexed" for d in after.values())
    assert journal_rows(data)[-2][1:] == ("ingest", "resumed") and dossier(data, "list").stderr == ""


@pytest.mark.slow
def test_kill_mid_answer_then_resume(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with fake_service(data) as svc:
        svc.ingest([write_text_pdf(tmp_path / "a.pdf", hc.good_pages("Acme"), title="Acme 10-K")])
        before = snapshot(svc)
    proc = subprocess.Popen([sys.executable, "-m", "app.cli.main", "ask", QUESTION], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=cli_env(data), cwd=REPO)
    assert proc.stdout is not None
    assert proc.stdout.read(1)  # the bundled model has started streaming the answer
    kill(proc)
    assert_consistent(data, before)
    with fake_service(data) as svc:
        [job] = svc.interrupted_jobs()
        assert job.kind == "ask" and job.args["question"] == QUESTION
        assert svc.audit.log.verify().ok  # the question is on record; the missing answer is no damage
    resumed = dossier(data, "resume", str(job.id))
    assert resumed.returncode == 0, resumed.stderr
    assert "Evidence:" in resumed.stdout and "$444 million" in resumed.stdout
    assert [r[2] for r in journal_rows(data) if r[1] == "ask"] == ["resumed", "done"]


@pytest.mark.slow
def test_kill_mid_review_then_resume(tmp_path: Path) -> None:
    from app.llm.bundled import bundled_model_path
    from conftest_gui import write_contract

    data = tmp_path / "data"
    with fake_service(data) as svc:
        doc = svc.ingest([write_contract(tmp_path / "contract.pdf")]).added[0]
        before = snapshot(svc)
    # a model of the user's own (here: the bundled file named explicitly) double-checks findings: seconds of work
    proc = subprocess.Popen([sys.executable, "-m", "app.cli.main", "risks", doc.id[:12]], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=cli_env(data, DOSSIER_LLM_MODEL=str(bundled_model_path())),
                            cwd=REPO)
    wait_for(lambda: ("review", "running") in [r[1:] for r in journal_rows(data)], 120, "the review to start")
    wait_for(lambda: children(proc.pid), 120, "the model process to start (it checks the findings)")
    time.sleep(1.0)
    kill(proc)
    assert_consistent(data, before)
    with fake_service(data) as svc:
        [job] = svc.interrupted_jobs()
        assert job.describe() == "risk review of Acme Beta Services Agreement"
        assert svc.review_cache.get(doc.id, svc.taxonomy().version) is None  # nothing half-written was cached
        old, report = svc.resume(job.id)
        assert old.id == job.id and report.doc_id == doc.id and report.present()
        assert svc.jobs.get(job.id).state == "resumed" and svc.interrupted_jobs() == []


# -- the GUI's notice -------------------------------------------------------------------------------

@pytest.mark.gui
def test_window_offers_resume_and_dismiss(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import conftest_gui

    data, folder = tmp_path / "data", tmp_path / "pdfs"
    write_text_pdf(folder / "acme.pdf", hc.good_pages("Acme"), title="Acme 10-K")
    dead = JobJournal(data)  # what a killed app leaves behind
    ingest = dead.start("ingest", {"paths": [str(folder)], "files": 1, "password": False})
    ask = dead.start("ask", {"question": QUESTION, "doc_ids": None})
    dead.close()
    w = conftest_gui.make_window(qtbot, data, llm=FakeLLM(["Revenue of Acme Holdings was $444 million in 2022 [1]."]))
    notice = w.interrupted_notice
    qtbot.waitUntil(lambda: notice.isVisible() and len(notice.rows) == 2, timeout=30000)
    from PySide6.QtWidgets import QApplication

    assert QApplication.activeModalWidget() is None and w.errors == []  # a notice, not a dialog
    _button(notice.rows[ingest], "Resume").click()
    assert w.runner.wait_idle(120)
    assert [d.title for d in w.service.documents()] == ["Acme 10-K"]
    assert w.service.jobs.get(ingest).state == "resumed"
    _button(notice.rows[ask], "Dismiss").click()
    assert w.runner.wait_idle(30)
    assert not notice.isVisible() and w.service.jobs.get(ask).state == "dismissed"


def _button(row: Any, text: str) -> Any:
    from PySide6.QtWidgets import QPushButton

    return next(b for b in row.findChildren(QPushButton) if b.text() == text)


def test_journal_opens_when_sqlite_answers_locked_at_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite can answer "database is locked" at once (no busy wait) while another process
    opens the WAL; the journal tries again instead of running without a journal."""
    import app.jobs_journal as jj

    real_connect = sqlite3.connect
    refusals = [2]

    class Refusing:
        def __init__(self, db: sqlite3.Connection) -> None:
            self.db = db

        def execute(self, sql: str, *args):  # type: ignore[no-untyped-def]
            if sql.startswith("PRAGMA journal_mode") and refusals[0] > 0:
                refusals[0] -= 1
                raise sqlite3.OperationalError("database is locked")
            return self.db.execute(sql, *args)

        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return getattr(self.db, name)

    monkeypatch.setattr(jj.sqlite3, "connect", lambda *a, **kw: Refusing(real_connect(*a, **kw)))
    journal = JobJournal(tmp_path)
    assert journal.enabled and refusals == [0]
    assert journal.start("ingest", {"paths": ["a.pdf"], "files": 1, "password": False})
    journal.close()
