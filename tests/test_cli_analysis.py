"""``dossier ask / summarize / risks / models`` end to end: real PDF, real Chroma, the real
bundled GGUF model in its own process; the fake embedder keeps the index build fast (the
real embedder has its own tests)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from app.cli.main import EXIT_ERROR, EXIT_OK, main
from app.samples.pdf_writer import write_text_pdf
from app.samples.sample_docs import write_sample_agreement

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-analysis")


@pytest.fixture
def cli(data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("DOSSIER_EMBEDDER", "fake")
    monkeypatch.setenv("DOSSIER_LLM_THREADS", "1")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--data-dir", str(data_dir / "data"), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(scope="module")
def ids(data_dir: Path) -> dict[str, str]:
    """Ingest a small 10-K and the sample contract once for the module."""
    import os

    os.environ["DOSSIER_EMBEDDER"] = "fake"
    try:
        report = write_text_pdf(data_dir / "acme.pdf", [
            "Acme Corp\nAnnual Report on Form 10-K\nItem 1. Business\nAcme sells anvils to coyotes across North America.",
            "Item 7. Management's Discussion and Analysis\nCapital expenditures were $1,577 million in 2019, "
            "up from $1,204 million in 2018.\nRevenue was $9,310 million in 2019.",
        ], title="Acme 10-K 2019")
        contract = write_sample_agreement(data_dir / "msa.pdf")
        from app.service import Service
        from app.settings import Settings

        settings = Settings.load(data_dir / "data")
        with Service(data_dir / "data", settings) as svc:
            summary = svc.ingest([report, contract])
            assert not summary.failed
            return {d.title: d.id for d in summary.added}
    finally:
        os.environ.pop("DOSSIER_EMBEDDER", None)


def _acme(ids: dict[str, str]) -> str:
    return ids["Acme 10-K 2019"]


def _msa(ids: dict[str, str]) -> str:
    return next(v for k, v in ids.items() if k != "Acme 10-K 2019")


def test_ask_json_has_answer_citations_and_evidence_on_the_right_page(cli, ids) -> None:
    code, out, err = cli("ask", "What were capital expenditures in 2019?", "--doc", _acme(ids)[:8], "--json")
    assert code == EXIT_OK, err
    result = json.loads(out)
    assert set(result) >= {"text", "sentences", "citations", "evidence", "abstained", "fully_supported"}
    assert result["text"].strip()
    top = result["evidence"][0]
    assert top["doc_id"] == _acme(ids) and top["page_start"] <= 1 <= top["page_end"]
    assert "1,577" in top["best_sentence"]
    span = top["best_sentence_spans"][0]
    assert span["page"] == 1 and span["end"] > span["start"]
    for c in result["citations"]:  # every citation names a source that was given, with a span
        assert c["doc_id"] == _acme(ids) and c["spans"]


def test_ask_streams_then_prints_sources(cli, ids) -> None:
    code, out, _ = cli("ask", "What were capital expenditures in 2019?", "--doc", _acme(ids)[:8])
    assert code == EXIT_OK
    evidence = out.split("Evidence:", 1)[1]  # after the streamed answer (whatever the tiny model wrote)
    assert re.search(r"#1 Acme 10-K 2019 — pp?\. (1–)?2\b", evidence) and "\u25b6" in evidence and "1,577" in evidence


def test_ask_about_something_absent_abstains(cli, ids) -> None:
    code, out, _ = cli("ask", "What is the dividend policy for preferred shareholders in Japan?", "--doc", _acme(ids)[:8],
                       "--json")
    assert code == EXIT_OK
    result = json.loads(out)
    assert result["abstained"] and "not" in result["text"].lower() and not result["citations"]


def test_summarize_md_and_json_cite_pages(cli, ids) -> None:
    code, out, err = cli("summarize", _acme(ids)[:8], "--format", "json")
    assert code == EXIT_OK, err
    summary = json.loads(out)
    titles = [s["title"] for s in summary["sections"]]
    assert titles and any("figure" in t.lower() for t in titles)
    bullets = [b for s in summary["sections"] for b in s["bullets"]]
    assert bullets and all(b["pages"] and all(0 <= p <= 1 for p in b["pages"]) for b in bullets)
    code, out, _ = cli("summarize", _acme(ids)[:8])  # cached now; markdown
    assert code == EXIT_OK and out.startswith("# Summary: Acme 10-K 2019") and "(p. " in out


def test_risks_formats_and_register(cli, ids, data_dir: Path) -> None:
    msa = _msa(ids)[:8]
    code, out, err = cli("risks", msa)
    assert code == EXIT_OK, err
    assert "Governing Law" in out and "Renewal" in out
    code, out, _ = cli("risks", msa, "--format", "json")
    report = json.loads(out)
    law = next(f for f in report["findings"] if f["category_id"] == "governing_law")
    assert law["kind"] == "present" and law["spans"] and law["value"]["jurisdiction"] == "Delaware" and law["page"] == 3
    code, out, _ = cli("risks", msa, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert any(r["category"] == "Governing Law" and r["pages"].startswith("p. ") for r in rows)
    xlsx = data_dir / "register.xlsx"
    code, out, err = cli("risks", "--all", "--format", "xlsx", "--out", str(xlsx))
    assert code == EXIT_OK, err
    sheet = [[c.value for c in row] for row in load_workbook(xlsx)["Register"].iter_rows()]
    assert sheet[0][0] == "document" and len(sheet) == 3  # header + both documents
    code, _, err = cli("risks", "--all")
    assert code == EXIT_ERROR and "--out" in err


def test_models_shows_bundled_model_and_rejects_non_gguf(cli, ids, tmp_path: Path) -> None:
    code, out, _ = cli("models", "--json")
    facts = json.loads(out)
    assert code == EXIT_OK and facts["architecture"] == "llama" and facts["chat_template"] is True
    assert facts["path"].endswith(".gguf") and facts["in_use"]
    bogus = tmp_path / "not-a-model.gguf"
    bogus.write_bytes(b"hello")
    code, _, err = cli("models", str(bogus))
    assert code == EXIT_ERROR and "not-a-model.gguf" in err


def test_unknown_document_is_a_clear_error(cli, ids) -> None:
    for cmd in (["summarize", "ffffffff"], ["risks", "ffffffff"], ["ask", "x?", "--doc", "ffffffff"]):
        code, _, err = cli(*cmd)
        assert code == EXIT_ERROR and "dossier list" in err
