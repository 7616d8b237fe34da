"""The ``dossier`` command line: subcommands, stable JSON fields and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli.main import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, main
from app.samples.pdf_writer import write_text_pdf


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("DOSSIER_EMBEDDER", "fake")
    data = tmp_path / "data"

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--data-dir", str(data), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def make_pdf(tmp_path: Path, name: str = "acme.pdf") -> Path:
    return write_text_pdf(
        tmp_path / name,
        [
            "Acme Corp\nAnnual Report on Form 10-K\nItem 1. Business\nAcme sells anvils.",
            "Item 7. Management's Discussion and Analysis\nCapital expenditures were $1,577 million in 2019.",
        ],
        title="Acme 10-K 2019",
    )


def test_ingest_list_search_remove(cli, tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path)
    code, out, _ = cli("ingest", str(pdf), "--json")
    assert code == EXIT_OK
    added = json.loads(out)["added"]
    assert len(added) == 1 and added[0]["page_count"] == 2
    doc_id = added[0]["id"]

    code, out, _ = cli("list", "--json")
    assert code == EXIT_OK and json.loads(out)[0]["id"] == doc_id

    code, out, _ = cli("search", "capital expenditure 2019", "--doc", doc_id[:8], "--json")
    hits = json.loads(out)
    assert code == EXIT_OK and hits
    assert set(hits[0]) >= {"document_id", "page_span", "char_span", "section", "score", "text"}
    first, last = hits[0]["page_span"]
    assert first <= 1 <= last and "1,577" in hits[0]["text"]

    code, out, _ = cli("search", "capital expenditure 2019", "--doc", doc_id[:8])
    assert "2" in out.split("—")[1].split("(")[0]  # people read 1-based pages: "p. 2" / "pp. 1–2"

    code, out, _ = cli("ingest", str(pdf))
    assert code == EXIT_OK and "1 unchanged" in out

    code, out, _ = cli("info", "--json")
    assert json.loads(out)["documents"] == 1

    assert cli("remove", doc_id[:8])[0] == EXIT_OK
    assert json.loads(cli("list", "--json")[1]) == []


def test_exit_codes_and_messages(cli, tmp_path: Path) -> None:
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7\n garbage")
    code, _, err = cli("ingest", str(bad))
    assert code == EXIT_ERROR and "broken.pdf" in err

    code, _, err = cli("ingest", str(bad), str(make_pdf(tmp_path)))
    assert code == EXIT_PARTIAL and "1 added" in _ + err

    code, _, err = cli("search", "anything", "--doc", "ffffffff")
    assert code == EXIT_ERROR and "dossier list" in err

    with pytest.raises(SystemExit) as usage:
        cli("search")
    assert usage.value.code == 2
