"""Retrieved passages split into sentences, embedded once, and mapped back to page spans.

Why: both the evidence list (the sentence of each passage that best answers the question,
highlighted in the viewer) and the verification of the answer compare sentences with
source sentences. Doing the sentence split and one batched embedding call here keeps the
embedder cost to a single call per question.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, Sequence

import numpy as np

from app.analysis.features import Number, content_words, key_terms, numbers, overlap, years
from app.analysis.injection import addresses_ai
from app.analysis.types import Evidence
from app.text.sentences import heading_titles, sentence_spans
from app.text.spans import chunk_offsets_to_spans, chunk_text_from_pages, locate_in_chunk, locate_in_page
from app.types import PageText, SearchHit, Span


class EmbedderLike(Protocol):
    def embed(self, texts: list[str]) -> np.ndarray: ...


class CatalogLike(Protocol):
    def pages(self, workspace: str, doc_id: str) -> list[PageText]: ...


@dataclass
class SourceText:
    """One passage (a search hit) prepared for matching."""

    hit: SearchHit
    spans: list[tuple[int, int]]
    sentences: list[str]
    words: list[set[str]]
    nums: list[list[Number]]
    vecs: np.ndarray
    all_words: set[str] = field(default_factory=set)
    all_numbers: list[Number] = field(default_factory=list)


def embed_texts(embedder: EmbedderLike | None, texts: list[str]) -> np.ndarray:
    """L2-normalised rows, or an empty (n, 0) array without an embedder (lexical only)."""
    if embedder is None or not texts:
        return np.zeros((len(texts), 0), dtype=np.float32)
    return np.asarray(embedder.embed(list(texts)), dtype=np.float32)


def prepare_sources(hits: Sequence[SearchHit], embedder: EmbedderLike | None,
                    extra_texts: Sequence[str] = ()) -> tuple[list[SourceText], np.ndarray]:
    """Split every hit into sentences and embed them together with ``extra_texts`` (e.g. the
    question) in one call; returns the sources and the embeddings of ``extra_texts``."""
    per_hit = [_sentences(h) for h in hits]
    flat = [h.text[a:b] for h, sp in zip(hits, per_hit) for a, b in sp]
    vecs = embed_texts(embedder, list(extra_texts) + flat)
    extra, rest = vecs[: len(extra_texts)], vecs[len(extra_texts):]
    out: list[SourceText] = []
    pos = 0
    for h, sp in zip(hits, per_hit):
        sents = [h.text[a:b] for a, b in sp]
        planted = [addresses_ai(s) for s in sents]  # instructions to an AI are not evidence of anything
        words = [set() if bad else content_words(s) for s, bad in zip(sents, planted)]
        nums = [[] if bad else numbers(s) for s, bad in zip(sents, planted)]
        vecs = rest[pos:pos + len(sp)].copy()
        vecs[[i for i, bad in enumerate(planted) if bad]] = 0.0
        src = SourceText(h, sp, sents, words, nums, vecs)
        src.all_words = set().union(*words) if words else set()
        src.all_numbers = [n for ns in nums for n in ns]
        out.append(src)
        pos += len(sp)
    return out, extra


def _sentences(hit: SearchHit) -> list[tuple[int, int]]:
    """Sentence spans of a hit; its section headings (glued to the first clause by whitespace
    normalisation) are labels, not evidence, so they are split off and left out."""
    heads = heading_titles(hit.section)
    spans = [(a, b) for a, b in sentence_spans(hit.text, headings=heads) if hit.text[a:b] not in heads]
    return spans or [(0, len(hit.text))]


def section_at(hit: SearchHit, offset: int) -> str:
    """The section (path) of a merged hit that holds ``offset`` of its text: the one whose
    heading occurs last before it (a passage spanning "8. IP / 9. Governing Law" whose best
    sentence is clause 9.1 is labelled "9. Governing Law")."""
    parts = hit.section.split(" / ")
    if len(parts) == 1:
        return hit.section
    best, best_pos = parts[0], -1
    for part in parts:
        pos = hit.text.rfind(part.split(" > ")[-1].strip(), 0, offset + 1)
        if pos > best_pos:
            best, best_pos = part, pos
    return best


def cosine(vec: np.ndarray, mat: np.ndarray) -> np.ndarray:
    """Cosine similarity of one normalised vector with normalised rows (zeros without vectors)."""
    if vec.size == 0 or mat.size == 0:
        return np.zeros(len(mat), dtype=np.float32)
    return mat @ vec


def term_weights(question: str, sources: Sequence[SourceText]) -> dict[str, float]:
    """Weights of the question's key terms: rarer across the retrieved sentences = more
    telling; words of the document title (usually the company name) count little, since
    they say nothing about *which* sentence answers."""
    terms = key_terms(question) or content_words(question)
    n = sum(len(s.words) for s in sources) or 1
    title_words = set().union(*(content_words(s.hit.doc_title) for s in sources)) if sources else set()
    weights: dict[str, float] = {}
    for t in terms:
        df = sum(1 for s in sources for w in s.words if t in w)
        weights[t] = float(np.log(1.0 + n / (1.0 + df))) * (0.3 if t in title_words else 1.0)
    return weights


def question_scores(question: str, qvec: np.ndarray, src: SourceText,
                    weights: dict[str, float] | None = None) -> np.ndarray:
    """How well each sentence of ``src`` answers ``question`` (lexical + number + embedding)."""
    weights = weights if weights is not None else term_weights(question, [src])
    total = sum(weights.values())
    qyears = years(question)
    emb = cosine(qvec, src.vecs)
    scores = np.zeros(len(src.sentences), dtype=np.float32)
    for i, sent in enumerate(src.sentences):
        lex = sum(w for t, w in weights.items() if t in src.words[i]) / total if total > 0 else 0.0
        num = (len({y for y in qyears if y in sent}) / len(qyears)) if qyears else 0.0
        has_num = 0.05 if src.nums[i] else 0.0
        e = float(emb[i]) if emb.size else lex
        scores[i] = 0.45 * e + 0.4 * lex + 0.1 * num + has_num
    return scores


def rerank_sources(question: str, qvec: np.ndarray, sources: list[SourceText], k: int
                   ) -> tuple[list[SearchHit], list[SourceText]]:
    """Keep the ``k`` passages whose best sentence answers the question best, fused
    (reciprocal rank) with the retriever's order; passage-level retrieval misses a single
    telling sentence inside a long chunk, sentence-level matching does not."""
    if len(sources) <= 1:
        return [s.hit for s in sources][:k], sources[:k]
    weights = term_weights(question, sources)
    best = [float(question_scores(question, qvec, s, weights).max()) if s.sentences else 0.0 for s in sources]
    by_sentence = sorted(range(len(sources)), key=lambda i: -best[i])
    srank = {i: r for r, i in enumerate(by_sentence)}
    fused = sorted(range(len(sources)), key=lambda i: -(1.0 / (10 + i) + 1.0 / (10 + srank[i])))
    kept = [sources[i] for i in fused[:k]]
    return [s.hit for s in kept], kept


class PageCache:
    """Raw page texts per document, loaded once per question from the catalog."""

    def __init__(self, catalog: CatalogLike | None, workspace: str,
                 preset: Mapping[str, Mapping[int, str]] | None = None) -> None:
        self.catalog, self.workspace = catalog, workspace
        self._pages: dict[str, dict[int, str]] = {k: dict(v) for k, v in (preset or {}).items()}

    def get(self, doc_id: str) -> dict[int, str]:
        if doc_id not in self._pages:
            pages = self.catalog.pages(self.workspace, doc_id) if self.catalog is not None else []
            self._pages[doc_id] = {p.page: p.text for p in pages}
        return self._pages[doc_id]


def hit_spans(hit: SearchHit, pages: Mapping[int, str], a: int, b: int) -> list[Span]:
    """Exact raw-page spans of ``hit.text[a:b]``; [] when the pages are unavailable."""
    needed = range(hit.page_start, hit.page_end + 1)
    if not pages or any(p not in pages for p in needed):
        return []
    region_text = chunk_text_from_pages(pages, hit.page_start, hit.char_start, hit.page_end, hit.char_end)
    if region_text == hit.text:
        return chunk_offsets_to_spans(pages, hit, a, b)  # type: ignore[arg-type]
    found = locate_in_chunk(region_text, hit.text[a:b])
    if found is not None:
        return chunk_offsets_to_spans(pages, hit, *found)  # type: ignore[arg-type]
    for p in needed:  # the hit's text is not its region (e.g. merged neighbours): search pages
        loc = locate_in_page(pages[p], hit.text[a:b])
        if loc is not None:
            return [Span(p, loc[0], loc[1])]
    return []


def build_evidence(question: str, qvec: np.ndarray, sources: list[SourceText], page_cache: PageCache,
                   source_numbers: Mapping[int, int] | None = None,
                   notes: Mapping[int, str] | None = None) -> list[Evidence]:
    """Ranked evidence: every passage with its best sentence for the question and exact spans."""
    out: list[Evidence] = []
    weights = term_weights(question, sources)
    for i, src in enumerate(sources):
        h = src.hit
        scores = question_scores(question, qvec, src, weights)
        best = int(np.argmax(scores)) if len(scores) else 0
        a, b = src.spans[best] if src.spans else (0, len(h.text))
        ev = Evidence(rank=i + 1, chunk_id=h.chunk_id, doc_id=h.doc_id, doc_title=h.doc_title, section=section_at(h, a),
                      page_start=h.page_start, page_end=h.page_end, char_start=h.char_start, char_end=h.char_end,
                      score=float(h.score), text=h.text, best_sentence=h.text[a:b],
                      best_sentence_spans=hit_spans(h, page_cache.get(h.doc_id), a, b),
                      best_sentence_score=float(scores[best]) if len(scores) else 0.0,
                      source_number=(source_numbers or {}).get(i, 0), note=(notes or {}).get(i, ""))
        out.append(ev)
    return out


def evidence_strength(question: str, sources: list[SourceText], doc_texts: Mapping[str, str],
                      qvec: np.ndarray) -> tuple[bool, str]:
    """(weak, why): is the retrieved evidence too weak to attempt an answer?

    Weak when nothing was retrieved, when a name or year the question is specific about
    occurs in none of the selected documents, or when no passage shares a key term with
    the question and none is semantically close.
    """
    if not sources:
        return True, "No passage of the selected documents matches the question."
    corpus = " ".join(doc_texts.values()).lower()
    for name in _proper_names(question):
        if corpus and name.lower() not in corpus:
            return True, f"The selected documents never mention “{name}”."
    for y in years(question):
        if corpus and y not in corpus:
            return True, f"The selected documents never mention the year {y}."
    terms = key_terms(question)
    lex = max((overlap(terms, s.all_words) for s in sources), default=0.0) if terms else 1.0
    emb = max((float(cosine(qvec, s.vecs).max()) for s in sources if s.vecs.size), default=1.0)
    if lex == 0.0 and emb < 0.3:
        return True, "No retrieved passage shares the question's key terms."
    return False, ""


_NAME_STOP = frozenset("""What Which Who Whom Whose When Where Why How Is Are Was Were Do Does Did Can Could
Should Would Will Has Have Had If In On For Of The A An And Or By From To At As With Based Using Please Give
Provide List Describe Explain Tell Show Compare Among Between Assume Considering FY Q1 Q2 Q3 Q4 I II III IV
US USD GAAP EPS EBITDA CapEx Capex YoY LTM TTM SEC""".split())


def _proper_names(question: str) -> list[str]:
    """Capitalised words (not sentence starts, not generic finance acronyms), e.g. "Corning"."""
    import re

    out: list[str] = []
    for m in re.finditer(r"\b([A-Z][A-Za-z&]{2,}|[0-9][A-Z]+)(?:'s|’s)?\b", question):
        word = m.group(1)
        if word in _NAME_STOP or word.isupper() and len(word) <= 4 and not word[0].isdigit():
            continue
        out.append(word)
    return out


def doc_texts_for(doc_ids: Sequence[str], page_cache: PageCache, titles: Mapping[str, str]) -> dict[str, str]:
    """Whole text (and title) of each selected document, for the name/year presence check."""
    out: dict[str, Any] = {}
    for d in doc_ids:
        pages = page_cache.get(d)
        out[d] = titles.get(d, "") + "\n" + "\n".join(pages[p] for p in sorted(pages))
    return out
