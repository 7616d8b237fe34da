"""Normalisation keeps an exact map back to PDFium's raw page text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.text.normalize import normalize, normalize_with_map, raw_span
from app.text.spans import chunk_offsets_to_spans, chunk_text_from_pages, locate_in_chunk, locate_in_page
from app.types import Chunk


def test_whitespace_and_hyphenation() -> None:
    raw = "Net  revenues\r\nincreased by exam\ufffe\r\nple 12%,\r\nrelated-\r\nparty  sales. "
    text, offsets = normalize_with_map(raw)
    assert text == "Net revenues increased by example 12%, related-party sales."
    assert len(offsets) == len(text) + 1 and offsets[-1] == len(raw)
    # every kept non-space character maps to the same raw character
    for i, ch in enumerate(text):
        if ch != " ":
            assert raw[offsets[i]] == ch


def test_raw_span_round_trip() -> None:
    raw = "Capital expenditures\r\n(1,577)   (1,248)"
    text, offsets = normalize_with_map(raw)
    i = text.index("(1,577)")
    a, b = raw_span(offsets, i, i + len("(1,577)"))
    assert raw[a:b] == "(1,577)"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab -\r\n\t\ufffe.1")), max_size=60))
def test_map_is_monotonic_and_idempotent(raw: str) -> None:
    text, offsets = normalize_with_map(raw)
    assert offsets == sorted(offsets)
    assert normalize(text) == text.strip() or normalize(text) == text
    assert not text.startswith(" ") and not text.endswith(" ")


def _chunk(pages: list[str], p0: int, c0: int, p1: int, c1: int) -> Chunk:
    return Chunk("d", 0, chunk_text_from_pages(pages, p0, c0, p1, c1), "", p0, p1, c0, c1)


def test_spans_across_a_page_break() -> None:
    pages = ["Intro text.\r\nThe term of this Agree\ufffe\r\nment is five", "years from the Effective Date.\r\nOther."]
    start = pages[0].index("The term")
    end = pages[1].index("Date.") + len("Date.")
    chunk = _chunk(pages, 0, start, 1, end)
    assert chunk.text == "The term of this Agreement is five years from the Effective Date."
    a = chunk.text.index("five")
    spans = chunk_offsets_to_spans(pages, chunk, a, len(chunk.text))
    assert [s.page for s in spans] == [0, 1]
    assert pages[0][spans[0].start : spans[0].end] == "five"
    assert pages[1][spans[1].start : spans[1].end] == "years from the Effective Date."


def test_locate_tolerates_line_breaks() -> None:
    page = "This Agreement shall be governed by\r\nthe laws of the State of\r\nDelaware."
    a, b = locate_in_page(page, "governed by the laws of the State of Delaware")
    assert page[a:b].replace("\r\n", " ") == "governed by the laws of the State of Delaware"
    assert locate_in_chunk("alpha beta", "gamma") is None
