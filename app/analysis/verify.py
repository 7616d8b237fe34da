"""Check every sentence of an answer against the sources it cites.

Why: a small local model invents numbers and cites the wrong source. Each sentence is
checked without a model: its content words must largely occur in the cited source(s),
every number it states must appear there (by value, see :mod:`app.analysis.features`),
and it must be semantically close to some source sentence (embedding similarity).
Citation markers naming a source that was not given are removed and reported. A sentence
that cites nothing but is clearly backed by one source gets that source as an *inferred*
citation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from app.analysis.evidence import PageCache, SourceText, cosine, embed_texts, EmbedderLike, hit_spans
from app.analysis.features import content_words, number_supported, numbers, overlap
from app.analysis.types import AnswerSentence, Citation
from app.text.sentences import sentence_spans

_MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;\-–]\s*\d+)*)\s*\]")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\s*\d+(?:\s*[,;\-–]\s*\d+)*\s*\])+[.,;]?")

#: Thresholds (MiniLM cosine is ~0.6-0.9 for paraphrases, ~0.1-0.3 for unrelated text).
LEXICAL_OK = 0.6
LEXICAL_MIN = 0.34
EMBED_OK = 0.62
INFER_SCORE = 0.7
#: Reason given to a fragment such as "Yes." or "The answer is:" (it is left out of
#: the fully-supported verdict, which then needs at least one checkable sentence).
NOTHING_TO_CHECK = "states nothing that can be checked"
#: Reason given to a sentence that only repeats the question's own words ("The segment that
#: will be discontinued is the segment of JnJ.") -- it answers nothing.
RESTATES_QUESTION = "only repeats the question; " + NOTHING_TO_CHECK


def parse_markers(text: str) -> list[int]:
    """Source numbers in citation markers: "[1]", "[1, 2]", "[1][3]", "[2-4]" (in order, unique)."""
    out: list[int] = []
    for m in _MARKER.finditer(text):
        for part in re.split(r"\s*[,;]\s*", m.group(1)):
            if re.search(r"[\-–]", part):
                a, b = (int(x) for x in re.split(r"\s*[\-–]\s*", part))
                nums = list(range(a, b + 1)) if 0 < b - a < 20 else [a, b]
            else:
                nums = [int(part)]
            out.extend(n for n in nums if n not in out)
    return out


def split_answer(text: str) -> list[str]:
    """Answer sentences; a marker that follows the full stop ("… 2022. [1]") joins its sentence."""
    parts = [text[a:b] for a, b in sentence_spans(text, max_chars=0)]
    out: list[str] = []
    for p in parts:
        m = _LEADING_MARKERS.match(p)
        if m and out:
            out[-1] = out[-1] + " " + m.group(0).strip()
            p = p[m.end():].strip()
        if p and re.search(r"\w", _MARKER.sub("", p)):
            out.append(p)
        elif p and out:
            out[-1] += " " + p
    return out


def strip_markers(text: str) -> str:
    return re.sub(r"\s+([.,;:!?])", r"\1", _MARKER.sub("", text)).strip()


@dataclass
class _Check:
    lexical: float
    embed: float
    missing: list[str]
    best: tuple[int, int]  # (source index, sentence index) of the best-matching source sentence

    @property
    def score(self) -> float:
        s = 0.5 * self.lexical + 0.5 * self.embed if self.embed >= 0 else self.lexical
        return round(s * (0.5 if self.missing else 1.0), 3)

    @property
    def supported(self) -> bool:
        if self.missing:
            return False
        emb = self.embed if self.embed >= 0 else self.lexical
        return self.lexical >= LEXICAL_OK or (emb >= EMBED_OK and self.lexical >= LEXICAL_MIN)


def _check(sentence: str, svec: np.ndarray, sources: Sequence[SourceText], idx: Sequence[int],
           asked: frozenset[str] = frozenset()) -> _Check:
    """Support of one sentence by the union of the sources ``idx``.

    The lexical test counts only the words the sentence adds to the question (``asked``):
    the question's own words are in the retrieved sources by construction, so a made-up
    answer that echoes the question ("SG&A fell because of market changes and competition")
    would otherwise look supported. The embedding test still sees the whole sentence."""
    words = content_words(sentence) - asked or content_words(sentence)
    pool_words = set().union(*(sources[i].all_words for i in idx)) if idx else set()
    pool_nums = [n for i in idx for n in sources[i].all_numbers]
    missing = [n.text for n in numbers(sentence) if not number_supported(n, pool_nums)]
    best, best_sim, has_vec = (idx[0] if idx else 0, 0), -1.0, False
    for i in idx:
        sims = cosine(svec, sources[i].vecs)
        has_vec = has_vec or bool(sims.size and svec.size)
        lex_per = np.array([overlap(words, w) for w in sources[i].words], dtype=np.float32)
        combined = (sims if sims.size and svec.size else 0) + lex_per
        j = int(np.argmax(combined)) if len(lex_per) else 0
        val = float(combined[j]) if len(lex_per) else -1.0
        if val > best_sim:
            best, best_sim = (i, j), val
    emb = float(cosine(svec, sources[best[0]].vecs)[best[1]]) if has_vec and idx else -1.0
    return _Check(overlap(words, pool_words), emb, missing, best)


def _reasons(c: _Check, cited: list[int]) -> list[str]:
    where = "the cited source" + ("s " if len(cited) > 1 else " ") + "".join(f"[{n}]" for n in cited) if cited else "any source"
    out = [f"number {m} does not appear in {where}" for m in c.missing]
    if c.lexical < LEXICAL_OK:
        out.append(f"only {c.lexical:.0%} of its words occur in {where}")
    if 0 <= c.embed < EMBED_OK:
        out.append(f"meaning similarity to {where} is low ({c.embed:.2f})")
    return out


def verify_answer(text: str, sources: Sequence[SourceText], numbers_given: Sequence[int], embedder: EmbedderLike | None,
                  page_cache: PageCache, question: str = "") -> tuple[list[AnswerSentence], list[Citation], list[str]]:
    """Sentences with support flags, the citations (with spans of the best source sentence),
    and notes. ``sources[i]`` is prompt source number ``numbers_given[i]``. With ``question``,
    a sentence must add something to it (new words or numbers) that the sources back."""
    asked = frozenset(content_words(question))
    sents = split_answer(text)
    vecs = embed_texts(embedder, [strip_markers(s) for s in sents])
    num_to_idx = {n: i for i, n in enumerate(numbers_given)}
    out: list[AnswerSentence] = []
    best_for: dict[int, tuple[float, tuple[int, int], bool]] = {}
    notes: list[str] = []
    for k, sent in enumerate(sents):
        marks = parse_markers(sent)
        bad = [m for m in marks if m not in num_to_idx]
        cited = [m for m in marks if m in num_to_idx]
        plain = strip_markers(sent)
        idx = [num_to_idx[m] for m in cited] or list(range(len(sources)))
        check = _check(plain, vecs[k], sources, idx, asked)
        s = AnswerSentence(text=plain, citations=cited, supported=check.supported and bool(sources),
                           score=check.score if sources else 0.0)
        if bad:
            s.reasons.append("cited " + ", ".join(f"[{m}]" for m in bad) + ", which the model was not given; removed")
            notes.append(f"Removed citation(s) to non-existent source(s): {', '.join(f'[{m}]' for m in bad)}.")
        if not content_words(plain) and not numbers(plain):
            s.supported, s.score = False, 0.0
            s.reasons.append(NOTHING_TO_CHECK)
        elif asked and not (content_words(plain) - asked) and not _new_numbers(plain, question):
            s.supported, s.score = False, 0.0
            s.reasons.append(RESTATES_QUESTION)
        elif not s.supported:
            s.reasons.extend(_reasons(check, cited) if sources else ["no sources were given"])
        inferred = False
        if not cited and s.supported and check.score >= INFER_SCORE:
            s.citations = [numbers_given[check.best[0]]]
            s.reasons.append(f"no citation given; supported by source [{s.citations[0]}] (inferred)")
            inferred = True
        for n in s.citations:
            i = num_to_idx[n]
            loc = check.best if check.best[0] == i else (i, _best_sentence(plain, vecs[k], sources[i]))
            prev = best_for.get(n)
            if prev is None:
                best_for[n] = (check.score, loc, inferred)
            else:  # keep the best-supporting location; "inferred" only if never cited explicitly
                best_loc = loc if check.score > prev[0] else prev[1]
                best_for[n] = (max(check.score, prev[0]), best_loc, prev[2] and inferred)
        out.append(s)
    citations = [_citation(n, sources, *best_for[n][1:], page_cache) for n in sorted(best_for)]
    return out, citations, notes


def _new_numbers(sentence: str, question: str) -> bool:
    """Does the sentence state a number the question did not?"""
    asked = {n.value for n in numbers(question)}
    return any(n.value not in asked for n in numbers(sentence))


def _best_sentence(sentence: str, svec: np.ndarray, src: SourceText) -> int:
    words = content_words(sentence)
    sims = cosine(svec, src.vecs)
    scores = [overlap(words, w) + (float(sims[j]) if sims.size else 0.0) for j, w in enumerate(src.words)]
    return int(np.argmax(scores)) if scores else 0


def _citation(number: int, sources: Sequence[SourceText], loc: tuple[int, int], inferred: bool,
              page_cache: PageCache) -> Citation:
    src = sources[loc[0]]
    a, b = src.spans[loc[1]] if src.spans else (0, len(src.hit.text))
    h = src.hit
    spans = hit_spans(h, page_cache.get(h.doc_id), a, b)
    return Citation(number=number, doc_id=h.doc_id, doc_title=h.doc_title,
                    page=spans[0].page if spans else h.page_start, spans=spans, quote=h.text[a:b],
                    inferred=inferred, chunk_id=h.chunk_id)
