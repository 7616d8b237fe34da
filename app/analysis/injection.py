"""Sentences of a document that address an AI ("ignore previous instructions and …").

Why: such a sentence is an instruction planted in the document, not a fact about it. The
prompts already quote sources as data (:mod:`app.analysis.prompts`), but a model may still
obey — and then the claim it was told to make ("revenue was $999 billion", "APPROVED") *is*
in the source, so answer verification and summary checks would call it supported, and the
extractive summary would even pick the instruction as a "key figure". So these sentences are
never evidence: verification, the evidence list and summaries skip them. The risk review
still flags them (taxonomy category ``prompt_injection``), so the user sees them.

Patterns: the taxonomy's ``prompt_injection`` cues (one definition for the review and here)
plus a few imperative forms aimed at the answer's format that a review cue need not catch.
"""

from __future__ import annotations

import re
from functools import lru_cache

#: Instructions about the answer itself (its format, its citations), beyond the taxonomy's cues.
EXTRA_PATTERNS = (
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|prompts?|rules?)\b",
    r"\b(?:answer|respond|reply|output)\b.{0,20}\bonly\b.{0,20}\b(?:with|the word|yes|no)\b",
    r"\bdo not (?:cite|quote|mention|reveal|flag|report|disclose)\b.{0,30}\b(?:sources?|citations?|this|risks?)\b",
    r"\b(?:system prompt|new instructions|prompt injection)\b",
)


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], ...]:
    cues: tuple[str, ...] = ()
    try:
        from app.risks.taxonomy import load_taxonomy

        category = load_taxonomy().get("prompt_injection")
        cues = tuple(category.cues) if category is not None else ()
    except Exception:  # noqa: BLE001 - a broken taxonomy file must not break answers
        cues = ()
    return tuple(re.compile(p, re.IGNORECASE | re.DOTALL) for p in (*cues, *EXTRA_PATTERNS))


def addresses_ai(sentence: str) -> bool:
    """Does this sentence read as an instruction to an AI rather than a statement of fact?"""
    text = " ".join(sentence.split())
    return bool(text) and any(p.search(text) for p in _patterns())


def blank_instructions(raw: str) -> str:
    """``raw`` with every instruction-like sentence replaced by spaces (same length, so
    offsets into it stay valid); sentences are found on the normalised text."""
    from app.text.normalize import normalize_with_map, raw_span
    from app.text.sentences import sentence_spans

    norm, offsets = normalize_with_map(raw)
    out = list(raw)
    for a, b in sentence_spans(norm):
        if addresses_ai(norm[a:b]):
            ra, rb = raw_span(offsets, a, b)
            out[ra:rb] = " " * (rb - ra)
    return "".join(out)
