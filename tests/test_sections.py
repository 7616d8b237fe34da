"""Heading detection: the patterns we want, and the look-alikes we must not take."""

from __future__ import annotations

import pytest

from app.ingest.pdf_text import OutlineEntry
from app.ingest.sections import detect_heading, find_headings, section_paths
from tests.conftest import bench_pdf


@pytest.mark.parametrize("line, level, label", [
    ("PART II", 0, "PART II"),
    ("Item 7. Management's Discussion and Analysis", 1, "Item 7. Management's Discussion and Analysis"),
    ("ITEM 7A. QUANTITATIVE AND QUALITATIVE DISCLOSURES ABOUT MARKET RISK", 1, None),
    ("Item 1A.", 1, "Item 1A."),
    ("ARTICLE 5", 1, "Article 5"),
    ("Article V - Term", 1, "Article V Term"),
    ("Section 12.3 Termination.", 2, "Section 12.3 Termination"),
    ("12.3 Termination. Either party may terminate this Agreement", 2, "12.3 Termination"),
    ("5. Term", 1, "5. Term"),
    ("SCHEDULE A", 0, "SCHEDULE A"),
    ("EXHIBIT B", 0, "EXHIBIT B"),
])
def test_headings(line: str, level: int, label: str | None) -> None:
    found = detect_heading(line)
    assert found is not None and found[0] == level
    if label:
        assert found[1] == label


@pytest.mark.parametrize("line", [
    "1. The Company shall deliver the goods within thirty days",
    "Item 7 of this report describes our results",
    "2023 Revenue",
    "Item 7. Management's Discussion ........ 25",
    "Item 7. Management's Discussion and Analysis 25",
    "Revenue grew 10% in 2023.",
    "",
])
def test_not_headings(line: str) -> None:
    assert detect_heading(line) is None


def test_section_paths_and_toc_page_ignored() -> None:
    names = ["Business", "Risk Factors", "Properties", "Legal Proceedings", "Market", "Selected Data"]
    toc = "Table of Contents\r\nPART I\r\n" + "\r\n".join(f"Item {i}. {n}\r\n{i + 3}" for i, n in enumerate(names, 1))
    body = ("PART II\r\nItem 7. Management's Discussion and Analysis\r\nWe grew.\r\n"
            "Liquidity and Capital Resources\r\nCash is fine and we have plenty of it.\r\n")
    paths = [p for _, p in section_paths(find_headings([toc, body]))]
    assert paths == ["PART II", "PART II > Item 7. Management's Discussion and Analysis",
                     "PART II > Item 7. Management's Discussion and Analysis > Liquidity and Capital Resources"]


def test_signature_and_form_lines_are_not_sub_headings() -> None:
    text = ("11. General\r\nNotices must be in writing.\r\nBy: Jane Smith, CEO    By: Tom Baker, COO\r\n"
            "Title: Director\r\nProperty, Plant and Equipment\r\nNet of depreciation.\r\n")
    paths = [p for _, p in section_paths(find_headings([text]))]
    assert paths == ["11. General", "11. General > Property, Plant and Equipment"]


def test_contract_paths() -> None:
    text = "ARTICLE 12\r\nTERMINATION\r\n12.3 Termination. Either party may end it.\r\n12.4 Survival. Terms survive.\r\n"
    paths = [p for _, p in section_paths(find_headings([text]))]
    assert paths == ["Article 12 TERMINATION", "Article 12 TERMINATION > 12.3 Termination",
                     "Article 12 TERMINATION > 12.4 Survival"]


def test_outline_wins_when_present() -> None:
    pages = ["Cover", "Intro text\r\nRisk Factors\r\nWe face risks.", "Results"]
    outline = [OutlineEntry(0, "Cover", 0), OutlineEntry(0, "Risk Factors", 1), OutlineEntry(1, "Results", 2)]
    hs = find_headings(pages, outline)
    assert [(h.page, h.offset, h.label) for h in hs] == [(0, 0, "Cover"), (1, 12, "Risk Factors"), (2, 0, "Results")]


@pytest.mark.shared
def test_real_10k_items_found() -> None:
    from app.ingest.pdf_text import read_pdf

    doc = read_pdf(bench_pdf("financebench", "pdfs", "CORNING_2020_10K.pdf"))
    labels = [h.label for h in find_headings(doc.pages, doc.outline) if h.level <= 1]
    for item in ("Item 1.", "Item 1A.", "Item 7.", "Item 8."):
        assert any(lbl.startswith(item) for lbl in labels), item
