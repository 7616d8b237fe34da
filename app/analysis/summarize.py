"""Whole-document structured summaries: map-reduce with the model + an extractive backbone.

Why this design:
- Any length: chunks are grouped by document section into windows that fit the model's
  context (counted with its tokenizer); each window is mapped to page-tagged facts, then the
  facts are reduced into the structure for the document type. A 190-page 10-K would take
  too long on a small CPU model, so the number of windows is capped and the most telling
  sections go first (Item 1, 1A, 7, 8 for filings).
- Every bullet cites pages. A generated bullet is kept only when a page's text backs it
  (content words + every number, as in answer verification); it is re-attached to the page
  that backs it best, or dropped. Bullets carry spans for highlighting.
- The tiny bundled model is weak, so each section also gets "extracted" bullets: document
  sentences picked by cue words and numbers. Every section has cited content either way.
- Cancelling raises :class:`app.errors.Cancelled` (a summary is all or nothing).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from app.analysis.features import content_words, missing_numbers, overlap
from app.analysis.injection import addresses_ai, blank_instructions
from app.analysis.prompts import map_messages, reduce_messages
from app.analysis.structure import PRIORITY_SECTIONS, SectionSpec, cue_score, section_priority, structure_for
from app.analysis.types import Summary, SummaryBullet, SummarySection
from app.llm.base import LLM
from app.text.normalize import normalize_with_map, raw_span
from app.text.sentences import heading_titles, sentence_spans, split_sentences
from app.text.spans import chunk_offsets_to_spans
from app.types import CancelToken, Chunk, DocumentRecord, PageText, Progress, ProgressFn, Span

SCHEMA_VERSION = 1
MAX_WINDOWS = 6
#: A map window holds at most this many tokens even with a large context: prompt processing
#: on a CPU grows with it, and small models lose track in long inputs.
WINDOW_TOKENS = 1800
MAP_TOKENS = 220
REDUCE_TOKENS = 450
PROMPT_OVERHEAD = 220
EXTRACTED_PER_SECTION = 3
GENERATED_PER_SECTION = 5
SUPPORT_OVERLAP = 0.75
SENTENCE_OVERLAP = 0.6
#: Statements about the text rather than facts from it ("The document discusses…").
_META = re.compile(r"^(?:it|this|these|they|the (?:document|text|report|section|passage|part))\b", re.IGNORECASE)

_PAGE_TAG = re.compile(r"\[\s*p(?:age|\.)?\s*(\d+)(?:\s*[-–,]\s*p?\s*\d+)*\s*\]|\(\s*p(?:age|p?\.)?\s*(\d+)\s*\)", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


@dataclass
class Window:
    chunks: list[Chunk]
    tokens: int
    priority: int

    @property
    def pages(self) -> set[int]:
        return {p for c in self.chunks for p in range(c.page_start, c.page_end + 1)}

    def text(self) -> str:
        parts, page = [], -1
        for c in self.chunks:
            if c.page_start != page:
                parts.append(f"[p{c.page_start + 1}]")
                page = c.page_start
            parts.append(c.text)
            page = c.page_end
        return "\n".join(parts)


def summarize_document(
    doc: DocumentRecord,
    pages: list[PageText],
    chunks: list[Chunk],
    llm: LLM | None,
    on_token: Callable[[str], None] | None = None,
    on_progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    max_windows: int = MAX_WINDOWS,
) -> Summary:
    """Structured summary of ``doc``; ``llm=None`` gives the extractive summary only."""
    t0 = time.perf_counter()
    progress = on_progress or (lambda _p: None)
    specs = structure_for(doc.doc_type)
    page_map = {p.page: p.text for p in pages}
    summary = Summary(doc_id=doc.id, doc_type=doc.doc_type, doc_title=doc.title,
                      model=_model_name(llm))
    extracted = extract_backbone(specs, chunks, page_map)
    generated: dict[str, list[SummaryBullet]] = {s.title: [] for s in specs}
    if llm is not None and chunks:
        windows, total = plan_windows(doc.doc_type, chunks, llm, max_windows)
        summary.windows_used, summary.windows_total = len(windows), total
        raw = _map_reduce(specs, windows, llm, on_token, progress, cancel)
        allowed = sorted({p for w in windows for p in w.pages})
        generated, dropped = attach_pages(raw, specs, page_map, allowed)
        if dropped:
            summary.notes.append(f"{dropped} model statement(s) were left out because no page of the document backs them.")
        if summary.windows_used < summary.windows_total:
            summary.notes.append(f"The model read {summary.windows_used} of {summary.windows_total} parts of the document "
                                 "(the most important sections first); extracted points cover the whole document.")
    summary.sections = [_compose(s.title, generated.get(s.title, []), extracted.get(s.title, [])) for s in specs]
    summary.seconds = round(time.perf_counter() - t0, 3)
    progress(Progress("summarize", 1, 1, "steps", "Summary ready"))
    return summary


def _model_name(llm: LLM | None) -> str:
    info = getattr(llm, "info", None)
    return "extractive" if llm is None else str(getattr(info, "display_name", "") or getattr(info, "name", "") or "")


# -- extractive backbone -------------------------------------------------------------------

def extract_backbone(specs: Sequence[SectionSpec], chunks: Sequence[Chunk], page_map: Mapping[int, str],
                     per_section: int = EXTRACTED_PER_SECTION) -> dict[str, list[SummaryBullet]]:
    """Top document sentences per section by cue words/numbers, with exact page spans."""
    scored: dict[str, list[tuple[float, int, Chunk, int, int]]] = {s.title: [] for s in specs}
    for c in chunks:
        if c.kind == "table":
            continue
        heads = heading_titles(c.section)
        for a, b in sentence_spans(c.text, headings=heads):  # "7. Limitation of Liability 7.1 …" -> the clause
            sent = c.text[a:b]
            if len(sent) < 40 or sent in heads or addresses_ai(sent):  # a planted instruction is not a point of the document
                continue
            for s in specs:
                score = cue_score(s, sent, c.section)
                if score > 0:
                    scored[s.title].append((score, -c.ordinal, c, a, b))
    used: list[set[str]] = []
    out: dict[str, list[SummaryBullet]] = {}
    for s in specs:
        picks: list[SummaryBullet] = []
        for _, _, c, a, b in sorted(scored[s.title], key=lambda t: (t[0], t[1]), reverse=True):
            words = content_words(c.text[a:b])
            if any(overlap(words, u) > 0.7 for u in used):
                continue
            spans = _chunk_spans(page_map, c, a, b)
            pages = sorted({sp.page for sp in spans}) or [c.page_start]
            picks.append(SummaryBullet(c.text[a:b], pages, spans, "extracted"))
            used.append(words)
            if len(picks) >= per_section:
                break
        out[s.title] = picks
    return out


def _chunk_spans(page_map: Mapping[int, str], c: Chunk, a: int, b: int) -> list[Span]:
    if any(p not in page_map for p in range(c.page_start, c.page_end + 1)):
        return []
    return chunk_offsets_to_spans(page_map, c, a, b)


# -- windows and map-reduce ------------------------------------------------------------------

def plan_windows(doc_type: str, chunks: Sequence[Chunk], llm: LLM, max_windows: int) -> tuple[list[Window], int]:
    """Consecutive chunks of one top-level section per window, within the context budget;
    at most ``max_windows``, chosen by section priority (then spread over the document).
    Returns (chosen windows in document order, number of windows the document makes)."""
    budget = max(256, min(WINDOW_TOKENS, llm.n_ctx() - MAP_TOKENS - PROMPT_OVERHEAD))
    counts = llm.count_tokens([c.text for c in chunks])
    windows: list[Window] = []
    for c, n in zip(chunks, counts):
        top = group_key(c.section)
        cur = windows[-1] if windows else None
        if cur and group_key(cur.chunks[-1].section) == top and cur.tokens + n <= budget:
            cur.chunks.append(c)
            cur.tokens += n
        elif n <= budget:
            windows.append(Window([c], n, section_priority(doc_type, c.section)))
    if len(windows) <= max_windows:
        return windows, len(windows)
    unlisted = len(PRIORITY_SECTIONS.get(doc_type, ()))
    return [windows[i] for i in sorted(_pick(windows, max_windows, unlisted))], len(windows)


def _pick(windows: list[Window], n: int, unlisted: int) -> list[int]:
    """Round-robin over the priority sections (the first part of Item 1, of Item 1A, of
    Item 7…, then the second parts…); unlisted sections last, spread over the document."""
    groups: dict[int, list[int]] = {}
    for i, w in enumerate(windows):
        groups.setdefault(w.priority, []).append(i)
    listed = [groups[p] for p in sorted(groups) if p != unlisted]
    rest = sorted(groups.get(unlisted, []), key=lambda i: _spread_rank(i, len(windows)))
    order: list[int] = []
    for r in range(max((len(g) for g in listed), default=0)):
        order.extend(g[r] for g in listed if r < len(g))
    return (order + rest)[:n]


_TOP_HEADING = re.compile(r"(?:item|article|section|schedule|exhibit)\s+[0-9ivx]", re.IGNORECASE)


def group_key(section: str) -> str:
    """The top-level section a chunk belongs to: the path up to its "Item 7"/"Article 5"
    component (document titles and "PART II" above it are not sections of their own)."""
    parts = section.split(" > ")
    for i, part in enumerate(parts):
        if _TOP_HEADING.match(part):
            return " > ".join(parts[: i + 1])
    return " > ".join(parts[:2])


def _spread_rank(i: int, n: int) -> int:
    """Visit order that spreads picks over the document: 0, n/2, n/4, 3n/4, …"""
    bits = max(1, (n - 1).bit_length())
    return int(format(i, f"0{bits}b")[::-1], 2)


def _generate(llm: LLM, messages: list, max_tokens: int, on_token: Callable[[str], None] | None,
              cancel: CancelToken | None) -> str:
    pieces: list[str] = []
    for piece in llm.stream_chat(messages, max_tokens=max_tokens, temperature=0.1, cancel=cancel):
        pieces.append(piece)
        if on_token is not None:
            on_token(piece)
    if cancel is not None:
        cancel.raise_if_cancelled()
    return "".join(pieces)


def _map_reduce(specs: Sequence[SectionSpec], windows: list[Window], llm: LLM, on_token: Callable[[str], None] | None,
                progress: ProgressFn, cancel: CancelToken | None) -> list[tuple[str, str, list[int]]]:
    headings = [s.title for s in specs]
    facts: list[str] = []
    for i, w in enumerate(windows):
        if cancel is not None:
            cancel.raise_if_cancelled()
        progress(Progress("summarize", i, len(windows) + 1, "windows", f"Reading part {i + 1} of {len(windows)}"))
        facts.append(_generate(llm, map_messages(headings, w.text()), MAP_TOKENS, None, cancel))
    mapped = parse_bullets("\n".join(facts), headings)
    progress(Progress("summarize", len(windows), len(windows) + 1, "windows", "Combining"))
    joined = "\n".join(f"{h}: {t} [p{p[0] + 1}]" for h, t, p in mapped if p)
    if len(windows) > 1 and joined and llm.count_tokens([joined])[0] + REDUCE_TOKENS + PROMPT_OVERHEAD <= llm.n_ctx():
        reduced = parse_bullets(_generate(llm, reduce_messages(headings, joined), REDUCE_TOKENS, on_token, cancel), headings)
        if reduced:
            return reduced
    return mapped


def parse_bullets(text: str, headings: Sequence[str]) -> list[tuple[str, str, list[int]]]:
    """(heading, bullet text, 0-based pages) from model output; heading "" when none matched."""
    out: list[tuple[str, str, list[int]]] = []
    current = ""
    lower = {h.lower(): h for h in headings}
    for line in text.splitlines():
        bare = re.sub(r"^[\s#*_]+|[\s#*_:]+$", "", line).strip()
        if bare.lower() in lower:
            current = lower[bare.lower()]
            continue
        heading, _, rest = bare.partition(":")
        if heading.strip().lower() in lower and rest.strip():
            current, bare = lower[heading.strip().lower()], rest.strip()
        elif not (_BULLET.match(line) or _PAGE_TAG.search(line)):
            # prose instead of bullets (small models): each sentence is a candidate; the
            # page check in attach_pages decides what survives
            out.extend((current, sent, []) for sent in split_sentences(bare) if len(sent.split()) >= 5)
            continue
        pages = [int(a or b) - 1 for a, b in _PAGE_TAG.findall(bare)]
        body = _PAGE_TAG.sub("", _BULLET.sub("", bare)).strip(" -;,")
        if len(re.findall(r"[A-Za-z]{2,}", body)) >= 3:
            out.append((current, body, [p for p in pages if p >= 0]))
    unique: dict[str, tuple[str, str, list[int]]] = {}
    for item in out:
        unique.setdefault(item[1].lower(), item)
    return list(unique.values())


# -- page attachment and composition ---------------------------------------------------------

def attach_pages(raw: Sequence[tuple[str, str, list[int]]], specs: Sequence[SectionSpec], page_map: Mapping[int, str],
                 allowed: Sequence[int]) -> tuple[dict[str, list[SummaryBullet]], int]:
    """Keep generated bullets a page backs (cited page first, else the best allowed page)."""
    clean = {p: blank_instructions(page_map[p]) for p in allowed if p in page_map}  # planted instructions back nothing
    words = {p: content_words(t) for p, t in clean.items()}
    out: dict[str, list[SummaryBullet]] = {s.title: [] for s in specs}
    dropped = 0
    for heading, body, cited in raw:
        page = None if _META.match(body) else _backing_page(body, cited, words, clean)
        if page is None:
            dropped += 1
            continue
        title = heading if heading in out else _best_section(specs, body)
        out[title].append(SummaryBullet(body, [page], _best_sentence_span(body, page, clean[page]), "generated"))
    return out, dropped


def _backing_page(body: str, cited: list[int], words: Mapping[int, set[str]], page_map: Mapping[int, str]) -> int | None:
    bw = content_words(body)
    if not bw:
        return None
    candidates = [p for p in cited if p in words] + sorted(words, key=lambda p: overlap(bw, words[p]), reverse=True)[:5]
    for p in dict.fromkeys(candidates):
        if overlap(bw, words[p]) >= SUPPORT_OVERLAP and not missing_numbers(body, page_map[p]) \
                and _sentence_overlap(bw, page_map[p]) >= SENTENCE_OVERLAP:
            return p
    return None


def _sentence_overlap(bw: set[str], raw: str) -> float:
    """Best share of the bullet's words found together in ONE sentence of the page (words
    scattered over a page do not make a claim true)."""
    text = " ".join(raw.split())
    return max((overlap(bw, content_words(text[a:b])) for a, b in sentence_spans(text)), default=0.0)


def _best_section(specs: Sequence[SectionSpec], body: str) -> str:
    scores = [(cue_score(s, body, ""), -i, s.title) for i, s in enumerate(specs)]
    return max(scores)[2]


def _best_sentence_span(body: str, page: int, raw: str) -> list[Span]:
    norm, offsets = normalize_with_map(raw)
    bw = content_words(body)
    best, best_score = None, 0.0
    for a, b in sentence_spans(norm):
        score = overlap(content_words(norm[a:b]), bw) + overlap(bw, content_words(norm[a:b]))
        if score > best_score:
            best, best_score = (a, b), score
    if best is None:
        return []
    ra, rb = raw_span(offsets, *best)
    return [Span(page, ra, rb)]


def _compose(title: str, generated: list[SummaryBullet], extracted: list[SummaryBullet]) -> SummarySection:
    """Verified generated bullets first, then extracted ones, without near-duplicates."""
    bullets: list[SummaryBullet] = []
    seen: list[set[str]] = []
    counts = {"generated": 0, "extracted": 0}
    limits = {"generated": GENERATED_PER_SECTION, "extracted": EXTRACTED_PER_SECTION}
    for b in generated + extracted:
        w = content_words(b.text)
        if counts[b.source] >= limits[b.source] or any(overlap(w, s) > 0.7 for s in seen):
            continue
        seen.append(w)
        bullets.append(b)
        counts[b.source] += 1
    return SummarySection(title, bullets)
