"""Fitting sources into the model's context: tokenizer counts, drop order, sentence cuts, notes."""

from __future__ import annotations

from app.analysis.budget import ANSWER_TOKENS, TEMPLATE_MARGIN, fit_sources, renumber
from app.analysis.prompts import PromptSource, quote_source
from app.llm.fake import FakeLLM


class CountingLLM(FakeLLM):
    """FakeLLM that records every tokenizer call (to check that counting is batched)."""

    def __init__(self, n_ctx: int) -> None:
        super().__init__(n_ctx=n_ctx)
        self.count_calls: list[list[str]] = []

    def count_tokens(self, texts: list[str]) -> list[int]:
        self.count_calls.append(list(texts))
        return super().count_tokens(texts)


def _src(n: int, sentences: int) -> PromptSource:
    text = " ".join(f"Sentence {n}.{i} says revenue grew in year {2000 + i}." for i in range(sentences))
    return PromptSource(n, f"Doc {n}", n, text)


def test_everything_fits_in_one_counting_call() -> None:
    llm = CountingLLM(n_ctx=8192)
    res = fit_sources([_src(1, 3), _src(2, 3)], ["rules", "question"], llm)
    assert [s.number for s in res.sources] == [1, 2]
    assert not res.dropped and not res.truncated and not res.notes
    assert len(llm.count_calls) == 1  # one batched call with the model's tokenizer


def test_lowest_ranked_dropped_first_with_note() -> None:
    llm = CountingLLM(n_ctx=0)
    srcs = [_src(1, 10), _src(2, 10), _src(3, 10)]
    per = llm.count_tokens([quote_source(srcs[0])])[0]
    llm._n_ctx = ANSWER_TOKENS + TEMPLATE_MARGIN + 10 + 2 * per + 5  # room for two sources
    res = fit_sources(srcs, ["x" * 36], llm)
    assert [s.number for s in res.sources] == [1, 2]
    assert res.dropped == [2]
    assert any("did not fit" in n for n in res.notes)


def test_long_source_cut_at_sentence_boundary_and_marked() -> None:
    llm = CountingLLM(n_ctx=0)
    src = _src(1, 40)
    full = llm.count_tokens([quote_source(src)])[0]
    llm._n_ctx = ANSWER_TOKENS + TEMPLATE_MARGIN + 2 + full // 2
    res = fit_sources([src], ["q"], llm)
    assert res.truncated == [0] and res.sources[0].truncated
    cut = res.sources[0].text
    assert src.text.startswith(cut) and cut.endswith(".") and len(cut) < len(src.text)
    assert "…" in quote_source(res.sources[0])
    assert any("shortened" in n for n in res.notes)
    total = llm.count_tokens([quote_source(res.sources[0])])[0]
    assert total <= res.available


def test_renumber_closes_gaps() -> None:
    assert [s.number for s in renumber([_src(1, 1), _src(3, 1)])] == [1, 2]
