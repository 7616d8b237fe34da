"""The learned clause model on small generated contracts: features, training (CV bagging,
rules, thresholds), save/load, and detection through review_document; plus the fast cue
matcher against Python's own case-insensitive regex engine."""

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.errors import ModelError
from app.ingest.chunking import chunk_pages
from app.risks.cues import compile_cue, find
from app.risks.detect import review_document
from app.risks.lexical import Sparse, tfidf, units_of, with_neighbours
from app.risks.model import RiskModel
from app.risks.taxonomy import load_taxonomy
from app.risks.train import Config, make_doc, train
from app.settings import ChunkSettings
from app.types import PageText

FILLER = ["The Supplier shall deliver the Products to the Buyer's warehouse in good condition.",
          "Invoices are payable within thirty days of receipt by the Buyer.",
          "Each party shall keep the other party's confidential information secret.",
          "The parties shall meet quarterly to review the forecast for the Products.",
          "The Buyer may inspect the Products upon delivery and reject defective units.",
          "All notices shall be in writing and sent to the addresses set out above."]
CLAUSE = ["Licensee may not sublicense or transfer the license granted herein to any third party.",
          "The license granted in this Section is personal and non-transferable.",
          "This license is non-transferable and may not be assigned by the Licensee."]


def _doc(i: int, with_clause: bool) -> tuple[list[PageText], list, dict]:
    rng = np.random.default_rng(i)
    sents = [FILLER[k] for k in rng.permutation(len(FILLER))]
    gold: dict[str, list[str]] = {}
    if with_clause:
        clause = CLAUSE[i % len(CLAUSE)]
        sents.insert(int(rng.integers(1, len(sents))), clause)
        gold["Non-Transferable License"] = [clause]
    pages = [PageText(0, " ".join(sents[:4])), PageText(1, " ".join(sents[4:]))]
    chunks = chunk_pages(f"d{i}", pages, [], ChunkSettings(target_chars=250, max_chars=400, min_chars=80))
    return pages, chunks, gold


@pytest.fixture(scope="module")
def trained() -> RiskModel:
    tax = load_taxonomy()
    cats = [tax.get("non_transferable_license"), tax.get("governing_law")]
    docs = [make_doc(p, c, g, [x.name for x in cats], [list(x.cues) for x in cats])
            for p, c, g in (_doc(i, i % 2 == 0) for i in range(24))]
    assert sum(d.y[:, 0].sum() for d in docs) >= 12  # the gold clauses were located and labelled
    return train(docs, [x.id for x in cats], [list(x.cues) for x in cats], Config(inner=3, epochs=80))


def test_training_learns_the_clause(trained: RiskModel) -> None:
    assert 0.0 < trained.decision.tau[0] < 1.0 and len(trained.vocab) > 20
    tax = load_taxonomy()
    for i, expected in ((101, True), (102, False), (103, True), (104, False)):
        pages, chunks, gold = _doc(i, expected)
        rep = review_document(f"d{i}", "contract", pages, chunks, None, tax, model=trained)
        found = {f.category_id: f for f in rep.present()}
        assert ("non_transferable_license" in found) == expected, i
        if expected:
            f = found["non_transferable_license"]
            text = " ".join(pages[s.page].text[s.start:s.end] for s in f.spans)
            assert gold["Non-Transferable License"][0] in text and 0.0 < f.confidence <= 1.0


def test_save_load_roundtrip(trained: RiskModel, tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    trained.save(path)
    again = RiskModel.load(path)
    assert again is not None and np.allclose(again.decision.tau, trained.decision.tau) and again.vocab
    pages, chunks, _ = _doc(7, True)
    a, b = trained.score(chunks), again.score(chunks)
    assert np.allclose(a.logits, b.logits, atol=0.05)  # float16 weights on disk
    (tmp_path / "old.npz").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="damaged"):
        RiskModel.load(tmp_path / "old.npz")
    np.savez(tmp_path / "v1.npz", meta=np.array('{"category_ids": []}'))
    assert RiskModel.load(tmp_path / "v1.npz") is None  # an older format: cues only, no crash


def test_sparse_tfidf_and_neighbours() -> None:
    vocab = {"a": 0, "b": 1, "a b": 2}
    x = tfidf([["a", "b", "a b", "zzz"], [], ["b", "b"]], vocab, np.ones(3, np.float32))
    dense = np.zeros((3, 3), np.float32)
    for r in range(3):
        dense[r, x.indices[x.indptr[r]:x.indptr[r + 1]]] = x.data[x.indptr[r]:x.indptr[r + 1]]
    assert np.allclose(np.linalg.norm(dense, axis=1), [1, 0, 1])
    w = np.arange(6, dtype=np.float32).reshape(3, 2)
    assert np.allclose(x.dot(w), dense @ w)
    assert Sparse(np.zeros(3, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)).dot(w).shape == (2, 2)
    s = np.array([[1.0], [2.0], [4.0]], np.float32)
    assert np.allclose(with_neighbours(s, 0.5)[:, 0], [2.0, 4.5, 5.0])
    assert np.allclose(with_neighbours(s, 0.5, bounds=[2])[:, 0], [2.0, 2.5, 4.0])


def test_units_cover_text_after_abbreviations() -> None:
    pages = [PageText(0, "Exhibit 10.26 AGENCY AGREEMENT dated November 9, 2005 between G.E. Capital Corp. and "
                         "Duckwall-Alco Stores, Inc. The parties agree as follows.")]
    chunks = chunk_pages("x", pages, [], ChunkSettings())
    units = units_of(chunks)
    first = chunks[units[0].chunk].text[units[0].start:units[0].end]
    assert first.startswith("Exhibit 10.26 AGENCY AGREEMENT") and "Inc." in first


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcNOTxyz -.,;'()0123456789İ\u00df", max_size=60),
       st.sampled_from([r"\bnot\b", r"\bno(?:t|n)-?\w*", r"\b\d+\s*(?:x|y)", r"\bab?c\b.{0,5}\bx", r"(?:x|y)z\b", r"\bN[OT]"]))
def test_fast_cue_matching_equals_ignorecase_regex(text: str, pattern: str) -> None:
    assert list(find(pattern, text)) == [m.span() for m in compile_cue(pattern).finditer(text)]
    assert compile_cue(pattern).flags & re.IGNORECASE
