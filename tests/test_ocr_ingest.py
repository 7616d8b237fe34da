"""Scanned PDFs through the real Service: OCR in the parse child, search and highlights on
OCR'd pages, cancel mid-OCR, mixed documents, and OCR turned off.

Real parts: PDFs with image-only pages rendered by the tests, the parse child process, the
RapidOCR models, the SQLite catalog and Chroma on disk; only the embedder is the fake.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Iterator

import pytest

from app.embed.fake import FakeEmbedder
from app.ingest.ocr import char_accuracy
from app.samples.pdf_writer import GrayImage, write_mixed_pdf
from app.samples.scan import SAMPLE_LINES
from app.service import Service
from app.settings import Settings
from app.text.layout import PageLayout, span_boxes
from app.text.spans import chunk_offsets_to_spans, locate_in_chunk
from app.types import CancelToken, Progress
from ocr_helpers import CLEAN_ACCURACY_FLOOR, assert_boxes_on_word, clean_scan, word_box

pytestmark = pytest.mark.slow

TEXT_PAGE = "Annual Report 2022\nItem 1. Business\nWe design and sell industrial pumps worldwide."
BLANK = GrayImage(425, 550, bytes([255]) * (425 * 550))


def _service(data: Path, ocr: bool = True) -> Service:
    return Service(data, Settings(ocr=ocr), embedder=FakeEmbedder())


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, object, list[Progress]]]:
    """A text page, a scanned page and a blank scanned page, ingested once for this module."""
    folder = tmp_path_factory.mktemp("mixed")
    pdf = write_mixed_pdf(folder / "mixed.pdf", [TEXT_PAGE, clean_scan().image, BLANK], title="Pumps Annual Report")
    svc = _service(folder / "data")
    events: list[Progress] = []
    summary = svc.ingest([pdf], on_progress=events.append)
    assert summary.ok and len(summary.added) == 1, summary
    yield svc, summary.added[0], events
    svc.close()


def test_mixed_pdf_gets_text_layer_and_ocr_and_reports_both(mixed) -> None:  # type: ignore[no-untyped-def]
    svc, doc, events = mixed
    assert doc.ocr_pages == [1] and doc.textless_pages == [2]
    pages = svc.page_texts(doc.id)
    assert [(p.has_text, p.ocr) for p in pages] == [(True, False), (True, True), (False, True)]
    assert "industrial pumps" in pages[0].text and pages[0].layout == ""
    accuracy = char_accuracy(clean_scan().text, pages[1].text)
    print(f"\nOCR character accuracy through ingest (clean 12 pt, 200 dpi): {accuracy:.4f}")
    assert accuracy >= CLEAN_ACCURACY_FLOOR
    notes = [e.message for e in events if e.stage == "parse" and e.message]
    assert notes == ["page 2: OCR", "page 3 has no text; OCR found none"]
    ocr = [(e.done, e.total, e.message) for e in events if e.stage == "ocr"]
    assert ocr[0] == (0, 2, "OCR page 1/2") and ocr[-1][:2] == (2, 2)
    assert svc.document(doc.id).ocr_pages == [1]  # read back from the catalog
    assert doc.to_dict()["ocr_pages"] == [1]  # the ingest summary's JSON


def test_search_finds_words_of_the_scanned_page(mixed) -> None:  # type: ignore[no-untyped-def]
    svc, doc, _ = mixed
    hits = svc.search("impairment charge third quarter", doc_ids=[doc.id], k=3)
    assert hits and hits[0].page_start <= 1 <= hits[0].page_end
    assert "impairment" in hits[0].text
    assert any("Delaware" in h.text for h in svc.search("Delaware governing law", k=5))


def test_a_span_on_the_ocr_page_lands_on_the_word(mixed) -> None:  # type: ignore[no-untyped-def]
    """The route citations and risk findings take: chunk offsets → page span → boxes."""
    svc, doc, _ = mixed
    pages = svc.page_texts(doc.id)
    texts = [p.text for p in pages]
    layout = PageLayout.from_json(pages[1].layout)
    assert layout is not None
    scan = clean_scan()
    for word in ("impairment", "Delaware,", "covenants"):
        chunk = next(c for c in svc.library.catalog.chunks(svc.workspace, doc.id) if word in c.text)
        found = locate_in_chunk(chunk.text, word)
        assert found is not None
        (span,) = chunk_offsets_to_spans(texts, chunk, *found)
        assert span.page == 1 and texts[1][span.start:span.end] == word
        assert_boxes_on_word(span_boxes(layout, span.start, span.end), word_box(scan, word))


def test_cancel_during_ocr_leaves_no_half_indexed_document(tmp_path: Path) -> None:
    pdf = write_mixed_pdf(tmp_path / "scans.pdf", [clean_scan(SAMPLE_LINES[:3]).image] * 3)
    svc = _service(tmp_path / "data")
    cancel = CancelToken()
    seen: list[Progress] = []

    def stop_after_first_page(ev: Progress) -> None:
        seen.append(ev)
        if ev.stage == "ocr" and ev.done >= 1:
            cancel.cancel()

    try:
        summary = svc.ingest([pdf], on_progress=stop_after_first_page, cancel=cancel)
        assert summary.cancelled and not summary.added
        assert [e.done for e in seen if e.stage == "ocr"] == [0, 1], "stopped after the first OCR'd page"
        assert svc.documents() == [] and svc.library.vectors.count() == 0
        assert svc.library.catalog.pages(svc.workspace, "any") == []
        assert not [p for p in multiprocessing.active_children() if p.name.startswith("dossier-parse")]
    finally:
        svc.close()


def test_ocr_off_keeps_no_text_and_turning_it_on_reads_the_scan(tmp_path: Path) -> None:
    pdf = write_mixed_pdf(tmp_path / "scan.pdf", [TEXT_PAGE, clean_scan(["Termination for convenience"]).image])
    data = tmp_path / "data"
    svc = _service(data, ocr=False)
    events: list[Progress] = []
    try:
        doc = svc.ingest([pdf], on_progress=events.append).added[0]
        assert doc.textless_pages == [1] and doc.ocr_pages == []
        assert [e.message for e in events if e.stage == "parse" and e.message] == ["page 2 has no text; OCR not run"]
        assert not [e for e in events if e.stage == "ocr"]
        assert not any("convenience" in h.text for h in svc.search("termination convenience"))
        assert svc.ingest([pdf]).unchanged, "with OCR off an unchanged file is skipped"
    finally:
        svc.close()
    svc = _service(data, ocr=True)
    try:
        summary = svc.ingest([pdf])  # same bytes: re-read because its scanned page was never OCR'd
        assert len(summary.added) == 1 and summary.added[0].ocr_pages == [1]
        hit = svc.search("termination convenience")[0]
        assert "Termination for convenience" in hit.text and hit.page_start <= 1 <= hit.page_end
        assert svc.ingest([pdf]).unchanged, "once OCR'd it is not OCR'd again"
    finally:
        svc.close()


def test_cli_reports_ocr_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli.main import EXIT_OK, main

    monkeypatch.setenv("DOSSIER_EMBEDDER", "fake")
    pdf = write_mixed_pdf(tmp_path / "scan.pdf", [TEXT_PAGE, clean_scan(["Liability cap of two million dollars"]).image])
    assert main(["--data-dir", str(tmp_path / "data"), "ingest", str(pdf)]) == EXIT_OK
    out, err = capsys.readouterr()
    assert "scan.pdf: page 2: OCR" in err
    assert "; OCR: page 2" in out
