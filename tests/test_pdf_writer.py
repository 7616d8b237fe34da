"""The sample PDF writer produces files PDFium reads back exactly (after normalisation)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.samples.pdf_writer import text_width, write_image_only_pdf, write_text_pdf
from app.text.normalize import normalize

pdfium = pytest.importorskip("pypdfium2")


def _extract(path: Path) -> tuple[list[str], dict[str, str]]:
    doc = pdfium.PdfDocument(str(path))
    try:
        texts = []
        for i in range(len(doc)):
            page = doc[i]
            tp = page.get_textpage()
            texts.append(tp.get_text_range())
            tp.close()
            page.close()
        return texts, doc.get_metadata_dict()
    finally:
        doc.close()


def test_round_trip_text_and_title(tmp_path: Path) -> None:
    pages = [
        "Hello (world) with a back\\slash\nSecond line: café — “quoted” €5 naïve\n\nItem 7. MD&A",
        "Page two\twith a tab",
        "",
    ]
    path = write_text_pdf(tmp_path / "a.pdf", pages, title="Tëst “title”")
    texts, meta = _extract(path)
    assert len(texts) == 3
    assert [normalize(t) for t in texts] == [normalize(p) for p in pages]
    assert meta["Title"] == "Tëst “title”"
    assert "\r\n" in texts[0]  # PDFium line breaks, as in real documents


def test_long_lines_wrap_and_long_pages_fit(tmp_path: Path) -> None:
    long_line = " ".join(f"word{i}" for i in range(400))
    many_lines = "\n".join(f"Line number {i} of a long page." for i in range(150))
    path = write_text_pdf(tmp_path / "b.pdf", [long_line, many_lines])
    texts, _ = _extract(path)
    assert normalize(texts[0]) == long_line
    assert texts[0].count("\r\n") > 5  # it was wrapped
    assert normalize(texts[1]) == normalize(many_lines)


def test_unrepresentable_characters_become_question_marks(tmp_path: Path) -> None:
    path = write_text_pdf(tmp_path / "c.pdf", ["Greek α and CJK 中"])
    texts, _ = _extract(path)
    assert normalize(texts[0]) == "Greek ? and CJK ?"


def test_image_only_pdf_has_no_text_but_an_image(tmp_path: Path) -> None:
    path = write_image_only_pdf(tmp_path / "scan.pdf", 3)
    texts, _ = _extract(path)
    assert texts == ["", "", ""]
    doc = pdfium.PdfDocument(str(path))
    kinds = {obj.type for obj in doc[0].get_objects()}
    doc.close()
    assert pdfium.raw.FPDF_PAGEOBJ_IMAGE in kinds


def test_text_width_uses_helvetica_metrics() -> None:
    assert text_width("i", 10) < text_width("W", 10)
    assert text_width("abc", 20) == pytest.approx(2 * text_width("abc", 10))
