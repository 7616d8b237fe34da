"""Grounded question answering: retrieve ► budget ► prompt ► stream ► verify.

Why this shape: the answer is only as trustworthy as its check. Whatever the model writes,
the result carries (a) the ranked evidence passages with the sentence that best answers the
question, highlighted by exact page spans, and (b) a per-sentence verdict on whether the
cited sources back the sentence. With the tiny bundled model the evidence is often more
useful than the prose, so it is always returned — also when the answer abstains.

Cancellation: cancelling before generation starts raises :class:`app.errors.Cancelled`;
cancelling while the model writes returns the partial answer with ``cancelled=True``
(verified as far as it goes, and not added to the conversation).
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from typing import Callable, Protocol, Sequence

from app.analysis.budget import ANSWER_TOKENS, fit_sources, renumber
from app.analysis.conversation import Conversation
from app.analysis.evidence import (EmbedderLike, PageCache, SourceText, build_evidence, doc_texts_for,
                                   evidence_strength, prepare_sources, rerank_sources)
from app.analysis.prompts import NOT_FOUND, QA_RULES, PromptSource, is_abstention, qa_messages, qa_user_prompt
from app.analysis.types import Answer, AnswerSentence, Citation, Evidence
from app.analysis.verify import NOTHING_TO_CHECK, verify_answer
from app.errors import Cancelled, DossierError
from app.text.sentences import sentence_spans
from app.llm.base import LLM
from app.types import CancelToken, PageText, Progress, ProgressFn, SearchHit

#: How many passages an answer abstaining for weak evidence still shows.
ABSTAIN_EVIDENCE = 3
#: Share of the context window that earlier turns may use.
HISTORY_SHARE = 0.2
#: Retrieve this many times ``k`` passages, then keep the best ``k`` by sentence-level match.
RERANK_POOL = 2
STOP = ["<|im_end|>", "<|endoftext|>", "\nQuestion:", "<<<SOURCE"]


class Retriever(Protocol):
    def search(self, query: str, doc_ids: list[str] | None = None, k: int = 8,
               section: str | None = None) -> list[SearchHit]: ...


class PageSource(Protocol):
    def pages(self, workspace: str, doc_id: str) -> list[PageText]: ...


def answer_question(
    question: str,
    retriever: Retriever,
    catalog: PageSource | None,
    workspace: str,
    llm: LLM,
    embedder: EmbedderLike | None,
    doc_ids: list[str] | None = None,
    history: Conversation | None = None,
    k: int = 6,
    on_token: Callable[[str], None] | None = None,
    on_progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    answer_tokens: int = ANSWER_TOKENS,
    rerank: bool = True,
    on_evidence: Callable[[list[Evidence]], None] | None = None,
) -> Answer:
    """Answer ``question`` from the selected documents (all when ``doc_ids`` is None) with
    verified citations. ``history`` (if given) shapes retrieval/prompt and receives the turn.
    With ``rerank``, ``RERANK_POOL * k`` passages are retrieved and the ``k`` whose best
    sentence matches the question best (fused with the retrieval rank) are kept.
    ``on_evidence`` gets (copies of) the ranked evidence as soon as it is known, before the
    model is loaded or writes: the reader can check the passages while the answer is written
    (seconds with a small model on a laptop, a minute or more with a large one)."""
    question = question.strip()
    if not question:
        raise DossierError("The question is empty. Type a question about your documents.")
    progress = on_progress or (lambda _p: None)
    t0 = time.perf_counter()
    progress(Progress("retrieve", 0, 1, "steps", "Searching the documents"))
    query = history.retrieval_query(question) if history else question
    hits = retriever.search(query, doc_ids=doc_ids, k=k * RERANK_POOL if rerank else k)
    _check(cancel)
    pages = PageCache(catalog, workspace)
    sources, qvecs = prepare_sources(hits, embedder, [question])
    if rerank:
        hits, sources = rerank_sources(question, qvecs[0], sources, k)
    stats: dict[str, float] = {"retrieve_s": time.perf_counter() - t0, "passages": len(hits)}
    progress(Progress("retrieve", 1, 1, "steps", f"{len(hits)} passages found"))
    _check(cancel)
    scope = list(doc_ids) if doc_ids else list(dict.fromkeys(h.doc_id for h in hits))
    weak, why = evidence_strength(question, sources, doc_texts_for(scope, pages, {h.doc_id: h.doc_title for h in hits}),
                                  qvecs[0])
    evidence = build_evidence(question, qvecs[0], sources, pages)
    if weak:
        answer = Answer(question=question, text="", model=_model_name(llm), evidence=evidence)
        return _abstain(answer, why, stats, t0, history)
    stats["evidence_s"] = time.perf_counter() - t0
    if on_evidence is not None:
        on_evidence([replace(e) for e in evidence])  # the prompt plan below numbers the originals
    answer, prompt_sources, kept_idx, hist_msgs = _plan_prompt(question, hits, evidence, llm, history, answer_tokens)
    if not prompt_sources:
        return _abstain(answer, "No passage fits the model's context.", stats, t0, history)
    messages = qa_messages(prompt_sources, question, hist_msgs)
    text, cancelled = _generate(llm, messages, answer_tokens, on_token, progress, cancel, stats)
    answer.text, answer.cancelled = _clean(text), cancelled
    if not cancelled and is_abstention(answer.text):
        return _abstain(answer, "", stats, t0, history)
    if cancelled or not _quote_referenced(answer):
        _verify(answer, [sources[i] for i in kept_idx], embedder, pages, progress, stats)
    stats["total_s"] = time.perf_counter() - t0
    answer.stats = stats
    if history is not None and not cancelled:
        history.add(question, answer.text, [hits[i].chunk_id for i in kept_idx])
    return answer


def _plan_prompt(question: str, hits: list[SearchHit], evidence: list[Evidence], llm: LLM,
                 history: Conversation | None, answer_tokens: int) -> tuple[Answer, list[PromptSource], list[int], list]:
    """Budget the sources next to rules/history/question; the Answer shell with the evidence
    (numbered as the prompt numbers them, with notes on what did not fit), the numbered prompt
    sources, their indices into ``hits``, and the history messages."""
    hist_msgs = history.messages(llm, int(llm.n_ctx() * HISTORY_SHARE)) if history else []
    fixed = [QA_RULES, qa_user_prompt(question, len(hits))] + [m["content"] for m in hist_msgs]
    candidates = [PromptSource(i + 1, h.doc_title, h.page_start, h.text) for i, h in enumerate(hits)]
    budget = fit_sources(candidates, fixed, llm, answer_tokens)
    kept_idx = [c.number - 1 for c in budget.sources]
    for n, i in enumerate(kept_idx):
        evidence[i].source_number = n + 1
    for i in budget.truncated:
        evidence[i].note = "shortened to fit the model's context"
    for i in budget.dropped:
        evidence[i].note = "did not fit the model's context; not given to the model"
    answer = Answer(question=question, text="", evidence=evidence, model=_model_name(llm), notes=list(budget.notes))
    return answer, renumber(budget.sources), kept_idx, hist_msgs


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()


def _model_name(llm: LLM) -> str:
    info = getattr(llm, "info", None)
    return str(getattr(info, "display_name", "") or getattr(info, "name", "") or "")


def _generate(llm: LLM, messages: list, max_tokens: int, on_token: Callable[[str], None] | None,
              progress: ProgressFn, cancel: CancelToken | None, stats: dict[str, float]) -> tuple[str, bool]:
    """Stream the answer; returns (text, cancelled)."""
    t = time.perf_counter()
    pieces: list[str] = []
    cancelled = False
    try:
        for piece in llm.stream_chat(messages, max_tokens=max_tokens, temperature=0.1, stop=STOP, cancel=cancel):
            pieces.append(piece)
            if on_token is not None:
                on_token(piece)
            progress(Progress("generate", len(pieces), max_tokens, "tokens"))
    except Cancelled:
        cancelled = True
    cancelled = cancelled or bool(cancel is not None and cancel.cancelled)
    last = getattr(llm, "last_stats", None)
    stats["generate_s"] = time.perf_counter() - t
    stats["prompt_tokens"] = float(getattr(last, "prompt_tokens", 0) or 0)
    stats["cached_prompt_tokens"] = float(getattr(last, "cached_prompt_tokens", 0) or 0)
    stats["answer_tokens"] = float(getattr(last, "generated_tokens", 0) or len(pieces))
    return "".join(pieces), cancelled


def _clean(text: str) -> str:
    """Strip role labels, template leftovers, lead-ins and repeated sentences (small models
    parrot the instructions and loop: "The answer to this question is: The answer to ...")."""
    text = re.sub(r"^\s*(?:assistant|answer)\s*:\s*", "", text.strip(), flags=re.IGNORECASE)
    text = text.split("<<<")[0].strip()
    text = _ECHO.sub("", text).strip()
    text = _LEAD_IN.sub("", text).strip()
    seen: set[str] = set()
    lines: list[str] = []
    for line in text.splitlines():
        kept = []
        for a, b in sentence_spans(line, max_chars=0):
            key = re.sub(r"\W+", " ", _LEAD_IN.sub("", line[a:b])).strip().lower()
            if (key and key in seen) or _META.match(line[a:b].strip()):
                continue
            seen.add(key)
            kept.append(line[a:b].strip())
        if kept or not line.strip():
            lines.append(" ".join(kept))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_ECHO = re.compile(r"[^.\n]*(?:citing them after each sentence|answer from the sources|reply exactly|"
                   r"only facts stated in the sources|quoted documents|data, not instructions)[^.\n]*\.?", re.IGNORECASE)
#: A sentence about the sources instead of from them ("The source [1] contains the answer to
#: this question."): no fact, so dropped; an answer of nothing else becomes an abstention.
_META = re.compile(r"(?:the\s+)?(?:sources?|passages?|documents?|evidence)\s*(?:\[\d+\](?:\s*(?:,|and)\s*\[\d+\])*)?\s+"
                   r"(?:contains?|provides?|has|have|gives?|includes?|answers?)\s+(?:the\s+)?(?:answer|information|details?)"
                   r"(?:\s+(?:to|for|about|on)\s+(?:this|the|your)\s+question)?\s*(?:\[\d+\])?\s*\.?$", re.IGNORECASE)
#: "The answer to this question is:" and the like, wherever a looping model repeats it.
_LEAD_IN = re.compile(r"(?:^|(?<=[.:!?]\s))(?:the\s+)?(?:answer|response)\s+(?:to\s+(?:this|the|your)\s+question\s+)?"
                      r"(?:is|would be)\s*:\s*", re.IGNORECASE)


def _abstain(answer: Answer, why: str, stats: dict[str, float], t0: float, history: Conversation | None) -> Answer:
    answer.abstained = True
    answer.fully_supported = False
    answer.text = NOT_FOUND + (f" {why}" if why else "")
    if why:  # weak evidence: only the closest passages; a model abstention keeps them all
        answer.evidence = answer.evidence[:ABSTAIN_EVIDENCE]
    answer.sentences, answer.citations = [], []
    stats["total_s"] = time.perf_counter() - t0
    answer.stats = stats
    if history is not None:
        history.add(answer.question, answer.text, [], abstained=True)
    return answer


#: An answer of nothing but source markers: "[1]", "[2].", "[1][3]", "[1, 2]".
_MARKERS_ONLY = re.compile(r"\s*(?:\[\s*\d+(?:\s*,\s*\d+)*\s*\][\s.,;:]*)+")


def _quote_referenced(answer: Answer) -> bool:
    """A small model sometimes writes only a reference ("[1]") instead of an answer. Rather than
    show a bare "[1]", quote the sentence of the first referenced source that best matches the
    question (its evidence sentence), cited and highlighted like any citation, with a note that
    the model wrote no answer. ``fully_supported`` stays False: a quote is not the model's answer.
    False (nothing changed) when the text is anything else or names no source given to the model."""
    if not _MARKERS_ONLY.fullmatch(answer.text):
        return False
    numbers = [int(n) for n in re.findall(r"\d+", answer.text)]
    ev = next((e for n in numbers for e in answer.evidence if n and e.source_number == n and e.best_sentence_spans),
              None)
    if ev is None:
        return False
    n, quote = ev.source_number, " ".join(ev.best_sentence.split())
    answer.text = f"“{quote}” [{n}]"
    answer.sentences = [AnswerSentence(text=f"“{quote}”", citations=[n], supported=True, score=1.0,
                                       reasons=[f"quoted from source [{n}]"])]
    answer.citations = [Citation(number=n, doc_id=ev.doc_id, doc_title=ev.doc_title, page=ev.page,
                                 spans=list(ev.best_sentence_spans), quote=ev.best_sentence, chunk_id=ev.chunk_id)]
    answer.notes.append(f"The model wrote no answer, only the reference [{n}]. Shown instead: the sentence of "
                        f"source [{n}] that best matches the question, quoted as it stands.")
    answer.fully_supported = False
    return True


def _verify(answer: Answer, sources: Sequence[SourceText], embedder: EmbedderLike | None, pages: PageCache,
            progress: ProgressFn, stats: dict[str, float]) -> None:
    t = time.perf_counter()
    progress(Progress("verify", 0, 1, "steps", "Checking the answer against the sources"))
    sentences, citations, notes = verify_answer(answer.text, sources, list(range(1, len(sources) + 1)), embedder, pages,
                                                question=answer.question)
    answer.sentences, answer.citations = sentences, citations
    answer.notes.extend(dict.fromkeys(notes))
    checkable = [s for s in sentences if not any(NOTHING_TO_CHECK in r for r in s.reasons)]
    answer.fully_supported = bool(checkable) and all(s.supported for s in checkable)
    stats["verify_s"] = time.perf_counter() - t
    progress(Progress("verify", 1, 1, "steps"))


def evidence_pages(evidence: Sequence[Evidence]) -> set[int]:
    """All pages the evidence passages cover (0-based), e.g. for page-recall benchmarks."""
    return {p for e in evidence for p in range(e.page_start, e.page_end + 1)}
