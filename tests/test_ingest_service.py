"""Ingestion through the Service facade: incremental, atomic, and every bad input fails alone.

These tests use real PDFs (written by the tests), the real SQLite catalog and real Chroma on
disk; only the embedder is the deterministic fake (the real one has its own tests).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from app.errors import StoreError
from app.samples.pdf_writer import write_image_only_pdf, write_text_pdf
from app.service import Service
from app.settings import Settings
from app.types import CancelToken, Progress


def filing_pages(company: str, capex: str) -> list[str]:
    return [
        f"{company} Inc.\nAnnual Report on Form 10-K\nPART I\nItem 1. Business\n{company} designs aircraft parts and sells them worldwide.",
        "Item 1A. Risk Factors\nOur business depends on a small number of airline customers. Supply chain disruption could hurt margins.",
        f"Item 7. Management's Discussion and Analysis\nLiquidity and Capital Resources\nCapital expenditures were ${capex} million in 2022, up from $1,248 million in 2021.",
    ]


@pytest.fixture
def service(tmp_path: Path):
    from app.embed.fake import FakeEmbedder

    svc = Service(tmp_path / "data", Settings(), embedder=FakeEmbedder())
    yield svc
    svc.close()


def vector_count(svc: Service) -> int:
    return svc.library.vectors.count()


def test_ingest_search_and_incremental(service: Service, tmp_path: Path) -> None:
    a = write_text_pdf(tmp_path / "acme.pdf", filing_pages("Acme", "1,577"), title="Acme 10-K 2022")
    b = write_text_pdf(tmp_path / "bolt.pdf", filing_pages("Bolt", "2,310"), title="Bolt 10-K 2022")
    events: list[Progress] = []
    summary = service.ingest([tmp_path], on_progress=events.append)
    assert len(summary.added) == 2 and not summary.failed
    assert {e.stage for e in events} >= {"document", "embed"}
    docs = {d.title: d for d in service.documents()}
    assert docs["Acme 10-K 2022"].page_count == 3 and docs["Acme 10-K 2022"].doc_type == "annual_report"
    assert vector_count(service) == sum(d.chunk_count for d in docs.values())

    hits = service.search("capital expenditures 1,577", doc_ids=[docs["Acme 10-K 2022"].id[:10]], k=3)
    assert hits and hits[0].doc_id == docs["Acme 10-K 2022"].id
    assert hits[0].page_start <= 2 <= hits[0].page_end
    page = service.page_texts(hits[0].doc_id)[2].text
    assert "1,577" in page

    again = service.ingest([a, b])
    assert not again.added and len(again.unchanged) == 2


def test_changed_file_replaces_old_version(service: Service, tmp_path: Path) -> None:
    path = write_text_pdf(tmp_path / "acme.pdf", filing_pages("Acme", "1,577"))
    old = service.ingest([path]).added[0]
    write_text_pdf(path, filing_pages("Acme", "9,999"))
    new = service.ingest([path]).added[0]
    assert new.id != old.id
    assert [d.id for d in service.documents()] == [new.id]
    assert vector_count(service) == new.chunk_count
    assert service.search("9,999")[0].doc_id == new.id


def test_bad_inputs_fail_alone_with_clear_messages(service: Service, tmp_path: Path) -> None:
    import pypdf

    folder = tmp_path / "inbox"
    folder.mkdir()
    write_text_pdf(folder / "good.pdf", filing_pages("Good", "100"))
    full = write_text_pdf(tmp_path / "full.pdf", filing_pages("Cut", "5"))
    (folder / "truncated.pdf").write_bytes(full.read_bytes()[: len(full.read_bytes()) // 3])
    (folder / "random.pdf").write_bytes(os.urandom(4096))
    (folder / "empty.pdf").write_bytes(b"")
    (folder / "notes.txt").write_text("not a pdf")
    zero = pypdf.PdfWriter()
    with open(folder / "zero-pages.pdf", "wb") as fh:
        zero.write(fh)
    locked = pypdf.PdfWriter(clone_from=str(full))
    locked.encrypt(user_password="s3cret", owner_password="owner")
    with open(folder / "locked.pdf", "wb") as fh:
        locked.write(fh)
    write_image_only_pdf(folder / "scanned.pdf", n_pages=2)
    (tmp_path / "no-pdfs").mkdir()

    summary = service.ingest([folder, tmp_path / "no-pdfs", tmp_path / "missing.pdf"])
    failed = {Path(f.path).name: f for f in summary.failed}
    added = {Path(d.path).name for d in summary.added}
    assert added == {"good.pdf", "scanned.pdf"}
    assert set(failed) == {"truncated.pdf", "random.pdf", "empty.pdf", "zero-pages.pdf", "locked.pdf", "no-pdfs", "missing.pdf"}
    assert failed["locked.pdf"].status == "needs_password" and "password" in failed["locked.pdf"].message.lower()
    assert "No PDF files" in failed["no-pdfs"].message
    for f in summary.failed:
        assert len(f.message) > 20, f  # a sentence, not an error code
    scanned = next(d for d in summary.added if d.path.endswith("scanned.pdf"))
    assert scanned.textless_pages == [0, 1] and scanned.chunk_count == 0
    statuses = {Path(d.path).name: d.status for d in service.documents()}
    assert statuses["locked.pdf"] == "needs_password" and statuses["random.pdf"] == "failed"

    # the password is passed once and the document then indexes normally
    retry = service.ingest([folder / "locked.pdf"], password="s3cret")
    assert len(retry.added) == 1
    assert {Path(d.path).name: d.status for d in service.documents()}["locked.pdf"] == "indexed"
    assert not any("s3cret" in p.read_text(errors="ignore") for p in service.data_dir.rglob("*.json"))


def test_file_that_disappears_mid_ingest(service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """b.pdf is listed and hashed, then deleted before it is read: it fails alone, with a message."""
    from app.ingest.pipeline import Ingestor

    first = write_text_pdf(tmp_path / "a.pdf", filing_pages("A", "1"))
    second = write_text_pdf(tmp_path / "b.pdf", filing_pages("B", "2"))
    real_parse = Ingestor._parse

    def parse_after_vanish(self, path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if path.name == "b.pdf":
            second.unlink()
        return real_parse(self, path, *args, **kwargs)

    monkeypatch.setattr(Ingestor, "_parse", parse_after_vanish)
    summary = service.ingest([first, second])
    assert [Path(d.path).name for d in summary.added] == ["a.pdf"]
    assert len(summary.failed) == 1 and "b.pdf" in summary.failed[0].message
    assert not second.exists()


def test_cancel_leaves_no_half_indexed_document(service: Service, tmp_path: Path) -> None:
    long_doc = write_text_pdf(tmp_path / "long.pdf", [f"Section {i}. Clause text number {i}. " * 40 for i in range(30)])
    cancel = CancelToken()

    def stop_midway(ev: Progress) -> None:
        if ev.stage == "embed" and ev.done >= 32:
            cancel.cancel()

    summary = service.ingest([long_doc], on_progress=stop_midway, cancel=cancel)
    assert summary.cancelled and not summary.added
    assert service.documents() == []
    assert vector_count(service) == 0


@contextmanager
def read_only_copy(src: Path, dest: Path) -> Iterator[Path]:
    """``src`` copied to ``dest`` and made truly read-only (root ignores chmod: use a ro mount)."""
    shutil.copytree(src, dest)
    if os.geteuid() != 0:
        for p in [dest, *dest.rglob("*")]:
            p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        try:
            yield dest
        finally:
            for p in [dest, *dest.rglob("*")]:
                p.chmod(p.stat().st_mode | stat.S_IWUSR)
        return
    staging = dest.with_name(dest.name + "-staging")
    dest.rename(staging)
    dest.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(dest)], capture_output=True).returncode != 0:
        pytest.skip("running as root without permission to mount a read-only folder")
    try:
        shutil.copytree(staging, dest, dirs_exist_ok=True)
        subprocess.run(["mount", "-o", "remount,ro", str(dest)], check=True)
        yield dest
    finally:
        subprocess.run(["umount", "-l", str(dest)], check=False)


def test_read_only_store_folder_gives_clear_error(tmp_path: Path) -> None:
    from app.embed.fake import FakeEmbedder

    data = tmp_path / "rw"
    with Service(data, Settings(), embedder=FakeEmbedder()) as svc:
        svc.ingest([write_text_pdf(tmp_path / "a.pdf", filing_pages("A", "1"))])
    with read_only_copy(data, tmp_path / "ro") as ro:
        with pytest.raises(StoreError) as err:
            with Service(ro, Settings(), embedder=FakeEmbedder()) as svc:
                svc.ingest([write_text_pdf(tmp_path / "b.pdf", filing_pages("B", "2"))])
        message = str(err.value)
        assert str(ro) in message and "writable" in message
    with Service(data, Settings(), embedder=FakeEmbedder()) as svc:  # the original is untouched
        assert [d.title for d in svc.documents()] == ["A Inc."]


def test_second_instance_is_read_only(tmp_path: Path) -> None:
    from app.embed.fake import FakeEmbedder

    data = tmp_path / "shared"
    with Service(data, Settings(), embedder=FakeEmbedder()) as first:
        first.ingest([write_text_pdf(tmp_path / "a.pdf", filing_pages("A", "1"))])
        result: list[object] = []

        def open_second() -> None:  # flock is per open file: a second handle conflicts
            with Service(data, Settings(), embedder=FakeEmbedder()) as second:
                result.append(second.read_only)
                result.append(len(second.documents()))
                try:
                    second.ingest([tmp_path / "a.pdf"])
                except StoreError as err:
                    result.append(str(err))

        t = threading.Thread(target=open_second)
        t.start()
        t.join()
    assert result[0] is True and result[1] == 1
    assert "another Dossier" in str(result[2])


def test_second_instance_cli_reads_but_refuses_writes(tmp_path: Path) -> None:
    """A ``dossier`` command while the app holds the data folder: reading works, a write is
    refused with a message that says what to do (the GUI's is in tests/test_gui_window.py)."""
    import sys

    data = tmp_path / "shared"
    env = {**os.environ, "DOSSIER_DATA_DIR": str(data), "DOSSIER_EMBEDDER": "fake"}

    def dossier(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app.cli.main", *args], capture_output=True, text=True, env=env,
                              cwd=Path(__file__).resolve().parents[1], timeout=120)

    with Service(data, Settings(embedder="fake")) as first:
        first.ingest([write_text_pdf(tmp_path / "a.pdf", filing_pages("A", "1"))])
        listed = dossier("list")
        added = dossier("ingest", str(write_text_pdf(tmp_path / "b.pdf", filing_pages("B", "2"))))
        assert [d.title for d in first.documents()] == ["A Inc."]
    assert listed.returncode == 0 and "A Inc." in listed.stdout, listed.stderr
    assert added.returncode == 1
    assert "another Dossier window or command is using the data folder" in added.stderr and "Close it" in added.stderr
    assert dossier("ingest", str(tmp_path / "b.pdf")).returncode == 0  # once the first has closed


def test_embedding_order_and_grouped_vector_writes(tmp_path: Path) -> None:
    """Chunks are embedded in the embedder's own batch order and their vectors written in
    groups of STORE_BATCH; a cancel after a group was written removes it again."""
    from app.embed.fake import FakeEmbedder
    from app.ingest.pipeline import EMBED_BATCH, STORE_BATCH

    class Ordered(FakeEmbedder):
        def __init__(self) -> None:
            super().__init__()
            self.calls: list[list[str]] = []

        def batch_order(self, texts: list[str]) -> list[int]:
            return sorted(range(len(texts)), key=lambda i: texts[i])  # alphabetical: not by length

        def embed(self, texts, on_progress=None, cancel=None):  # type: ignore[no-untyped-def]
            self.calls.append(list(texts))
            return super().embed(texts, on_progress, cancel)

    pages = [" ".join(f"Clause {p}.{i}: the supplier shall deliver {i * p} units." for i in range(60)) for p in range(200)]
    pdf = write_text_pdf(tmp_path / "long.pdf", pages)
    emb = Ordered()
    with Service(tmp_path / "data", Settings(), embedder=emb) as svc:
        writes: list[int] = []
        add = svc.library.vectors.add
        svc.library.vectors.add = lambda chunks, vectors: (writes.append(len(chunks)), add(chunks, vectors))[1]  # type: ignore[method-assign]
        summary = svc.ingest([pdf])
        n = summary.added[0].chunk_count
        assert n > STORE_BATCH and sum(writes) == n == vector_count(svc)
        assert all(w >= STORE_BATCH for w in writes[:-1]) and len(writes) <= -(-n // STORE_BATCH)
        embedded = [t for call in emb.calls for t in call]
        assert embedded == sorted(embedded) and all(len(c) <= EMBED_BATCH for c in emb.calls)

    cancel = CancelToken()
    with Service(tmp_path / "data2", Settings(), embedder=Ordered()) as svc:
        def stop_after_first_write(ev: Progress) -> None:
            if ev.stage == "embed" and ev.done >= STORE_BATCH + EMBED_BATCH:
                cancel.cancel()

        summary = svc.ingest([pdf], on_progress=stop_after_first_write, cancel=cancel)
        assert summary.cancelled and svc.documents() == [] and vector_count(svc) == 0


def test_a_slow_parse_does_not_hold_up_the_files_behind_it(service: Service, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """slow.pdf's parse (standing in for OCR of scanned pages) only finishes once fast.pdf,
    listed after it, is indexed: the ingest indexes fast.pdf first instead of waiting."""
    import app.ingest.pipeline as pipeline

    slow = write_text_pdf(tmp_path / "slow.pdf", filing_pages("Slow", "1"))
    fast = write_text_pdf(tmp_path / "fast.pdf", filing_pages("Fast", "2"))
    fast_indexed = threading.Event()
    real_parse = pipeline.Ingestor._parse

    def parse(self, path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if path.name == "slow.pdf":
            fast_indexed.wait(timeout=30)
        return real_parse(self, path, *args, **kwargs)

    def on_progress(ev: Progress) -> None:
        if ev.stage == "embed" and ev.document == str(fast.resolve()) and ev.done == ev.total:
            fast_indexed.set()

    monkeypatch.setattr(pipeline.Ingestor, "_parse", parse)
    monkeypatch.setattr(pipeline, "IN_ORDER_WAIT_S", 0.05)
    summary = service.ingest([slow, fast], on_progress=on_progress)
    assert fast_indexed.is_set()
    assert [Path(d.path).name for d in summary.added] == ["fast.pdf", "slow.pdf"]
    assert {d.status for d in service.documents()} == {"indexed"}


def test_files_are_indexed_in_the_order_given_when_none_is_slow(service: Service, tmp_path: Path) -> None:
    names = ["c.pdf", "a.pdf", "d.pdf", "b.pdf"]
    files = [write_text_pdf(tmp_path / n, filing_pages(n[0].upper() + "corp", str(i))) for i, n in enumerate(names)]
    summary = service.ingest(files)
    assert [Path(d.path).name for d in summary.added] == names


@pytest.mark.parametrize("embedder", ["fake", "minilm"])
def test_identical_chunks_are_embedded_once_per_run(tmp_path: Path, embedder: str) -> None:
    """Two filings sharing pages (a template, boilerplate): the shared chunks' vectors are
    computed once and stored for both documents; search finds each document's copy. With the
    fake embedder and with the real MiniLM model."""
    from app.embed.base import load_embedder

    class Counting:  # the embedder under test, recording what it is asked to embed
        def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
            self.inner, self.texts = inner, []
            self.identity, self.dim = inner.identity, inner.dim

        def embed(self, texts, on_progress=None, cancel=None):  # type: ignore[no-untyped-def]
            self.texts += texts
            return self.inner.embed(texts, on_progress, cancel)

        def embed_query(self, text):  # type: ignore[no-untyped-def]
            return self.inner.embed_query(text)

    shared = [f"Section {n}. Boilerplate\nThe parties agree to clause {n} as set out in the master terms. " * 3
              for n in range(1, 9)]
    a = write_text_pdf(tmp_path / "a.pdf", ["Alpha Supply Agreement"] + shared)
    b = write_text_pdf(tmp_path / "b.pdf", ["Beta Supply Agreement"] + shared)
    counting = Counting(load_embedder(embedder, threads=1))
    with Service(tmp_path / "data", Settings(), embedder=counting) as svc:
        summary = svc.ingest([a, b])
        assert len(summary.added) == 2
        total = sum(d.chunk_count for d in summary.added)
        assert svc.library.vectors.count() == total  # every chunk of both has its vector
        assert len(counting.texts) == len(set(counting.texts))  # no text embedded twice
        assert len(counting.texts) < total - 4  # the shared pages were embedded once
        for doc in summary.added:
            hits = svc.search("clause 5 master terms", doc_ids=[doc.id], k=3)
            assert hits and all(h.doc_id == doc.id for h in hits)
        # both documents' copies of a shared chunk hold the vector the model gives its text
        text = next(t for t in counting.texts if "clause 5 " in t)
        nearest = svc.library.vectors.query(counting.inner.embed([text])[0], k=2)
        assert len({chunk_id for chunk_id, _ in nearest}) == 2
        assert all(distance < 2e-3 for _, distance in nearest), nearest


def test_vector_memo_forgets_its_oldest_entries_past_its_limit() -> None:
    from app.ingest.pipeline import _text_key, _VectorMemo

    memo = _VectorMemo(limit=2)
    keys = [_text_key(t) for t in ("one", "two", "three")]
    memo.update(keys, [1, 2, 3])
    assert keys[0] not in memo and memo[keys[1]] == 2 and memo[keys[2]] == 3
