"""The embedder and Chroma in a helper process (app.store.index_process), for real: a spawned
child, a Chroma store on disk, a killed child recovered from."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.embed.fake import FakeEmbedder
from app.errors import StoreError
from app.store import index_process
from app.store.vectors import VectorIndex, collection_name
from app.types import Chunk

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]


def _chunks(n: int = 12) -> list[Chunk]:
    return [Chunk(f"doc{i % 3}", i, f"clause {i} about fees and term {i * 7}", "S", i, i, 0, 9) for i in range(n)]


@pytest.fixture
def chroma(tmp_path: Path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "chroma"
    index_process.enable_for(folder)
    yield folder
    index_process.disable_for(folder)


def test_vectors_and_embedder_served_by_the_child(chroma: Path) -> None:
    vi = VectorIndex(chroma, collection_name("default", "t"))
    assert isinstance(vi, index_process.ProcessVectorIndex)
    pid = index_process.helper().pid
    assert pid and pid != os.getpid()
    emb = index_process.ProcessEmbedder("fake")
    assert (emb.identity, emb.dim) == (FakeEmbedder.identity, FakeEmbedder.dim)
    chunks = _chunks()
    vectors = emb.embed([c.text for c in chunks])
    assert np.allclose(vectors, FakeEmbedder().embed([c.text for c in chunks]))
    vi.add(chunks, vectors)
    assert vi.count() == 12 and vi.doc_ids() == {"doc0", "doc1", "doc2"}
    hits = vi.query(emb.embed_query(chunks[4].text), 3, ["doc1"])
    assert hits[0][0] == "doc1:4" and all(cid.startswith("doc1:") for cid, _ in hits)
    texts = ["mid length", "a much longer text than the others", "x"]
    assert emb.batch_order(texts) == [1, 0, 2]  # the child's embedder has none: by length
    assert set(vi.embeddings_for_document("doc2")) == {c.id for c in chunks if c.doc_id == "doc2"}
    vi.delete_document("doc2")
    assert vi.sweep_orphans({"doc0"}) == 1 and vi.doc_ids() == {"doc0"}
    with pytest.raises(StoreError, match="index helper failed"):  # a bad call fails alone, in plain words
        vi.add(chunks[:2], vectors[:1])
    assert vi.count() == 4  # the child carries on
    vi.close()


def test_child_killed_during_a_call_fails_that_call_then_recovers(chroma: Path) -> None:
    name = collection_name("default", "t")
    vi = VectorIndex(chroma, name)
    chunks = _chunks(6)
    vi.add(chunks, FakeEmbedder().embed([c.text for c in chunks]))
    helper = index_process.helper()

    class KillingConn:  # the child dies while the call is under way
        def __init__(self, conn) -> None:  # type: ignore[no-untyped-def]
            self.conn = conn

        def send(self, msg) -> None:  # type: ignore[no-untyped-def]
            os.kill(helper.pid, signal.SIGKILL)  # after the liveness check, before the request
            helper._proc.join(5)
            self.conn.send(msg)

        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return getattr(self.conn, name)

    helper._conn = KillingConn(helper._conn)
    with pytest.raises(StoreError, match="stopped unexpectedly"):
        vi.count()
    assert vi.count() == 6  # a fresh child reopens the store from disk


def test_child_found_dead_before_a_call_is_replaced_silently(chroma: Path) -> None:
    vi = VectorIndex(chroma, collection_name("default", "t"))
    chunks = _chunks(6)
    vi.add(chunks, FakeEmbedder().embed([c.text for c in chunks]))
    dead = index_process.helper()._proc
    os.kill(dead.pid, signal.SIGKILL)
    dead.join(5)
    assert vi.count() == 6 and index_process.helper().pid != dead.pid


def test_unregistered_folder_stays_in_process(tmp_path: Path) -> None:
    vi = VectorIndex(tmp_path / "plain", collection_name("default", "t"))
    assert type(vi) is VectorIndex
    vi.close()


def test_parent_never_imports_chromadb_or_torch(tmp_path: Path) -> None:
    code = (
        "import sys, json\n"
        "from app.store import index_process\n"
        "from app.store.vectors import VectorIndex\n"
        f"index_process.enable_for({str(tmp_path / 'c')!r})\n"
        f"vi = VectorIndex({str(tmp_path / 'c')!r}, 'default-abc')\n"
        "e = index_process.ProcessEmbedder('fake')\n"
        "from app.types import Chunk\n"
        "vi.add([Chunk('d', 0, 'x', '', 0, 0, 0, 1)], e.embed(['x']))\n"
        "print(json.dumps({'n': vi.count(), 'heavy': [m for m in ('chromadb', 'torch') if m in sys.modules]}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"n": 1, "heavy": []}
