"""Team mode on real engines: ``dossier serve-index`` (Chroma 1.x + Dossier's token proxy) and
llama-cpp-python's OpenAI-compatible server, both real processes on loopback, started here.

Two clients = two Services with their own data folders pointing at the same server. They
ingest (concurrently), then must see the same documents, search results, page texts and PDF
bytes (highlights), answers with citations from the shared model, and the same risk review.
Wrong and missing tokens are refused with a clear message; a client killed with SIGKILL in
the middle of an upload leaves nothing visible to the other. Only the embedder is the
deterministic fake (the real one has its own tests); tokens live in an in-memory keyring
selected explicitly (these machines have no OS keyring).
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import keyring
import pytest

from app.embed.fake import FakeEmbedder
from app.samples.pdf_writer import write_text_pdf
from app.secrets import set_secret
from app.service import Service
from app.settings import Settings
from app.store import team_index
from app.store.remote_index import IndexAuthError, IndexServerClient, index_secret_name

from team_helpers import REPO, MemoryKeyring, start_index_server, start_llm_server, stop

pytestmark = pytest.mark.slow

TOKEN = "team-token-5d1e"
OTHER_TOKEN = "second-user-token-9a2c"  # a second accepted token, stored as a sha256 line
LLM_TOKEN = "llm-token-77b0"

ACME = [
    "Acme Widgets Inc.\nAnnual Report on Form 10-K 2022\nPART I\nItem 1. Business\nAcme designs industrial widgets.",
    "Item 1A. Risk Factors\nOur suppliers may fail to deliver steel, which could interrupt production.",
    "Item 7. Management's Discussion and Analysis\nLiquidity and Capital Resources\n"
    "Capital expenditures were $1,577 million in 2022, up from $1,248 million in 2021.",
]
HARBOR = [  # as tests/test_qa_integration.py: a text the bundled 135M model answers from
    "Harbor Freight Logistics Annual Report 2023\nItem 1. Business\nHarbor Freight Logistics operates 42 "
    "warehouses in Canada and ships parcels for online retailers.",
    "Item 1A. Risk Factors\nFuel prices may rise sharply. A cyber attack could interrupt our parcel tracking systems.",
    "Item 7. Management's Discussion and Analysis\nTotal revenue was $3,275 million in 2023, compared with "
    "$2,980 million in 2022.\nNet income was $415 million in 2023.",
]
CONTRACT = [
    "MASTER SUPPLY AGREEMENT\nThis Agreement is made between Bolt Corp and Nova Ltd.\n"
    "Article 8. Term and Termination\n8.2 Either party may terminate this Agreement for convenience on "
    "thirty (30) days written notice.",
    "Article 9. Limitation of Liability\n9.1 In no event shall either party's aggregate liability exceed the fees "
    "paid in the twelve (12) months preceding the claim.\nArticle 12. Governing Law\n12.1 This Agreement is "
    "governed by the laws of the State of Delaware.",
]


@pytest.fixture(scope="module")
def memory_keyring() -> Iterator[MemoryKeyring]:
    before = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(before)


@pytest.fixture(scope="module")
def index_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    from app.server.tokens import hash_line

    tmp = tmp_path_factory.mktemp("index-server")
    tokens = tmp / "tokens.txt"
    tokens.write_text(f"# team tokens\n{TOKEN}\n{hash_line(OTHER_TOKEN)}\n", encoding="utf-8")
    proc, url = start_index_server(tmp / "srv", tokens, tmp / "server.log")
    try:
        yield url, tmp / "srv", tmp / "server.log"
    finally:
        stop(proc)
    chroma_log = (tmp / "srv" / "chroma.log").read_text(errors="replace")
    assert "Frontend server listening" in chroma_log  # the real Chroma 1.x server ran behind the proxy
    chroma_port = int(re.search(r"Chroma on 127\.0\.0\.1:(\d+)", (tmp / "server.log").read_text())[1])
    time.sleep(0.5)
    with pytest.raises(OSError):  # stopping serve-index stopped Chroma too
        socket.create_connection(("127.0.0.1", chroma_port), 1).close()


@pytest.fixture(scope="module")
def llm_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("fastapi")
    pytest.importorskip("sse_starlette")
    from app.llm.bundled import bundled_model_path

    proc, url = start_llm_server(bundled_model_path(), LLM_TOKEN, tmp_path_factory.mktemp("llm") / "llm.log")
    try:
        yield url
    finally:
        stop(proc)


def team_settings(index_url: str, llm_url: str = "") -> Settings:
    s = Settings()
    s.index_server_url = index_url
    s.index_sync_interval_s = 0  # tests look at the other client's changes at once
    s.llm_remote_url = llm_url
    s.llm_n_ctx = 2048
    s.llm_temperature = 0.0  # the same prompt gives the same answer on every client
    return s


@pytest.fixture(scope="module")
def clients(tmp_path_factory, memory_keyring, index_server, llm_url) -> Iterator[tuple[Service, Service, dict]]:  # type: ignore[no-untyped-def]
    from app.llm.remote import remote_secret_name

    url = index_server[0]
    set_secret(index_secret_name(url), TOKEN)
    set_secret(remote_secret_name(llm_url), LLM_TOKEN)
    tmp = tmp_path_factory.mktemp("clients")
    pdfs = {"acme": write_text_pdf(tmp / "acme.pdf", ACME, title="Acme 10-K 2022"),
            "msa": write_text_pdf(tmp / "msa.pdf", CONTRACT, title="Master Supply Agreement"),
            "harbor": write_text_pdf(tmp / "harbor.pdf", HARBOR, title="Harbor Freight Logistics 2023 Annual Report")}
    a = Service(tmp / "alice", team_settings(url, llm_url), embedder=FakeEmbedder())
    b = Service(tmp / "bob", team_settings(url, llm_url), embedder=FakeEmbedder())
    results: dict[str, object] = {}
    threads = [threading.Thread(target=lambda: results.__setitem__("a", a.ingest([pdfs["acme"], pdfs["harbor"]]))),
               threading.Thread(target=lambda: results.__setitem__("b", b.ingest([pdfs["msa"]])))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results["a"].ok and results["b"].ok, {k: v.to_dict() for k, v in results.items()}  # type: ignore[attr-defined]
    try:
        yield a, b, pdfs
    finally:
        a.close()
        b.close()


def _sha(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_both_clients_see_the_same_documents_pages_and_pdfs(clients) -> None:  # type: ignore[no-untyped-def]
    a, b, pdfs = clients
    da, db = {d.id: d for d in a.documents()}, {d.id: d for d in b.documents()}
    assert set(da) == set(db) and len(da) == 3
    assert {d.title for d in da.values()} >= {"Acme 10-K 2022", "Master Supply Agreement"}
    for doc_id in da:
        assert dataclasses.replace(da[doc_id], path="") == dataclasses.replace(db[doc_id], path="")  # every field
        assert a.page_texts(doc_id) == b.page_texts(doc_id)
        assert a.library.catalog.chunks(a.workspace, doc_id) == b.library.catalog.chunks(b.workspace, doc_id)
        # each client can open the PDF (the viewer draws highlights on it): same bytes everywhere
        assert _sha(da[doc_id].path) == _sha(db[doc_id].path) and _sha(db[doc_id].path).startswith(doc_id)
    acme = next(d for d in db.values() if d.title.startswith("Acme"))
    assert acme.path != str(pdfs["acme"]) and "team" in Path(acme.path).parts  # bob got alice's file
    assert a.info()["index_mode"] == "team" and a.info()["index_server_status"] == "ok"


def test_both_clients_get_the_same_search_results(clients) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = clients
    for query in ("capital expenditures 1,577", "terminate for convenience notice", "governing law Delaware"):
        ha, hb = a.search(query, k=4), b.search(query, k=4)
        assert ha and [h.to_dict() for h in ha] == [h.to_dict() for h in hb]
        assert set(ha[0].ranks) == {"lexical", "dense"}  # both halves of hybrid search ran
    top = b.search("capital expenditures 1,577", k=1)[0]
    assert top.doc_title == "Acme 10-K 2022" and top.page_start <= 2 <= top.page_end


def test_answer_with_citations_from_the_shared_model(clients) -> None:  # type: ignore[no-untyped-def]
    from app.analysis.qa import answer_question
    from app.llm.remote import RemoteLLM

    a, b, _ = clients
    assert isinstance(b.llm, RemoteLLM)  # bob asks the shared model about alice's document
    harbor = next(d for d in b.documents() if d.title.startswith("Harbor"))
    answers = [answer_question("What was the total revenue in 2023?", svc.retriever, svc.library.catalog,
                               svc.workspace, svc.llm, svc.library.embedder, doc_ids=[harbor.id], answer_tokens=48)
               for svc in (b, a)]
    answer = answers[0]
    assert answer.text and not answer.abstained and answer.citations
    top = answer.evidence[0]
    assert top.doc_id == harbor.id and "$3,275 million" in top.best_sentence
    span = top.best_sentence_spans[0]
    assert "3,275" in b.page_texts(harbor.id)[span.page].text[span.start:span.end]  # the highlight is right
    for c in answer.citations:
        page = b.page_texts(harbor.id)[c.page].text
        assert c.doc_id == harbor.id and c.spans and all(page[s.start:s.end].strip() for s in c.spans)
    assert answers[0].text == answers[1].text  # same shared model, same index: same answer ...
    assert [c.to_dict() for c in answers[0].citations] == [c.to_dict() for c in answers[1].citations]  # ... and cites


def test_risk_review_is_the_same_on_both_clients(clients) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = clients
    msa = next(d for d in a.documents() if d.title.startswith("Master"))
    ra, rb = a.review(msa.id), b.review(msa.id)
    present = {f.category_id for f in rb.findings if f.kind == "present"}
    assert present and present == {f.category_id for f in ra.findings if f.kind == "present"}
    for f in rb.findings:
        for s in f.spans:  # the highlighted text is the same on both clients
            assert b.page_texts(msa.id)[s.page].text[s.start:s.end] == a.page_texts(msa.id)[s.page].text[s.start:s.end]


def test_replace_and_remove_reach_the_other_client(clients, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = clients
    path = write_text_pdf(tmp_path / "memo.pdf", ["Board memo. The dividend is 40 cents per share."], title="Memo")
    old = a.ingest([path]).added[0]
    assert old.id in {d.id for d in b.documents()}
    write_text_pdf(path, ["Board memo. The dividend is 55 cents per share."], title="Memo")
    new = a.ingest([path]).added[0]
    ids_b = {d.id for d in b.documents()}
    assert new.id in ids_b and old.id not in ids_b  # the changed file replaced its old version everywhere
    assert b.search("dividend cents per share", k=3)[0].doc_id == new.id
    b.remove(new.id)  # bob removes alice's upload
    assert new.id not in {d.id for d in a.documents()}
    team = a.library.team
    assert team.committed().keys() == {d.id for d in a.documents()}
    assert a.library.vectors.embeddings_for_document(new.id) == {}  # nothing left on the server
    assert not team.server.fetch_file(new.id, tmp_path / "gone.pdf")


def test_document_without_text_is_shared_too(clients, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A scan whose pages have no text has no chunks (so no vectors, no upload marker); an
    OCR'd page keeps its word boxes on the way through the server."""
    from app.types import DocumentRecord, PageText

    a, b, _ = clients
    pdf = write_text_pdf(tmp_path / "scan.pdf", ["placeholder"], title="Scanned letter")
    doc_id = _sha(pdf)[:32]
    rec = DocumentRecord(id=doc_id, path=str(pdf), title="Scanned letter", page_count=2, doc_type="other",
                         status="indexed", workspace=a.workspace, textless_pages=[0, 1],
                         index_settings=a.library.index_identity)
    layout = '{"lines": [[0, 9, [72.0, 700.0, 140.0, 712.0]]]}'  # OCR boxes travel with the page
    a.library.catalog.commit_document(rec, [PageText(0, "", has_text=False),
                                            PageText(1, "Dividend.", has_text=True, ocr=True, layout=layout)], [])
    got = {d.id: d for d in b.documents()}[doc_id]
    assert dataclasses.replace(got, path="") == dataclasses.replace({d.id: d for d in a.documents()}[doc_id], path="")
    pages = b.page_texts(doc_id)
    assert got.textless_pages == [0, 1] and [p.has_text for p in pages] == [False, True]
    assert pages[1].ocr and pages[1].layout == layout  # highlights on OCR'd pages work for the other client
    b.remove(doc_id)


def _http(url: str, method: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    host, port = url.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request(method, path, headers=headers or {})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, json.loads(body or b"{}")


def test_wrong_or_missing_token_is_refused_clearly(index_server, memory_keyring, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, _, log = index_server
    collections = "/api/v2/tenants/default_tenant/databases/default_database/collections"
    assert _http(url, "GET", "/api/v2/heartbeat")[0] == 200  # health checks need no token
    status, body = _http(url, "GET", collections)
    assert status == 401 and "token is required" in body["message"]
    assert _http(url, "GET", collections, {"Authorization": "Bearer nope"})[0] == 401
    assert _http(url, "GET", "/dossier/v1/files/" + "0" * 32, {"X-Chroma-Token": "nope"})[0] == 401
    assert _http(url, "GET", collections, {"X-Chroma-Token": OTHER_TOKEN})[0] == 200  # the hashed line works

    svc = Service(tmp_path / "eve", team_settings(url), embedder=FakeEmbedder())
    try:
        set_secret(index_secret_name(url), "wrong-token-31337")
        with pytest.raises(IndexAuthError, match=r"refused the token \(HTTP 401\).*Settings → Team") as info:
            svc.documents()
        assert "wrong-token-31337" not in str(info.value)
        with pytest.raises(IndexAuthError, match="refused the token"):
            svc.search("capital expenditures")
        set_secret(index_secret_name(url), "")  # no token stored at all
        with pytest.raises(IndexAuthError, match="requires an access token and none is stored"):
            IndexServerClient(url).check()
    finally:
        svc.close()
        set_secret(index_secret_name(url), TOKEN)
    text = log.read_text(errors="replace")
    assert "refused" in text and "wrong-token-31337" not in text and TOKEN not in text  # never logged


def test_unreachable_server_says_what_to_do(memory_keyring, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from app.store.remote_index import IndexUnreachable
    from team_helpers import free_port

    url = f"http://127.0.0.1:{free_port()}"
    set_secret(index_secret_name(url), TOKEN)
    with Service(tmp_path / "offline", team_settings(url), embedder=FakeEmbedder()) as svc:
        with pytest.raises(IndexUnreachable, match="Cannot reach the index server.*serve-index"):
            svc.documents()


def test_switching_between_local_and_team_mode(clients, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, _, _ = clients
    local = write_text_pdf(tmp_path / "private.pdf", ["My private notes about Zephyr Corp."], title="Private notes")
    with Service(tmp_path / "carol", Settings(), embedder=FakeEmbedder()) as svc:
        svc.ingest([local])
        assert [d.title for d in svc.documents()] == ["Private notes"]
        svc.set_index_server(a.settings.index_server_url)
        assert {d.title for d in svc.documents()} == {d.title for d in a.documents()}
        assert "Private notes" not in {d.title for d in a.documents()}  # local documents never leak
        svc.set_index_server("")
        assert [d.title for d in svc.documents()] == ["Private notes"]
        assert Settings.load(tmp_path / "carol").index_server_url == ""


def test_client_killed_mid_upload_leaves_nothing_half_visible(clients, index_server, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    a, b, _ = clients
    url = index_server[0]
    pages = ["\n".join(f"Clause {p}.{i} The quokka supplier delivers lot {p * 100 + i} within {i + 3} days."
                       for i in range(12)) for p in range(72)]
    pdf = write_text_pdf(tmp_path / "big.pdf", pages, title="Quokka Supply Contract")
    env = dict(os.environ, TEAM_TOKEN=TOKEN, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, str(REPO / "tests" / "team_helpers.py"), url, str(tmp_path / "dave"),
                             str(pdf)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    try:
        seen = []
        for line in proc.stdout:  # kill once the first batch of vectors is on the server
            seen.append(line)
            if line.startswith("EMBEDDED 32/"):
                break
            assert not line.startswith("DONE"), f"the upload finished before the kill: {seen}"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(30)
    doc_id = _sha(pdf)[:32]
    team = b.library.team
    identity = b.library.index_identity
    partial = team._chunk_count(doc_id, identity)
    assert partial >= 32  # the kill landed mid-upload ...
    assert team._marker_alive(doc_id, identity)
    for svc in (a, b):  # ... yet nobody sees any of it
        assert doc_id not in {d.id for d in svc.documents()}
        assert all(h.doc_id != doc_id for h in svc.search("quokka supplier delivers lot", k=8))
    assert doc_id not in team.committed()

    monkeypatch.setattr(team_index, "STALE_PENDING_S", 0.0)  # "much later": the marker is stale
    assert team.sweep_stale() == 1
    assert team._chunk_count(doc_id, identity) == 0 and not team._marker_alive(doc_id, identity)
    assert team._get_all(team.docs, "list markers", where={"state": "pending"})["ids"] == []  # finished ones too
    assert len(team.committed()) == len(a.documents())  # ... and no committed document was touched
    assert a.ingest([pdf]).ok  # another client adds the file properly
    complete = {d.id: d for d in b.documents()}[doc_id]
    assert partial < complete.chunk_count == team._chunk_count(doc_id, identity)
    assert b.search("quokka supplier delivers lot", k=1)[0].doc_id == doc_id


def test_team_login_from_the_command_line(index_server, memory_keyring, tmp_path: Path,  # type: ignore[no-untyped-def]
                                          monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import io

    from app.cli.main import main

    url = index_server[0]
    data = tmp_path / "frank"
    set_secret(index_secret_name(url), TOKEN)
    monkeypatch.setattr(sys, "stdin", io.StringIO("not-a-valid-token\n"))
    assert main(["--data-dir", str(data), "team-login", url, "--token-stdin"]) == 1
    assert "refused the token" in capsys.readouterr().err
    assert memory_keyring.store[("Dossier", index_secret_name(url))] == TOKEN  # the refused one was not stored
    monkeypatch.setattr(sys, "stdin", io.StringIO(OTHER_TOKEN + "\n"))
    assert main(["--data-dir", str(data), "team-login", url, "--token-stdin"]) == 0
    assert memory_keyring.store[("Dossier", index_secret_name(url))] == OTHER_TOKEN
    assert Settings.load(data).index_server_url == url
    assert OTHER_TOKEN not in (data / "settings.json").read_text()
    set_secret(index_secret_name(url), TOKEN)
