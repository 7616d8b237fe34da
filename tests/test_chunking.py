"""chunk_pages: exact raw regions, full ordered coverage, sections, tables, real documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.ingest.chunking import chunk_pages
from app.ingest.pdf_text import read_pdf
from app.samples.pdf_writer import write_text_pdf
from app.settings import ChunkSettings
from app.text.spans import chunk_text_from_pages
from app.types import Chunk, PageText
from tests.conftest import bench_pdf

S = ChunkSettings()


def check_invariants(pages: list[PageText], chunks: list[Chunk], settings: ChunkSettings = S) -> None:
    texts = [p.text for p in pages]
    for i, c in enumerate(chunks):
        assert c.ordinal == i
        assert c.text == chunk_text_from_pages(texts, c.page_start, c.char_start, c.page_end, c.char_end)
        assert not texts[c.page_start][c.char_start].isspace() and not texts[c.page_end][c.char_end - 1].isspace()
        assert len(c.text) <= settings.max_chars + settings.min_chars
    for a, b in zip(chunks, chunks[1:]):
        assert (a.page_end, a.char_end) <= (b.page_start, b.char_start)  # in order, no overlap
        if all(pages[p].has_text for p in range(a.page_end, b.page_start + 1)):
            gap = chunk_text_from_pages(texts, a.page_end, a.char_end, b.page_start, b.char_start)
            assert gap == ""  # nothing left out between neighbours


def _sentences(n: int, word: str = "widgets") -> str:
    return "\n".join(f"Sentence {i} talks about {word} and their markets in some detail." for i in range(n))


def test_generated_pdf(tmp_path: Path) -> None:
    pages = ["PART I\nItem 1. Business\n" + _sentences(40), _sentences(30, "gadgets"),
             "Item 7. Management's Discussion and Analysis\n" + _sentences(25, "revenue"),
             "Years Ended December 31, 2022 2021 2020\n"
             + "\n".join(f"Line item {i} ({i},577) ({i},248) ({i},090)" for i in range(60))]
    doc = read_pdf(write_text_pdf(tmp_path / "g.pdf", pages))
    chunks = chunk_pages("d", doc.pages, doc.outline, S)
    check_invariants(doc.pages, chunks)
    assert chunks[0].section == "PART I > Item 1. Business"
    assert any(c.page_start < c.page_end for c in chunks)  # spans a page break
    item7 = [c for c in chunks if "Item 7." in c.section]
    assert item7 and item7[0].text.startswith("Item 7.")  # a heading starts a chunk
    tables = [c for c in chunks if c.kind == "table"]
    assert len(tables) >= 2
    assert all(c.text.endswith("090)") for c in tables)  # rows never split
    assert "Years Ended December 31, 2022 2021 2020" in tables[-1].context


def test_empty_and_textless() -> None:
    assert chunk_pages("d", [], [], S) == []
    assert chunk_pages("d", [PageText(0, "scan", has_text=False)], [], S) == []
    pages = [PageText(0, "Alpha text here."), PageText(1, "junk", has_text=False), PageText(2, "Beta text here.")]
    chunks = chunk_pages("d", pages, [], S)
    assert [(c.page_start, c.page_end, c.text) for c in chunks] == [(0, 0, "Alpha text here."), (2, 2, "Beta text here.")]


def test_long_line_without_breaks_is_split() -> None:
    text = " ".join(f"Clause {i} says the supplier shall deliver." for i in range(200))
    pages = [PageText(0, text)]
    chunks = chunk_pages("d", pages, [], S)
    check_invariants(pages, chunks)
    assert len(chunks) > 5 and all(len(c.text) <= S.max_chars for c in chunks)


@pytest.mark.shared
@pytest.mark.parametrize("parts", [("financebench", "pdfs", "CORNING_2020_10K.pdf"), ("financebench", "pdfs", "JPMORGAN_2021Q1_10Q.pdf"),
                                   ("cuad", "pdfs", "cuad-000.pdf"), ("cuad", "pdfs", "cuad-001.pdf")])
def test_real_documents(parts: tuple[str, ...]) -> None:
    doc = read_pdf(bench_pdf(*parts))
    chunks = chunk_pages("d", doc.pages, doc.outline, S)
    check_invariants(doc.pages, chunks)
    assert len(chunks) > doc.page_count * 0.5
