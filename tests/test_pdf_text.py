"""read_pdf on generated PDFs (good and bad) and on real FinanceBench/CUAD files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from app.errors import Cancelled, PasswordRequired, PdfError
from app.ingest.classify import guess_doc_type
from app.ingest.pdf_text import read_pdf, sha256_file
from app.samples.pdf_writer import write_image_only_pdf, write_text_pdf
from app.text.normalize import normalize
from app.types import CancelToken
from tests.conftest import bench_pdf


def _encrypt(src: Path, dst: Path, user: str, owner: str = "owner") -> Path:
    import pypdf

    writer = pypdf.PdfWriter(clone_from=str(src))
    writer.encrypt(user_password=user, owner_password=owner)
    with open(dst, "wb") as fh:
        writer.write(fh)
    return dst


def test_reads_pages_title_hash(sample_pdf: Path) -> None:
    seen = []
    doc = read_pdf(sample_pdf, on_page=lambda p, n: seen.append((p.page, n)))
    assert doc.page_count == 3 and [p.page for p in doc.pages] == [0, 1, 2]
    assert doc.title == "Sample Annual Report"
    assert doc.sha256 == hashlib.sha256(sample_pdf.read_bytes()).hexdigest() == sha256_file(sample_pdf)
    assert "Item 1A. Risk Factors" in normalize(doc.pages[1].text)
    assert all(p.has_text for p in doc.pages) and not doc.encrypted
    assert seen == [(0, 3), (1, 3), (2, 3)]
    assert guess_doc_type(doc.title, doc.pages) == "annual_report"


def test_title_falls_back_to_first_line(tmp_path: Path) -> None:
    path = write_text_pdf(tmp_path / "x.pdf", ["MASTER SERVICES AGREEMENT\nThis Agreement is made by and between A and B."])
    doc = read_pdf(path)
    assert doc.title == "MASTER SERVICES AGREEMENT"
    assert guess_doc_type(doc.title, doc.pages) == "contract"


def test_empty_user_password_opens(tmp_path: Path, sample_pdf: Path) -> None:
    doc = read_pdf(_encrypt(sample_pdf, tmp_path / "e.pdf", user=""))
    assert doc.encrypted and doc.page_count == 3


def test_password_required_and_wrong_and_right(tmp_path: Path, sample_pdf: Path) -> None:
    path = _encrypt(sample_pdf, tmp_path / "p.pdf", user="s3cret")
    with pytest.raises(PasswordRequired, match="--password"):
        read_pdf(path)
    with pytest.raises(PasswordRequired, match="wrong password"):
        read_pdf(path, password="nope")
    assert read_pdf(path, password="s3cret").page_count == 3


def test_image_only_pages_have_no_text(tmp_path: Path) -> None:
    doc = read_pdf(write_image_only_pdf(tmp_path / "scan.pdf", 2))
    assert [p.has_text for p in doc.pages] == [False, False]
    assert doc.textless_pages == [0, 1]


@pytest.mark.parametrize("name, content, message", [
    ("missing.pdf", None, "not found"),
    ("zero.pdf", b"", "empty"),
    ("rand.pdf", os.urandom(5000).replace(b"%PDF-", b""), "not a PDF"),
    ("trunc.pdf", "truncate", "damaged"),
])
def test_bad_inputs_raise_pdf_error(tmp_path: Path, sample_pdf: Path, name: str, content, message: str) -> None:
    path = tmp_path / name
    if content == "truncate":
        content = sample_pdf.read_bytes()[:200]
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(PdfError, match=message) as info:
        read_pdf(path)
    assert path.name in str(info.value)


def test_zero_page_pdf(tmp_path: Path) -> None:
    import pypdf

    path = tmp_path / "nopages.pdf"
    with open(path, "wb") as fh:
        pypdf.PdfWriter().write(fh)
    with pytest.raises(PdfError, match="no pages|damaged"):  # PDFium refuses it at load
        read_pdf(path)


def test_cancel_between_pages(sample_pdf: Path) -> None:
    token = CancelToken()
    with pytest.raises(Cancelled):
        read_pdf(sample_pdf, cancel=token, on_page=lambda p, n: token.cancel())


@pytest.mark.shared
@pytest.mark.parametrize("name, kind", [("BESTBUY_2023_10K.pdf", "annual_report"), ("JPMORGAN_2021Q1_10Q.pdf", "quarterly_report"),
                                        ("FOOTLOCKER_2022_8K_dated-2022-05-20.pdf", "other")])
def test_real_financebench(name: str, kind: str) -> None:
    doc = read_pdf(bench_pdf("financebench", "pdfs", name))
    assert doc.page_count > 1 and sum(p.has_text for p in doc.pages) > 0.9 * doc.page_count
    assert "\r\n" in doc.pages[1].text
    assert guess_doc_type(doc.title, doc.pages) == kind
    if name.startswith("JPMORGAN"):
        assert len(doc.outline) > 50 and doc.outline[0].page == 0


@pytest.mark.shared
def test_real_encrypted_and_cuad() -> None:
    doc = read_pdf(bench_pdf("financebench", "pdfs", "BESTBUY_2023_10K.pdf"))
    assert doc.encrypted  # empty user password
    cuad = read_pdf(bench_pdf("cuad", "pdfs", "cuad-000.pdf"))
    assert guess_doc_type(cuad.title, cuad.pages) == "contract"
