"""Fit numbered sources into the model's context window, with the model's own tokenizer.

Why: a small context (2-8k tokens) must hold the rules, the earlier turns, the sources and
room for the answer. Sources are given in rank order; the lowest-ranked ones are dropped
first, and a source that is too long on its own is cut at a sentence end (never mid-
sentence) and marked "…". Nothing is dropped or cut silently: every decision is a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from app.analysis.prompts import PromptSource, quote_source
from app.text.sentences import sentence_spans

#: Tokens kept free for the answer.
ANSWER_TOKENS = 384
#: Safety margin for the chat template's role markers and special tokens.
TEMPLATE_MARGIN = 48
#: A cut source must keep at least this many tokens to be worth including.
MIN_SOURCE_TOKENS = 48


class TokenCounter(Protocol):
    def count_tokens(self, texts: list[str]) -> list[int]: ...

    def n_ctx(self) -> int: ...


@dataclass
class BudgetResult:
    sources: list[PromptSource]
    #: Indices (into the input list) of the sources that were left out.
    dropped: list[int] = field(default_factory=list)
    #: Indices of sources cut at a sentence end.
    truncated: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    source_tokens: int = 0
    available: int = 0


def _cut_to_tokens(src: PromptSource, max_tokens: int, tokens: int) -> PromptSource | None:
    """Keep whole leading sentences of ``src`` within about ``max_tokens`` (estimated pro rata
    from the counted total, then checked again by the caller)."""
    spans = sentence_spans(src.text, max_chars=0)
    if not spans:
        return None
    chars_per_token = max(1.0, len(src.text) / max(1, tokens))
    limit = int(max_tokens * chars_per_token * 0.95)
    end = 0
    for _, b in spans:
        if b > limit:
            break
        end = b
    if end == 0:
        return None
    return PromptSource(src.number, src.title, src.page, src.text[:end], truncated=True)


def fit_sources(
    sources: list[PromptSource],
    fixed_text: list[str],
    llm: TokenCounter,
    answer_tokens: int = ANSWER_TOKENS,
) -> BudgetResult:
    """Choose which sources (in rank order) fit next to ``fixed_text`` (rules, history,
    question) and ``answer_tokens``. Counts everything in one batched tokenizer call."""
    quoted = [quote_source(s) for s in sources]
    counts = llm.count_tokens(list(fixed_text) + quoted + [s.text for s in sources]) if sources or fixed_text else []
    nf, ns = len(fixed_text), len(sources)
    fixed = sum(counts[:nf])
    src_counts = counts[nf:nf + ns]
    text_counts = counts[nf + ns:]
    available = llm.n_ctx() - answer_tokens - TEMPLATE_MARGIN - fixed
    result = BudgetResult(sources=[], available=available)
    used = 0
    for i, (src, n) in enumerate(zip(sources, src_counts)):
        if used + n <= available:
            result.sources.append(src)
            used += n
            continue
        room = available - used - (n - text_counts[i])  # minus the block's header/quote overhead
        cut = _cut_to_tokens(src, room, text_counts[i]) if room >= MIN_SOURCE_TOKENS else None
        if cut is not None:
            n_cut = llm.count_tokens([quote_source(cut)])[0]
            if used + n_cut <= available:
                result.sources.append(cut)
                result.truncated.append(i)
                result.notes.append(f"Source [{src.number}] was shortened at a sentence end to fit the model's context.")
                used += n_cut
                continue
        result.dropped.append(i)
    if result.dropped:
        result.notes.append(f"{len(result.dropped)} lower-ranked passage(s) did not fit the model's context "
                            "and were not given to the model (they are still listed as evidence).")
    result.source_tokens = used
    return result


def renumber(sources: list[PromptSource]) -> list[PromptSource]:
    """Number the kept sources 1..n (so the model never sees gaps)."""
    return [PromptSource(i + 1, s.title, s.page, s.text, s.truncated) for i, s in enumerate(sources)]
