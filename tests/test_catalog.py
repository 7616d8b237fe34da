"""SQLite catalog: atomic commits, replacement, failures, FTS5 search, unusable folders."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from app.errors import StoreError
from app.store.catalog import Catalog
from app.store.fts import build_match
from app.types import Chunk, DocumentRecord, PageText

WS = "default"


def make_doc(doc_id: str, texts: list[str], path: str | None = None, ws: str = WS,
             sections: list[str] | None = None) -> tuple[DocumentRecord, list[PageText], list[Chunk]]:
    pages = [PageText(i, t) for i, t in enumerate(texts)]
    chunks = [Chunk(doc_id, i, t, (sections or [""] * len(texts))[i], i, i, 0, len(t)) for i, t in enumerate(texts)]
    rec = DocumentRecord(id=doc_id, path=path or f"/docs/{doc_id}.pdf", title=f"Title {doc_id}",
                         page_count=len(pages), doc_type="other", status="indexing", workspace=ws,
                         textless_pages=[5], index_settings="idx1")
    return rec, pages, chunks


@pytest.fixture
def cat(tmp_path: Path):
    with Catalog(tmp_path / "data") as c:
        yield c


def test_commit_and_read_back(cat: Catalog) -> None:
    rec, pages, chunks = make_doc("d1", ["Revenue was $1,577 million.", "EBITDA grew in 2022."])
    cat.commit_document(rec, pages, chunks)
    got = cat.get(WS, "d1")
    assert got is not None and got.status == "indexed" and got.chunk_count == 2
    assert got.textless_pages == [5] and got.index_settings == "idx1" and got.ingested_at
    assert cat.pages(WS, "d1") == pages
    assert cat.page_text(WS, "d1", 1) == "EBITDA grew in 2022."
    assert cat.page_text(WS, "d1", 9) == ""
    assert cat.chunks(WS, "d1") == chunks
    assert set(cat.chunks_by_ids(WS, ["d1:1", "d1:7", "nonsense", "x:y"])) == {"d1:1"}
    assert cat.indexed_doc_ids(WS) == {"d1"}
    assert cat.find_by_path(WS, "/docs/d1.pdf").id == "d1"
    assert [d.id for d in cat.list_documents(WS)] == ["d1"]
    assert cat.workspaces() == [WS]


def test_failure_mid_transaction_leaves_nothing_visible(cat: Catalog) -> None:
    old = make_doc("old", ["old text about widgets"], path="/docs/a.pdf")
    cat.commit_document(*old)
    rec, pages, chunks = make_doc("new", ["new text one", "new text two"], path="/docs/a.pdf")
    broken = chunks + [chunks[0]]  # duplicate ordinal: the INSERT fails after others succeeded
    with pytest.raises(StoreError):
        cat.commit_document(rec, pages, broken, replaces=["old"])
    assert cat.get(WS, "new") is None
    assert cat.pages(WS, "new") == [] and cat.chunks(WS, "new") == []
    assert not [c for c, _ in cat.lexical_search(WS, "new text", None, 10) if c.startswith("new:")]
    # the replaced document is untouched: the delete was rolled back too
    assert cat.indexed_doc_ids(WS) == {"old"}
    assert cat.lexical_search(WS, "widgets", None, 10)[0][0] == "old:0"


def test_failure_raised_by_code_mid_transaction(cat: Catalog) -> None:
    rec, pages, chunks = make_doc("d1", ["alpha", "beta"])
    bad = chunks + [Chunk("other-doc", 9, "gamma", "", 0, 0, 0, 5)]
    with pytest.raises(ValueError):
        cat.commit_document(rec, pages, bad)
    assert cat.get(WS, "d1") is None and cat.lexical_search(WS, "alpha", None, 5) == []


def test_replace_removes_old_rows_and_fts(cat: Catalog) -> None:
    cat.commit_document(*make_doc("v1", ["obsolete zebra clause"], path="/docs/c.pdf"))
    cat.commit_document(*make_doc("v2", ["current giraffe clause"], path="/docs/c.pdf"), replaces=["v1"])
    assert cat.indexed_doc_ids(WS) == {"v2"}
    assert cat.lexical_search(WS, "zebra", None, 5) == []
    assert cat.lexical_search(WS, "giraffe", None, 5)[0][0] == "v2:0"
    assert cat.pages(WS, "v1") == [] and cat.chunks(WS, "v1") == []


def test_recommit_same_id_is_idempotent(cat: Catalog) -> None:
    cat.commit_document(*make_doc("d1", ["one", "two"]))
    cat.commit_document(*make_doc("d1", ["three"]))
    assert [c.text for c in cat.chunks(WS, "d1")] == ["three"]
    assert cat.lexical_search(WS, "two", None, 5) == []


def test_failures_are_listed_then_replaced(cat: Catalog) -> None:
    fid = cat.record_failure(WS, "/docs/locked.pdf", "ab" * 32, "needs a password", status="needs_password")
    rec = cat.get(WS, fid)
    assert rec is not None and rec.status == "needs_password" and rec.chunk_count == 0
    assert cat.indexed_doc_ids(WS) == set()
    assert cat.failures(WS)[0]["error"] == "needs a password"
    cat.record_failure(WS, "/docs/locked.pdf", "ab" * 32, "still broken")
    assert [d.status for d in cat.list_documents(WS)] == ["failed"]
    # a later successful ingest of the same path (same or different bytes) replaces it
    cat.commit_document(*make_doc("good", ["now readable"], path="/docs/locked.pdf"))
    docs = cat.list_documents(WS)
    assert [(d.id, d.status) for d in docs] == [("good", "indexed")]
    assert len(cat.failures(WS)) == 2  # the log is kept
    with pytest.raises(ValueError):
        cat.record_failure(WS, "/x.pdf", "", "boom", status="indexed")


def test_failure_never_hides_indexed_copy(cat: Catalog) -> None:
    cat.commit_document(*make_doc("same", ["text"], path="/docs/a.pdf"))
    cat.record_failure(WS, "/docs/copy-of-a.pdf", "same", "could not parse")
    assert cat.get(WS, "same").status == "indexed"


def test_remove_and_workspaces(cat: Catalog) -> None:
    cat.commit_document(*make_doc("d1", ["shared words here"]))
    cat.commit_document(*make_doc("d1", ["shared words here"], ws="other"))
    assert cat.workspaces() == ["default", "other"]
    assert cat.remove(WS, "d1") is True and cat.remove(WS, "d1") is False
    assert cat.lexical_search(WS, "shared", None, 5) == []
    assert cat.lexical_search("other", "shared", None, 5)[0][0] == "d1:0"


def test_fts_numbers_terms_and_sections(cat: Catalog) -> None:
    texts = ["Net revenue was $1,577 million in fiscal 2022.",
             "Adjusted EBITDA margin was 12.3% for the year.",
             "As set out in Section 8.2, either party may terminate.",
             "Section 8 covers insurance; 2 copies are required.",
             "Operating expenses were 1,234 thousand."]
    cat.commit_document(*make_doc("d1", texts, sections=["Item 7", "Item 7", "Article 8", "Article 8", "Item 8"]))
    top = lambda q: [cid for cid, _ in cat.lexical_search(WS, q, None, 5)]  # noqa: E731
    assert top("1,577")[0] == "d1:0"
    assert top("1577")[0] == "d1:0"
    assert top("EBITDA")[0] == "d1:1"
    assert top("ebitda margin 12.3%")[0] == "d1:1"
    assert top("Section 8.2")[0] == "d1:2"
    assert top("What was revenue in FY2022?")[0] == "d1:0"
    assert top("terminating")[0] == "d1:2"  # stemming
    scores = [s for _, s in cat.lexical_search(WS, "section", None, 5)]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("query", ['"', "AND", "*", "(", "-", "OR", "NOT", "NEAR", '"unclosed', "a AND (b",
                                   "col:value", "^start", "x*y", "{}[]", "'", "\\", "", "   ", "the of and",
                                   "\x00", "-- DROP TABLE chunks;", "ünïcödé ✓", "term1 + term2", '""""'])
def test_fts_nasty_queries_never_raise(cat: Catalog, query: str) -> None:
    cat.commit_document(*make_doc("d1", ["AND OR NOT near start value text", "plain words"]))
    result = cat.lexical_search(WS, query, None, 5)
    assert isinstance(result, list)
    assert isinstance(build_match(query), str)


def test_lexical_scope(cat: Catalog) -> None:
    cat.commit_document(*make_doc("a", ["goodwill impairment charge"]))
    cat.commit_document(*make_doc("b", ["goodwill impairment test"]))
    assert {c for c, _ in cat.lexical_search(WS, "goodwill", None, 5)} == {"a:0", "b:0"}
    assert [c for c, _ in cat.lexical_search(WS, "goodwill", ["b"], 5)] == ["b:0"]
    assert cat.lexical_search(WS, "goodwill", [], 5) == []


def test_reopen_persists(tmp_path: Path) -> None:
    with Catalog(tmp_path) as c:
        c.commit_document(*make_doc("d1", ["persistent text"]))
    assert (tmp_path / "catalog.sqlite").exists()
    with Catalog(tmp_path) as c:
        assert c.indexed_doc_ids(WS) == {"d1"}
        assert c.lexical_search(WS, "persistent", None, 1)[0][0] == "d1:0"


def test_thread_safety(cat: Catalog) -> None:
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            cat.commit_document(*make_doc(f"t{i}", [f"thread text {i}"]))
            cat.lexical_search(WS, "thread", None, 10)
        except BaseException as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(cat.indexed_doc_ids(WS)) == 8


def test_folder_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="data folder"):
        Catalog(blocker / "data")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(StoreError, match="writable"):
            Catalog(folder)
    finally:
        folder.chmod(0o755)


def test_read_only_database_file(tmp_path: Path) -> None:
    """Works as root too: SQLite's own read-only open mode stands in for a read-only medium."""
    with Catalog(tmp_path) as c:
        c.commit_document(*make_doc("d1", ["x"]))
    import app.store.catalog as mod

    real_connect = sqlite3.connect

    def ro_connect(path: str, **kw):  # type: ignore[no-untyped-def]
        return real_connect(f"file:{path}?mode=ro", uri=True, **kw)

    mod.sqlite3.connect = ro_connect  # type: ignore[assignment]
    try:
        with pytest.raises(StoreError, match="writable"):
            c2 = Catalog(tmp_path)
            c2.commit_document(*make_doc("d2", ["y"]))
    finally:
        mod.sqlite3.connect = real_connect  # type: ignore[assignment]


def test_damaged_file(tmp_path: Path) -> None:
    (tmp_path / "catalog.sqlite").write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="damaged"):
        Catalog(tmp_path)


def test_locked_database(tmp_path: Path) -> None:
    with Catalog(tmp_path) as c:
        c.commit_document(*make_doc("d1", ["x"]))
    other = sqlite3.connect(str(tmp_path / "catalog.sqlite"), isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked"):
            with Catalog(tmp_path, timeout=0.2) as c:
                c.commit_document(*make_doc("d2", ["y"]))
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_old_fts_layout_is_rebuilt_on_open(tmp_path: Path) -> None:
    with Catalog(tmp_path) as c:
        c.commit_document(*make_doc("d1", ["rebuilt index finds 1,577"]))
    db = sqlite3.connect(str(tmp_path / "catalog.sqlite"))
    db.execute("DROP TABLE chunks_fts")
    db.execute("CREATE VIRTUAL TABLE chunks_fts USING fts5(text, context, section)")
    db.commit()
    db.close()
    with Catalog(tmp_path) as c:
        assert c.lexical_search(WS, "1,577", ["d1"], 5)[0][0] == "d1:0"


def test_query_building_drops_boilerplate_and_title_terms() -> None:
    from app.store.fts import query_terms, title_terms

    q = "What is Boeing's FY2022 capex? Round your answer to two decimal places."
    assert query_terms(q) == ["boeing", "fy2022", "2022", "capex", "two"]
    drop = title_terms("BOEING_2022_10K", "The Boeing Company Annual Report")
    assert "boeing" in drop and "2022" not in drop
    assert "boeing" not in query_terms(q, drop) and "2022" in query_terms(q, drop)
