"""The service writes every question, answer, summary and review to the audit trail (real PDFs,
real Chroma on disk; a scripted model and the hashed embedder keep it fast — the real model
and embedder are audited in tests/test_offline.py), and ``dossier audit verify|export``."""

from __future__ import annotations

import csv
import getpass
import io
import json
import re
from pathlib import Path
from typing import Iterator

import pytest

from app.audit import AuditError, AuditLog
from app.cli.main import EXIT_ERROR, EXIT_OK, main
from app.embed.fake import FakeEmbedder
from app.errors import Cancelled
from app.llm.fake import FakeLLM
from app.samples.pdf_writer import write_text_pdf
from app.samples.sample_docs import write_sample_agreement
from app.service import Service
from app.settings import Settings
from app.types import CancelToken

FILING = ["Acme Corp\nAnnual Report on Form 10-K\nItem 1. Business\nAcme sells anvils to coyotes.",
          "Item 7. Management's Discussion and Analysis\nCapital expenditures were $1,577 million in 2019."]


def _cite(messages: list[dict[str, str]]) -> str:
    prompt = "\n".join(m["content"] for m in messages)
    blocks = re.findall(r"<<<SOURCE (\d+)>>>(.*?)<<<END SOURCE \1>>>", prompt, re.S)
    n = next((num for num, body in blocks if "1,577" in body), "1")
    return f"Capital expenditures were $1,577 million in 2019 [{n}]."


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the filing and the sample contract indexed (built once)."""
    root = tmp_path_factory.mktemp("audited")
    pdfs = [write_text_pdf(root / "acme.pdf", FILING, title="Acme 10-K"), write_sample_agreement(root / "msa.pdf")]
    with Service(root / "data", Settings(), embedder=FakeEmbedder(), llm=FakeLLM()) as svc:
        assert not svc.ingest(pdfs).failed
    return root


@pytest.fixture
def service(library: Path, tmp_path: Path) -> Iterator[Service]:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(library / "data", data)
    with Service(data, Settings(), embedder=FakeEmbedder(), llm=FakeLLM(_cite)) as svc:
        yield svc


def _ids(svc: Service) -> tuple[str, str]:
    docs = {d.title: d.id for d in svc.documents()}
    return docs["Acme 10-K"], next(v for k, v in docs.items() if k != "Acme 10-K")


def test_question_and_answer_are_recorded_with_user_model_settings_and_spans(service: Service) -> None:
    acme, _ = _ids(service)
    answer = service.ask("What were capital expenditures in 2019?", doc_ids=[acme[:8]])
    assert answer.citations
    question, reply = service.audit.log.entries()
    assert question["event"] == "question" and question["question"] == "What were capital expenditures in 2019?"
    assert question["scope"] == [acme] and question["user"] == getpass.getuser()
    assert question["model"]["name"] == "fake" and question["settings"]["workspace"] == "default"
    assert question["settings"]["index"] == service.library.index_identity
    assert reply["event"] == "answer" and reply["request"] == question["seq"] and reply["status"] == "answered"
    assert reply["text"] == answer.text
    cited = reply["citations"][0]
    c = answer.citations[0]
    assert cited["doc_id"] == acme and cited["page"] == c.page == 1
    assert cited["spans"] == [[s.page, s.start, s.end] for s in c.spans] and cited["spans"]
    assert {"id": acme, "title": "Acme 10-K"} in reply["documents"]
    assert service.audit.log.verify().ok


def test_summary_and_review_are_recorded_with_their_pages(service: Service) -> None:
    acme, msa = _ids(service)
    summary = service.summarize(acme)
    report = service.review(msa)
    events = [(e["event"], e.get("request")) for e in service.audit.log.entries()]
    assert events == [("summary_request", None), ("summary", 1), ("review_request", None), ("review", 3)]
    entries = service.audit.log.entries()
    bullets = [b for s in entries[1]["sections"] for b in s["bullets"]]
    assert [b["pages"] for b in bullets] == [b.pages for s in summary.sections for b in s.bullets]
    assert entries[1]["documents"] == [{"id": acme, "title": "Acme 10-K"}]
    findings = entries[3]["findings"]
    assert len(findings) == len(report.findings) and findings
    first = next(f for f in report.findings if f.spans)
    logged = next(f for f in findings if f["category_id"] == first.category_id)
    assert logged["spans"] == [[s.page, s.start, s.end] for s in first.spans]
    assert entries[3]["model"] is None  # the bundled model does not take part in reviews
    service.review(msa)  # a cached review shown again is recorded again
    assert [e["event"] for e in service.audit.log.entries()][-2:] == ["review_request", "review"]


def test_cancelled_and_failed_answers_are_recorded(service: Service) -> None:
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        service.ask("What were capital expenditures in 2019?", cancel=cancel)
    service.llm.crash_next()
    try:
        service.ask("And in 2018?")
    except Exception:  # noqa: BLE001 - whether it raises or not, the outcome must be on record
        pass
    outcomes = [e["status"] for e in service.audit.log.entries() if e["event"] == "answer"]
    assert outcomes[0] == "cancelled" and outcomes[1] in ("error", "answered", "abstained")
    assert service.audit.log.verify().ok


def test_no_answer_without_a_record(service: Service) -> None:
    """If the log cannot be written, the model is never asked."""
    folder = service.data_dir / "audit"
    folder.mkdir(exist_ok=True)
    (folder / "audit.jsonl").mkdir()  # a folder where the log file should be: every write fails
    with pytest.raises(AuditError, match="audit log"):
        service.ask("What were capital expenditures in 2019?")
    assert service.llm.calls == 0


def test_secrets_never_reach_the_log(library: Path, tmp_path: Path) -> None:
    import shutil

    import keyring
    from memory_keyring import MemoryKeyring

    from app.llm.remote import remote_secret_name
    from app.secrets import set_secret

    before = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        url = "http://alice:pa55word@gpu-box:8080"
        set_secret(remote_secret_name(url), "tok-SECRET-123")
        shutil.copytree(library / "data", tmp_path / "data")
        settings = Settings(llm_remote_url=url)
        with Service(tmp_path / "data", settings, embedder=FakeEmbedder(), llm=FakeLLM(_cite)) as svc:
            svc.ask("What were capital expenditures in 2019?")
            raw = svc.audit.log.path.read_text()
            assert svc.audit.log.entries()[0]["settings"]["llm_remote_url"] == "http://gpu-box:8080"
    finally:
        keyring.set_keyring(before)
    assert "pa55word" not in raw and "alice" not in raw and "tok-SECRET-123" not in raw


# -- the command line --------------------------------------------------------------------

@pytest.fixture
def cli_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DOSSIER_EMBEDDER", "fake")
    data = tmp_path / "data"
    log = AuditLog(data / "audit")
    for i in range(1, 6):
        log.append("question", {"question": f"q{i}", "user": "tester", "documents": [{"id": "abc123", "title": "T"}],
                                "citations": [{"number": 1, "doc_id": "abc123", "page": i, "spans": [[i, 0, 5]]}]})

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--data-dir", str(data), "audit", *args])
        out, err = capsys.readouterr()
        return code, out, err

    return log, run


def test_cli_verify_ok_then_names_the_first_bad_entry(cli_log) -> None:  # type: ignore[no-untyped-def]
    log, run = cli_log
    code, out, _ = run("verify")
    assert code == EXIT_OK and "intact: 5 entries" in out and log.verify().head_hash in out
    code, out, _ = run("verify", "--json")
    assert code == EXIT_OK and json.loads(out)["ok"] is True
    lines = log.path.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"q3"', b'"q3 (edited)"')
    log.path.write_bytes(b"".join(lines))
    code, _, err = run("verify")
    assert code == EXIT_ERROR and "entry #3 (line 3) was changed" in err


def test_cli_export_md_json_csv(cli_log, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log, run = cli_log
    for fmt in ("md", "json", "csv"):
        out_file = tmp_path / f"report.{fmt}"
        code, out, _ = run("export", "--format", fmt, "--out", str(out_file))
        assert code == EXIT_OK and "5 entries" in out
    md = (tmp_path / "report.md").read_text()
    assert "Verification: intact" in md and log.verify().head_hash in md and "| 3 |" in md
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["verification"]["ok"] and [e["seq"] for e in data["entries"]] == [1, 2, 3, 4, 5]
    rows = list(csv.DictReader(io.StringIO((tmp_path / "report.csv").read_text())))
    assert [r["pages"] for r in rows] == ["2", "3", "4", "5", "6"]  # 1-based for people
    log.path.write_bytes(b"".join(log.path.read_bytes().splitlines(keepends=True)[:3]))  # cut the tail
    code, _, err = run("export", "--out", str(tmp_path / "cut.md"))
    assert code == EXIT_ERROR and "deleted" in err and "FAILED" in (tmp_path / "cut.md").read_text()
