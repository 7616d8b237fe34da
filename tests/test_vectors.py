"""Chroma vector index on disk (real chromadb, tmp_path)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.store.vectors import VectorIndex, collection_name
from app.types import Chunk

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def sample(n: int = 30, dim: int = 16, docs: int = 3) -> tuple[list[Chunk], np.ndarray]:
    rng = np.random.default_rng(7)
    chunks = [Chunk(f"doc{i % docs}", i, f"text {i}", f"Item {i % 4}", i // 2, i // 2 + 1, 0, 9) for i in range(n)]
    return chunks, unit(rng.normal(size=(n, dim)))


@pytest.mark.parametrize("ws,ident", [("default", "all-MiniLM-L6-v2-mean-t256-bf16|c900"), ("a", "x"),
                                      ("Ünïcode workspace!! with a very long name " * 3, "y"), ("..", "")])
def test_collection_name_rules(ws: str, ident: str) -> None:
    import re

    name = collection_name(ws, ident)
    assert 3 <= len(name) <= 63 and re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9]", name)
    assert name == collection_name(ws, ident) and name != collection_name(ws, ident + "!")


def test_add_query_scope_delete_sweep(tmp_path: Path) -> None:
    chunks, emb = sample()
    vi = VectorIndex(tmp_path / "vectors", collection_name("default", "test"))
    vi.add(chunks, emb)
    assert vi.count() == 30 and vi.doc_ids() == {"doc0", "doc1", "doc2"}
    hits = vi.query(emb[4], 3)
    assert hits[0][0] == "doc1:4" and hits[0][1] == pytest.approx(0.0, abs=1e-5)
    assert [d for _, d in hits] == sorted(d for _, d in hits)
    assert all(cid.startswith("doc0:") for cid, _ in vi.query(emb[4], 5, ["doc0"]))
    two = vi.query(emb[4], 20, ["doc0", "doc2"])
    assert len(two) == 20 and {c.split(":")[0] for c, _ in two} == {"doc0", "doc2"}
    assert vi.query(emb[4], 5, []) == []
    stored = vi.embeddings_for_document("doc1")
    assert set(stored) == {c.id for c in chunks if c.doc_id == "doc1"}
    assert np.allclose(stored["doc1:4"], emb[4], atol=1e-6)
    vi.delete_document("doc1")
    assert vi.doc_ids() == {"doc0", "doc2"} and vi.embeddings_for_document("doc1") == {}
    assert vi.sweep_orphans({"doc0"}) == 1
    assert vi.doc_ids() == {"doc0"} and vi.count() == 10
    vi.add(chunks[:3], emb[:3])  # upsert: re-adding is not an error
    assert vi.count() == 12
    vi.close()


def test_large_add_is_batched(tmp_path: Path) -> None:
    chunks, emb = sample(n=130, dim=8, docs=2)
    vi = VectorIndex(tmp_path / "v", "batched")
    vi._max_batch = 50  # force several batches
    vi.add(chunks, emb)
    assert vi.count() == 130


def test_mismatched_lengths(tmp_path: Path) -> None:
    chunks, emb = sample(n=4)
    vi = VectorIndex(tmp_path / "v", "mismatch")
    with pytest.raises(ValueError):
        vi.add(chunks, emb[:3])


def test_reopen_in_a_new_process(tmp_path: Path) -> None:
    """Written here, read back by a fresh interpreter: the data really is on disk."""
    chunks, emb = sample()
    name = collection_name("default", "persist")
    vi = VectorIndex(tmp_path / "vectors", name)
    vi.add(chunks, emb)
    vi.close()
    np.save(tmp_path / "q.npy", emb[7])
    code = ("import sys, numpy as np; from pathlib import Path; from app.store.vectors import VectorIndex; "
            f"vi = VectorIndex(Path(sys.argv[1]), {name!r}); q = np.load(sys.argv[2]); "
            "print(vi.count(), vi.query(q, 1)[0][0], sorted(vi.doc_ids()))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "vectors"), str(tmp_path / "q.npy")],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[:2] == ["30", "doc1:7"]
    # and reopening in this process after close works too
    vi2 = VectorIndex(tmp_path / "vectors", name)
    assert vi2.count() == 30 and vi2.query(emb[7], 1)[0][0] == "doc1:7"


def test_unusable_folder(tmp_path: Path) -> None:
    from app.errors import StoreError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError):
        VectorIndex(blocker / "vectors", "name-ok")
