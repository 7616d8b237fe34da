"""Highlights start where their sentence starts (app.risks.select.from_sentence_start), on
chunks made by the real chunker."""

from __future__ import annotations

from app.ingest.chunking import chunk_pages
from app.risks.lexical import unit_text, units_of
from app.risks.select import MAX_LEAD_CHARS, Pick, from_sentence_start, to_spans
from app.settings import ChunkSettings
from app.types import PageText

OPENING = "The Indemnifying Party shall pay to the Indemnified Party in cash the amount for which it is entitled"
LONG = (f"1. Indemnification. {OPENING} " + "to be indemnified under this Section for the claims and losses "
        * 9 + "within fifteen (15) days after the final resolution of such Third Party Claim. 2. Notices. "
        "Notices shall be in writing.")


def _chunks(text: str, target: int, max_chars: int) -> tuple[list[PageText], list]:
    pages = [PageText(0, text)]
    return pages, chunk_pages("d", pages, [], ChunkSettings(target_chars=target, max_chars=max_chars, min_chars=100))


def _highlight(pages: list[PageText], pick: Pick) -> str:
    return " ".join(pages[s.page].text[s.start:s.end] for s in to_spans({p.page: p.text for p in pages}, pick))


def test_a_sentence_cut_into_scoring_pieces_is_quoted_from_its_start() -> None:
    """Sentences over ~500 characters are scored in pieces; the highlighted piece grows back
    to the start of its sentence, in the same chunk."""
    pages, chunks = _chunks(LONG, 2000, 3000)
    assert len(chunks) == 1
    units = units_of(chunks)
    tail = next(u for u in units if unit_text(chunks, u).endswith("Third Party Claim."))
    assert not unit_text(chunks, tail).startswith("The Indemnifying")  # a piece from mid-sentence
    pick = from_sentence_start(Pick(chunks[0], tail.start, tail.end, 0), chunks)
    assert pick.quote.startswith(OPENING) and pick.quote.endswith("Third Party Claim.") and not pick.lead
    assert _highlight(pages, pick).startswith(OPENING)


def test_a_chunk_that_begins_mid_sentence_takes_the_start_from_the_chunk_before() -> None:
    pages, chunks = _chunks(LONG, 300, 500)
    i = next(n for n, c in enumerate(chunks) if n and c.text[:1].islower())
    assert i == 1  # the sentence starts in the first chunk and goes on in the second
    pick = from_sentence_start(Pick(chunks[i], 0, min(80, len(chunks[i].text)), 0), chunks)
    assert pick.lead and pick.lead[0].chunk is chunks[i - 1]
    assert pick.quote.startswith(pick.lead[0].text) and len(pick.quote) <= MAX_LEAD_CHARS + 81
    highlight = _highlight(pages, pick)
    assert chunks[i].text[:80] in " ".join(highlight.split())
    assert pick.quote.startswith(OPENING) and highlight.startswith(OPENING)


def test_a_highlight_at_a_sentence_start_is_left_alone() -> None:
    pages, chunks = _chunks("Notices shall be in writing. Each party may assign this Agreement with consent.", 2000, 3000)
    start = chunks[0].text.index("Each party")
    pick = from_sentence_start(Pick(chunks[0], start, len(chunks[0].text), 0), chunks)
    assert (pick.start, pick.lead) == (start, []) and pick.quote == "Each party may assign this Agreement with consent."
    first = from_sentence_start(Pick(chunks[0], 0, 28, 0), chunks)
    assert first.quote == "Notices shall be in writing." and not first.lead
