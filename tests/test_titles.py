"""Document titles (app.ingest.titles): filings named by registrant, form and period; contracts
by the agreement's name, not the exhibit label above it."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.ingest.classify import guess_doc_type
from app.ingest.pdf_text import read_pdf
from app.ingest.titles import guess_title, subject
from app.samples.pdf_writer import write_text_pdf
from app.store.fts import title_terms
from app.types import PageText
from tests.conftest import bench_pdf

COVER_10K = "\r\n".join([
    "UNITED STATES", "SECURITIES AND EXCHANGE COMMISSION", "Washington, D.C. 20549", "FORM 10-K",
    "ANNUAL REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE SECURITIES EXCHANGE ACT OF 1934",
    "For the fiscal year ended January 28, 2017", "OR", "Commission File Number 1-9595",
    "BEST BUY CO., INC.", "(Exact name of registrant as specified in its charter)", "Minnesota 41-0907483",
])


def page(text: str, n: int = 1, has_text: bool = True) -> PageText:
    return PageText(n, text, has_text)


def test_filing_cover_gives_registrant_form_and_period() -> None:
    title = guess_title("0000764478-17-000008", [page(COVER_10K)], "bby")
    assert title == "BEST BUY CO., INC. — Form 10-K, fiscal year ended January 28, 2017"


def test_filing_cover_beats_a_wrong_metadata_title() -> None:
    """Metadata titles of filings are often stale ("Nike 2023 Proxy" on a 10-K)."""
    assert guess_title("Nike 2023 Proxy", [page(COVER_10K)], "x").startswith("BEST BUY CO., INC. — Form 10-K")


def test_quarterly_cover_with_interleaved_columns() -> None:
    cover = "\r\n".join(["FORM 10-Q", "For the quarterly period ended Commission file", "March 31, 2021 number 1-5805",
                         "JPMorgan Chase & Co.", "(Exact name of registrant as specified in its charter)"])
    assert guess_title("CORP Q1 2021", [page(cover)], "x") == "JPMorgan Chase & Co. — Form 10-Q, quarter ended March 31, 2021"


def test_current_report_and_words_split_by_bare_line_feeds() -> None:
    """Some generators put a LF between words and CR LF between lines."""
    cover = "\r\n".join(["FORM\n8-K", "Date\nof\nReport\n(Date\nof\nearliest\nevent\nreported):\nMAY\n20,\n2022",
                         "Commission\nFile\nNumber\n1-10299", "Foot\nLocker,\nInc.",
                         "(Exact\nname\nof\nregistrant\nas\nspecified\nin\nits\ncharter)"])
    assert guess_title("", [page(cover)], "x") == "Foot Locker, Inc. — Form 8-K, report dated May 20, 2022"


def test_registrant_after_commission_file_number_without_label() -> None:
    cover = "\r\n".join(["FORM 10-K", "For the Fiscal Year Ended June 30, 2016",
                         "Commission File Number 001-37845", "MICROSOFT CORPORATION", "WASHINGTON 91-1144442"])
    assert guess_title("", [page(cover)], "x") == "MICROSOFT CORPORATION — Form 10-K, fiscal year ended June 30, 2016"


def test_registrant_line_cleaned_of_file_number_and_stray_spaces() -> None:
    cover = "\r\n".join(["FORM 10-K", "Commission File Number 001-37622 ______________ SQUARE, INC .",
                         "(Exact name of registrant as specified in its charter)"])
    assert guess_title("", [page(cover)], "x") == "SQUARE, INC. — Form 10-K"


def test_cover_image_then_cover_text_on_page_two() -> None:
    pages = [page("FORM 10-K"), page(COVER_10K, 2)]
    assert guess_title("", pages, "x").startswith("BEST BUY CO., INC. — Form 10-K")


@pytest.mark.parametrize("lines, expected", [
    (["EXHIBIT 10.3", "EXHIBIT 99.5", "INTELLECTUAL PROPERTY AGREEMENT",
      'THIS INTELLECTUAL PROPERTY AGREEMENT ("Agreement"), dated as of June 30, 2001, is entered into'],
     "INTELLECTUAL PROPERTY AGREEMENT"),
    (["Execution Version", "DEVELOPMENT AGREEMENT", "between Acme and Beta"], "DEVELOPMENT AGREEMENT"),
    (["CERTAIN CONFIDENTIAL INFORMATION CONTAINED IN THIS DOCUMENT, MARKED BY BRACKETS, HAS BEEN OMITTED AND",
      "FILED SEPARATELY WITH THE SECURITIES AND EXCHANGE COMMISSION.", "FIRST AMENDMENT TO SUPPLY AGREEMENT"],
     "FIRST AMENDMENT TO SUPPLY AGREEMENT"),
    (["EXHIBIT C", "FIRST AMENDMENT TO", "DISTRIBUTOR AGREEMENT", "This First Amendment is made"],
     "FIRST AMENDMENT TO DISTRIBUTOR AGREEMENT"),
    (["Exhibit 10.1", "Sales, Marketing, Distribution, and Supply Agreement {***}"],
     "Sales, Marketing, Distribution, and Supply Agreement"),
    (["EXHIBIT 10.3", "P.O. BOX 4324 . PHONE 713 / 880-6500 Contract No. 017", "TRANSPORTATION CONTRACT"],
     "TRANSPORTATION CONTRACT"),
    (["Exhibit 10.27", 'Under this e-business Hosting Agreement ("Agreement") between International', "Acme, Inc."],
     "Acme, Inc."),
    (["[LOGO] sicap", "Maintenance and support contract"], "Maintenance and support contract"),
    (["CONFIDENTIAL", "CONFIDENTIAL TREATMENT REQUESTED", "EX-10.2", "CONFIDENTIAL DISCLOSURE AGREEMENT"],
     "CONFIDENTIAL DISCLOSURE AGREEMENT"),
])
def test_contract_title_skips_labels_and_prefers_the_agreement_name(lines: list[str], expected: str) -> None:
    assert guess_title("", [page("\r\n".join(lines))], "stem") == expected


def test_metadata_title_kept_unless_junk_and_stem_last() -> None:
    body = [page("EXHIBIT 10.1\r\nSUPPLY AGREEMENT")]
    assert guess_title("Supply Agreement between Acme and Beta", body, "s") == "Supply Agreement between Acme and Beta"
    assert guess_title("Microsoft Word - supply.docx", body, "s") == "SUPPLY AGREEMENT"
    assert guess_title("", [page("", has_text=False)], "scan-0001") == "scan-0001"
    assert guess_title("", [page("Exhibit 10.1\r\n12345")], "stem") == "stem"


def test_press_release_titled_by_its_news_not_its_release_line() -> None:
    """Every release of a company starts "FOR IMMEDIATE RELEASE"; the first line of news tells
    them apart (contact lines are skipped, long lines shortened at a word)."""
    release = "\r\n".join(["FOR IMMEDIATE RELEASE", "Media contact: Jane Roe, +1 555 0100",
                            "\u2022 Second-quarter sales grew 6.3% to $25.5 billion, with operational growth of 7.5% "
                            "and adjusted earnings per share up 8.1%", "OVERALL FINANCIAL RESULTS"])
    title = guess_title("", [page(release)], "jnj-q2")
    assert title.startswith("Press release: Second-quarter sales grew 6.3% to $25.5 billion") and title.endswith("\u2026")
    assert len(title) <= len("Press release: ") + 101 and " up 8.1%" not in title
    short = "FOR IMMEDIATE RELEASE\r\nAcme reports record third-quarter sales and raises its outlook.\r\nMORE"
    assert guess_title("", [page(short)], "a") == "Press release: Acme reports record third-quarter sales and raises its outlook."
    wrapped = "FOR IMMEDIATE RELEASE\r\n\u2022 Sales declined 4.4% primarily driven by unfavorable\r\nforeign exchange."
    assert guess_title("", [page(wrapped)], "a") == "Press release: Sales declined 4.4% primarily driven by unfavorable\u2026"
    assert guess_title("", [page("FOR IMMEDIATE RELEASE\r\nContact: IR")], "jnj-q2") == "jnj-q2"
    assert guess_title("Acme Reports Record Quarter", [page(release)], "x") == "Acme Reports Record Quarter"
    for heading in ("INVESTORS' RIGHTS AGREEMENT", "MEDIA SERVICES AGREEMENT", "PRESS DISTRIBUTION AGREEMENT"):
        assert guess_title("", [page(f"EXHIBIT 10.2\r\n{heading}\r\nThis Agreement is made by Acme.")], "x") == heading


def test_real_pdf_contract_title_from_exhibit_page(tmp_path: Path) -> None:
    """Through the real reader (PDFium text): the exhibit label is not the title."""
    path = write_text_pdf(tmp_path / "ex.pdf", ["EXHIBIT 10.3\nRESELLER AGREEMENT\nThis Reseller Agreement is made "
                                                "by and between Acme Inc. and Beta LLC."])
    doc = read_pdf(path)
    assert doc.title == "RESELLER AGREEMENT"
    assert guess_doc_type(doc.title, doc.pages) == "contract"


@pytest.mark.parametrize("parts, expected", [
    (("cuad", "pdfs", "cuad-028.pdf"), "INTELLECTUAL PROPERTY AGREEMENT"),
    (("cuad", "pdfs", "cuad-001.pdf"), "STRATEGIC ALLIANCE AGREEMENT"),
    (("financebench", "pdfs", "BESTBUY_2017_10K.pdf"), "BEST BUY CO., INC. — Form 10-K, fiscal year ended January 28, 2017"),
    (("financebench", "pdfs", "JPMORGAN_2022Q2_10Q.pdf"), "JPMorgan Chase & Co. — Form 10-Q, quarter ended June 30, 2022"),
    (("financebench", "pdfs", "NIKE_2023_10K.pdf"), "NIKE, Inc. — Form 10-K, fiscal year ended May 31, 2023"),
    (("financebench", "pdfs", "JOHNSON_JOHNSON_2023Q2_EARNINGS.pdf"),
     "Press release: 2023 Second-Quarter reported sales growth of 6.3% to $25.5 Billion with operational growth of 7.5%*\u2026"),
])
def test_real_bench_titles(parts: tuple[str, ...], expected: str) -> None:
    assert read_pdf(bench_pdf(*parts)).title == expected


def test_subject_is_the_registrant_so_scoped_search_keeps_period_words() -> None:
    """Scoped search drops the title's words from the lexical query (the company name is on
    every page); "fiscal", "year", "quarter" and the month must stay in it."""
    title = guess_title("", [page(COVER_10K)], "x")
    assert subject(title) == "BEST BUY CO., INC."
    assert subject("SUPPLY AGREEMENT") == "SUPPLY AGREEMENT"
    assert title_terms(subject(title)) == {"best", "buy", "inc"}
    news = guess_title("", [page("FOR IMMEDIATE RELEASE\r\nSecond-quarter sales grew 6.3% on strong demand.")], "x")
    assert news.startswith("Press release: ") and subject(news) == ""  # its words are news, not a name


def test_hostile_cover_text_falls_back_to_the_file_name() -> None:
    """A 2 MB line without breaks, a run of brackets and stars, 200,000 label lines: no title
    is made up from them (and the parse child's time limit bounds the rest)."""
    for text in ("A" * 2_000_000, "(" * 500_000 + "*" * 500_000, "Exhibit 10.1\r\n" * 200_000):
        assert guess_title("", [page(text)], "report-2023") == "report-2023"
