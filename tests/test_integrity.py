"""``Service.check_store`` / ``dossier doctor --check|--repair`` on a real store (SQLite catalog
with FTS5, Chroma on disk) that the tests damage in each way a crash, a disk error or a
hand edit could: vectors deleted, FTS rows dropped or altered, orphan vectors and FTS rows,
catalog chunks lost. The hashed embedder is deterministic, so re-embedded vectors can be
compared with the originals exactly."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from app.cli.main import EXIT_ERROR, EXIT_OK, main
from app.embed.fake import FakeEmbedder
from app.errors import StoreError
from app.samples.pdf_writer import write_text_pdf
from app.service import Service
from app.settings import Settings
from app.types import Chunk


def _pages(name: str, capex: str) -> list[str]:
    body = " ".join(f"{name} reports on its operations in sentence {i}." for i in range(60))
    return [f"{name} Inc.\nAnnual Report\nItem 1. Business\n{body}",
            f"Item 7. Management's Discussion and Analysis\nCapital expenditures were ${capex} million in 2019. {body}"]


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Service]:
    pdfs = [write_text_pdf(tmp_path / f"{n}.pdf", _pages(n, c), title=f"{n} 10-K") for n, c in
            (("Acme", "1,577"), ("Globex", "2,310"), ("Initech", "815"))]
    with Service(tmp_path / "data", Settings(), embedder=FakeEmbedder()) as service:
        summary = service.ingest(pdfs)
        assert len(summary.added) == 3 and all(d.chunk_count >= 3 for d in summary.added)
        yield service


def _doc(svc: Service, name: str) -> str:
    return next(d.id for d in svc.documents() if d.title.startswith(name))


def _sql(svc: Service, sql: str, *params: object) -> None:
    db = sqlite3.connect(str(svc.library.catalog.path), isolation_level=None)
    try:
        db.execute(sql, params)
    finally:
        db.close()


def _ids(svc: Service, doc_id: str) -> list[str]:
    return [c.id for c in svc.library.catalog.chunks(svc.workspace, doc_id)]


def test_a_consistent_store_passes(svc: Service) -> None:
    report = svc.check_store()
    assert report.ok and report.problems() == [] and len(report.documents) == 3
    assert all(not d.problems() for d in report.documents)


def test_missing_vectors_are_found_and_reembedded_exactly(svc: Service) -> None:
    acme = _doc(svc, "Acme")
    original = svc.library.vectors.embeddings_for_document(acme)
    lost = _ids(svc, acme)[:2]
    svc.library.vectors._col.delete(ids=lost)

    report = svc.check_store()
    assert not report.ok
    damaged = {d.doc_id: d for d in report.documents if d.problems()}
    assert list(damaged) == [acme] and damaged[acme].missing_vectors == lost
    assert "2 of" in damaged[acme].problems()[0] and "no vector" in damaged[acme].problems()[0]

    fixed = svc.check_store(repair=True)
    assert fixed.ok and fixed.remaining == [] and any("re-embedded 2 chunks" in a for a in fixed.actions)
    again = svc.library.vectors.embeddings_for_document(acme)
    assert set(again) == set(original)
    for cid in original:
        assert np.allclose(again[cid], original[cid], atol=1e-6)
    assert svc.check_store().ok


def test_dropped_and_altered_fts_rows_are_found_and_rebuilt(svc: Service) -> None:
    globex = _doc(svc, "Globex")
    assert svc.library.catalog.lexical_search(svc.workspace, "2,310", [globex])
    _sql(svc, "DELETE FROM chunks_fts WHERE rowid IN (SELECT rowid FROM chunks WHERE doc_id=?)", globex)
    initech = _doc(svc, "Initech")
    _sql(svc, "UPDATE chunks_fts SET text='nothing to see' WHERE rowid=(SELECT MIN(rowid) FROM chunks WHERE doc_id=?)",
         initech)
    assert not svc.library.catalog.lexical_search(svc.workspace, "2,310", [globex])  # search misses it now

    report = svc.check_store()
    by_id = {d.doc_id: d for d in report.documents}
    assert by_id[globex].missing_fts == by_id[globex].chunks and by_id[initech].altered_fts == 1
    assert not by_id[_doc(svc, "Acme")].problems()

    fixed = svc.check_store(repair=True)
    assert fixed.ok and "rebuilt the lexical index from the stored chunks" in fixed.actions
    assert svc.library.catalog.lexical_search(svc.workspace, "2,310", [globex])


def test_orphan_vectors_and_fts_rows_are_found_and_deleted(svc: Service) -> None:
    acme = _doc(svc, "Acme")
    ghost = Chunk(doc_id="f" * 32, ordinal=0, text="ghost", section="", page_start=0, page_end=0,
                  char_start=0, char_end=5)
    stray = Chunk(doc_id=acme, ordinal=999, text="stray", section="", page_start=0, page_end=0,
                  char_start=0, char_end=5)
    svc.library.vectors.add([ghost, stray], FakeEmbedder().embed(["ghost", "stray"]))
    _sql(svc, "INSERT INTO chunks_fts (rowid, text, context, section, doc) VALUES (987654, 'ghost', '', '', 'x')")

    report = svc.check_store()
    assert report.orphan_vectors == {"f" * 32: 1} and report.orphan_fts_rows == 1
    acme_check = next(d for d in report.documents if d.doc_id == acme)
    assert acme_check.extra_vectors == [stray.id]

    fixed = svc.check_store(repair=True)
    assert fixed.ok, fixed.remaining
    assert svc.library.vectors.doc_ids() == {d.id for d in svc.documents()}
    assert stray.id not in svc.library.vectors.embeddings_for_document(acme)


def test_lost_catalog_chunks_mark_the_document_failed_and_the_rest_stays(svc: Service, tmp_path: Path) -> None:
    initech, acme = _doc(svc, "Initech"), _doc(svc, "Acme")
    _sql(svc, "DELETE FROM chunks_fts WHERE rowid IN (SELECT rowid FROM chunks WHERE doc_id=? AND ordinal=0)", initech)
    _sql(svc, "DELETE FROM chunks WHERE doc_id=? AND ordinal=0", initech)

    report = svc.check_store()
    bad = next(d for d in report.documents if d.doc_id == initech)
    assert bad.unrepairable.startswith("1 of ") and "text chunks are missing" in bad.unrepairable

    fixed = svc.check_store(repair=True)
    assert fixed.ok, fixed.remaining
    doc = svc.document(initech)
    assert doc.status == "failed" and "Add the file again" in doc.error and "Initech.pdf" in doc.error
    assert initech not in svc.library.vectors.doc_ids()
    assert [d.status for d in svc.documents() if d.id != initech] == ["indexed", "indexed"]
    assert svc.search("capital expenditures 2019", doc_ids=[acme])  # the others are untouched

    again = svc.ingest([tmp_path / "Initech.pdf"])  # and the way back works
    assert [d.id for d in again.added] == [initech] and svc.document(initech).status == "indexed"
    assert svc.check_store().ok


@pytest.mark.parametrize("damage", ["id > 10", "id = 10"], ids=["index-segments", "structure-record"])
def test_fts_internal_damage_is_found_and_rebuilt(svc: Service, damage: str) -> None:
    """Damage inside FTS5's own tables: lost index segments (rows still readable; FTS5's
    integrity-check fails) and a lost structure record (the table cannot even be opened)."""
    acme = _doc(svc, "Acme")
    _sql(svc, f"DELETE FROM chunks_fts_data WHERE {damage}")
    report = svc.check_store()
    assert report.fts_integrity != "ok" and not report.ok
    assert any("lexical index" in p for p in report.problems())
    assert svc.check_store(repair=True).ok
    assert svc.library.catalog.lexical_search(svc.workspace, "1,577", [acme])
    assert svc.check_store().ok


def test_a_reader_may_check_but_not_repair(svc: Service) -> None:
    import threading

    result: list[object] = []

    def second() -> None:
        with Service(svc.data_dir, Settings(), embedder=FakeEmbedder()) as other:
            result.append(other.check_store().ok)
            try:
                other.check_store(repair=True)
            except StoreError as err:
                result.append(str(err))

    t = threading.Thread(target=second)
    t.start()
    t.join()
    assert result[0] is True and "Cannot repair the index" in str(result[1])


def test_cli_doctor_check_and_repair(svc: Service, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    acme = _doc(svc, "Acme")
    svc.library.vectors._col.delete(ids=_ids(svc, acme)[:1])
    data = svc.data_dir
    svc.close()  # the CLI is another "process" on the same folder
    monkeypatch.setenv("DOSSIER_EMBEDDER", "fake")

    def run(*args: str) -> tuple[int, str]:
        code = main(["--data-dir", str(data), "doctor", *args])
        return code, capsys.readouterr().out

    code, out = run("--check")
    assert code == EXIT_ERROR and f"DAMAGED   {acme[:12]}" in out and "1 of" in out and "--repair" in out
    assert "ok        " in out  # the healthy documents are listed too
    code, out = run("--repair")
    assert code == EXIT_OK and "re-embedded 1 chunks" in out and "consistent now" in out
    code, out = run("--check")
    assert code == EXIT_OK and "DAMAGED" not in out and "the index is consistent" in out


def test_cli_repairs_a_store_whose_fts_index_cannot_even_be_opened(svc: Service, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A lost FTS5 structure record makes the catalog unopenable (every command fails);
    'dossier doctor --repair' rebuilds the index and then checks the store."""
    acme = _doc(svc, "Acme")
    _sql(svc, "DELETE FROM chunks_fts_data WHERE id = 10")
    data = svc.data_dir
    svc.close()
    monkeypatch.setenv("DOSSIER_EMBEDDER", "fake")
    assert main(["--data-dir", str(data), "list"]) == EXIT_ERROR
    assert "chunks_fts" in capsys.readouterr().err
    assert main(["--data-dir", str(data), "doctor", "--repair"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "it was rebuilt from the stored chunks" in out and "the index is consistent" in out
    assert main(["--data-dir", str(data), "search", "1,577", "--doc", acme[:8], "--json"]) == EXIT_OK
    assert '"document_id": "' + acme in capsys.readouterr().out
