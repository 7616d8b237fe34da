"""Embedders: the fake one (unit) and the real bundled all-MiniLM-L6-v2 (slow, offline)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.embed import EmbedderError, load_embedder
from app.embed.fake import FakeEmbedder
from app.errors import Cancelled
from app.types import CancelToken, Progress


def test_fake_is_deterministic_normalised_and_similar_for_similar_text() -> None:
    e = load_embedder("fake")
    assert isinstance(e, FakeEmbedder) and e.dim == 256 and e.identity
    v = e.embed(["capital expenditures rose", "capital expenditures fell", "employee headcount"])
    assert v.dtype == np.float32 and v.shape == (3, 256)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]
    assert np.array_equal(FakeEmbedder().embed_query("capital expenditures rose"), v[0])
    assert e.embed([]).shape == (0, 256)
    assert np.isfinite(e.embed([""])).all()


def test_fake_progress_and_cancel() -> None:
    e = FakeEmbedder(batch_size=2)
    events: list[Progress] = []
    e.embed(["a", "b", "c", "d", "e"], on_progress=events.append)
    assert [p.done for p in events] == [2, 4, 5] and events[-1].total == 5
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        e.embed(["a"], cancel=token)


def test_bad_spec_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmbedderError, match="embedder"):
        load_embedder(str(tmp_path / "missing-model"))


@pytest.fixture(scope="module")
def minilm():
    return load_embedder("minilm", threads=1)


@pytest.mark.slow
def test_minilm_semantics_dims_and_norms(minilm) -> None:
    assert minilm.dim == 384 and "all-MiniLM-L6-v2-mean-t256" in minilm.identity
    v = minilm.embed(["capital expenditures", "purchases of property and equipment", "employee headcount"])
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2]
    q = minilm.embed_query("capital expenditures")
    assert q.shape == (384,) and float(q @ v[0]) > 0.999


@pytest.mark.slow
def test_minilm_batching_order_and_truncation(minilm) -> None:
    """Length-sorted batching must not change results or their order; long text is truncated."""
    texts = ["short", "a much longer sentence about revenue recognition " * 3, "mid length text here",
             "word " * 2000, ""]
    events: list[Progress] = []
    together = minilm.embed(texts, on_progress=events.append)
    alone = np.stack([minilm.embed_query(t) for t in texts])
    assert np.allclose((together * alone).sum(1), 1.0, atol=2e-3)
    assert events[-1].done == events[-1].total == 5



def test_minilm_padding_to_a_width_step_keeps_the_vectors(minilm, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches are padded to a multiple of WIDTH_STEP tokens (bounded memory); the padding is
    masked, so the vectors equal those of batches padded only to their longest text."""
    import app.embed.minilm as module

    texts = ["net income", "capital expenditure in fiscal 2019 was $1.2 billion", "x " * 45]
    stepped = minilm.embed(texts)
    monkeypatch.setattr(module, "WIDTH_STEP", 1)
    exact = minilm.embed(texts)
    assert np.all((stepped * exact).sum(1) > 0.9999)

@pytest.mark.slow
def test_traced_batches_match_the_eager_model() -> None:
    """Batches run through the frozen trace; the vectors equal the eager model's, for batch
    shapes other than the one traced (padding included)."""
    from app.embed.minilm import TransformerEmbedder, bundled_model_dir

    texts = [f"Item {i}. The Company may terminate the agreement on {i} days notice." * (1 + i % 5) for i in range(40)]
    traced = TransformerEmbedder(bundled_model_dir(), threads=1, precision="bf16")
    eager = TransformerEmbedder(bundled_model_dir(), threads=1, precision="bf16", trace=False)
    a, b = traced.embed(texts), eager.embed(texts)
    assert traced._batch_model is not None and eager._batch_model is None
    assert float((a * b).sum(axis=1).min()) > 0.9999


@pytest.mark.slow
def test_tracing_prints_no_transformers_warnings(capfd: pytest.CaptureFixture[str]) -> None:
    """The tracer reads every model attribute; transformers' warning about an unset training
    loss must not reach the user's terminal on every ingest (nor its log level stay changed)."""
    from transformers.utils import logging as hf_logging

    from app.embed.minilm import TransformerEmbedder, bundled_model_dir

    hf_logging.warning_once.cache_clear()  # logged once per process: make this run count
    before = hf_logging.get_verbosity()
    e = TransformerEmbedder(bundled_model_dir(), threads=1, precision="fp32")
    e.embed(["net income", "operating cash flow", "headcount"])  # > 2 texts: a batch, traced
    assert e._batch_model is not None
    assert "loss_type" not in capfd.readouterr().err
    assert hf_logging.get_verbosity() == before


def test_a_model_that_does_not_trace_runs_eager(monkeypatch: pytest.MonkeyPatch) -> None:
    """A model folder whose model cannot be traced (or traces wrongly) still embeds, eagerly."""
    import torch

    from app.embed.minilm import TransformerEmbedder, bundled_model_dir

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("cannot trace this model")

    monkeypatch.setattr(torch.jit, "trace", broken)
    e = TransformerEmbedder(bundled_model_dir(), threads=1, precision="fp32")
    v = e.embed(["net income", "operating cash flow", "headcount"])
    assert e._batch_model is None and v.shape == (3, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)


def test_a_trace_that_disagrees_with_the_model_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    import app.embed.minilm as module

    monkeypatch.setattr(module, "TRACE_AGREEMENT", 1.01)  # no trace can reach this
    e = module.TransformerEmbedder(module.bundled_model_dir(), threads=1, precision="fp32")
    assert e.embed(["net income", "operating cash flow", "headcount"]).shape == (3, 384)
    assert e._batch_model is None


def test_batch_order_is_by_tokens_and_embed_reuses_them(minilm) -> None:
    """A table row of numbers has fewer characters but more tokens than a sentence: batches
    are grouped by tokens (what padding costs). Embedding right after reuses the token ids."""
    from app.embed.base import batch_order

    prose = "The Company may terminate the agreement on thirty days notice."
    numbers = "2,615 3,104 (1,577) 4.2% 8,015 12,117 (96) 0.9%"
    assert len(numbers) < len(prose)
    texts = [prose, numbers, "net income"]
    assert batch_order(minilm, texts) == [1, 0, 2]
    assert batch_order(FakeEmbedder(), texts) == [0, 1, 2]  # no model: by characters
    assert set(minilm._recent_ids) == set(texts)
    after = minilm.embed(texts)
    minilm._recent_ids = {}
    fresh = minilm.embed(texts)
    assert np.allclose(after, fresh, atol=1e-6)


def test_batch_order_of_a_huge_document_keeps_no_token_ids(minilm, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past KEEP_IDS texts the ids are not kept (bounded memory); the order is still by tokens."""
    import app.embed.minilm as module

    monkeypatch.setattr(module, "KEEP_IDS", 2)
    texts = ["net income", "2,615 3,104 (1,577) 4.2% 8,015", "The Company may terminate on notice.", "x"]
    order = minilm.batch_order(texts)
    assert order[0] == 1 and order[-1] == 3 and sorted(order) == [0, 1, 2, 3]
    assert minilm._recent_ids == {}
    assert minilm.embed(texts).shape == (4, 384)


@pytest.mark.slow
def test_minilm_matches_fp32_reference() -> None:
    """The default precision agrees with fp32 (the sentence-transformers reference semantics)."""
    texts = ["Net cash provided by operating activities was $2,615 million in 2022.",
             "Either party may terminate this Agreement upon thirty days written notice."]
    fast = load_embedder("minilm", threads=1).embed(texts)
    ref = load_embedder("minilm-fp32", threads=1).embed(texts)
    assert ((fast * ref).sum(1) > 0.99).all()


@pytest.mark.slow
def test_minilm_cancel(minilm) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        minilm.embed(["text"], cancel=token)


@pytest.mark.slow
def test_model_folder_spec() -> None:
    from app.embed.minilm import bundled_model_dir

    e = load_embedder(str(bundled_model_dir()), threads=1)
    assert e.dim == 384 and e.identity.endswith("fp32")
    assert e.embed(["hello"]).shape == (1, 384)


def test_thread_chooser_keeps_the_faster_count_and_probes_again() -> None:
    """On a busy machine one thread can beat two; the chooser measures instead of assuming."""
    from app.embed.threads import PROBE_BATCHES, REPROBE_EVERY, ThreadChooser

    speed = {1: 1000.0, 2: 400.0}  # tokens/s: the second core is busy elsewhere
    chooser = ThreadChooser([1, 2])
    used = []
    for _ in range(2 * PROBE_BATCHES + 5):
        t = chooser.next()
        used.append(t)
        chooser.record(t, 1000, 1000 / speed[t])
    assert set(used[: 2 * PROBE_BATCHES]) == {1, 2} and used[-5:] == [1] * 5
    speed = {1: 1000.0, 2: 1800.0}  # the machine went quiet
    for _ in range(REPROBE_EVERY + 2 * PROBE_BATCHES + 3):
        t = chooser.next()
        chooser.record(t, 1000, 1000 / speed[t])
    assert chooser.next() == 2
    assert ThreadChooser([4]).next() == 4  # an explicit setting is never second-guessed


def test_thread_chooser_probes_less_while_the_winner_is_clear_and_at_once_on_a_slowdown() -> None:
    from app.embed.threads import MAX_REPROBE_EVERY, REPROBE_EVERY, ThreadChooser

    speed = {1: 1000.0, 2: 2000.0}
    chooser = ThreadChooser([1, 2])
    probes_at: list[int] = []
    for n in range(2000):
        t = chooser.next()
        if t == 1:
            probes_at.append(n)
        chooser.record(t, 1000, 1000 / speed[t])
    gaps = [b - a for a, b in zip(probes_at[::2], probes_at[2::2])]
    assert gaps[0] <= 2 * REPROBE_EVERY + 4 < MAX_REPROBE_EVERY <= max(gaps)  # rounds spread out
    assert chooser.interval == MAX_REPROBE_EVERY

    speed[2] = 700.0  # the machine got busy: two slow batches start a probe round at once
    used = []
    for _ in range(8):
        t = chooser.next()
        used.append(t)
        chooser.record(t, 1000, 1000 / speed[t])
    assert 1 in used[:6] and chooser.best == 1 and chooser.interval == REPROBE_EVERY


def test_automatic_threads_embed_the_same_vectors() -> None:
    from app.embed.minilm import TransformerEmbedder, bundled_model_dir

    texts = [f"Revenue grew {i}% in fiscal {2000 + i} because of strong demand." for i in range(70)]
    auto = TransformerEmbedder(bundled_model_dir(), threads=0, precision="fp32")
    fixed = TransformerEmbedder(bundled_model_dir(), threads=1, precision="fp32")
    auto.batch_size = fixed.batch_size = 8
    a, b = auto.embed(texts), fixed.embed(texts)
    assert len({t for t in auto.chooser._rates}) == len(auto.chooser.candidates)  # both counts were tried
    assert float((a * b).sum(axis=1).min()) > 0.9999
