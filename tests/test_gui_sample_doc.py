"""The bundled sample agreement: committed, deterministic, and carrying the risky clauses."""

from __future__ import annotations

from pathlib import Path

from app.samples.sample_docs import SAMPLE_PAGES, bundled_sample_path, sample_agreement, write_sample_agreement
from app.text.normalize import normalize


def test_committed_sample_matches_generator(tmp_path: Path) -> None:
    fresh = write_sample_agreement(tmp_path / "s.pdf")
    assert bundled_sample_path().read_bytes() == fresh.read_bytes(), \
        "regenerate with: .venv/bin/python -m app.samples.sample_docs"


def test_sample_text_round_trips_with_pdfium(tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(bundled_sample_path()))
    try:
        texts = [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()
    assert len(texts) == 4
    assert [normalize(t) for t in texts] == [normalize(p) for p in SAMPLE_PAGES]
    joined = " ".join(texts)
    for clause in ("automatically renew", "without limitation as to amount", "governed by the laws of the State of Delaware"):
        assert clause in normalize(joined)


def test_sample_copied_into_data_folder(tmp_path: Path) -> None:
    p = sample_agreement(tmp_path / "data")
    assert p.parent == tmp_path / "data" and p.read_bytes() == bundled_sample_path().read_bytes()
    assert sample_agreement(tmp_path / "data") == p  # idempotent
