"""Filing red flags on a generated 10-K-like PDF (real PDF writer, PDFium text, real chunker):
real events are found on the page that states them; the boilerplate every 10-K carries
(table of contents, safe-harbour notice, hypothetical risk factors, accounting policies,
auditor's standard wording, negations) raises nothing."""

from pathlib import Path

import pytest

from app.ingest.chunking import chunk_pages
from app.ingest.pdf_text import read_pdf
from app.risks.detect import review_document
from app.risks.taxonomy import load_taxonomy
from app.samples.pdf_writer import write_text_pdf
from app.settings import ChunkSettings

BOILERPLATE = (
    "ANNUAL REPORT ON FORM 10-K\n"
    "Item 7. Management's Discussion and Analysis. Item 9. Changes in and Disagreements with Accountants on "
    "Accounting and Financial Disclosure. Item 9A. Controls and Procedures.\n"
    "This report contains forward-looking statements within the meaning of the Private Securities Litigation "
    "Reform Act of 1995.\n"
    "Risk Factors. If we fail to maintain effective internal controls, we could identify a material weakness. "
    "We could be subject to cyberattacks that may disrupt our operations. In the event we were to fail to meet "
    "a covenant under our credit facility, the lenders could accelerate the debt.\n"
    "We test goodwill for impairment annually in the fourth quarter. Our audit included assessing the risk that "
    "a material weakness exists. There were no changes in or disagreements with accountants. No single customer "
    "accounted for more than 10% of net sales. We did not engage in any related party transactions."
)
EVENTS = (
    "Results of Operations.\n"
    "In the fourth quarter we recorded a goodwill impairment charge of $120 million related to our retail segment.\n"
    "Sales to our two largest customers accounted for 48% of net revenue in fiscal 2023.\n"
    "Management identified a material weakness in our internal control over financial reporting related to "
    "revenue recognition, which has not been remediated.\n"
    "In March 2023 we detected a ransomware attack that disrupted operations at two distribution centers.\n"
    "The SEC opened an investigation into our revenue recognition practices and issued a subpoena in May 2023."
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):
    path = write_text_pdf(Path(tmp_path_factory.mktemp("filing")) / "10k.pdf", [BOILERPLATE, EVENTS])
    parsed = read_pdf(path)
    chunks = chunk_pages("f", parsed.pages, parsed.outline, ChunkSettings())
    return parsed.pages, review_document("f", "annual_report", parsed.pages, chunks, None, load_taxonomy(), model=None)


def test_real_events_found_on_their_page(report) -> None:
    pages, rep = report
    found = {f.category_id: f for f in rep.present()}
    for cid, words in [("impairment", "goodwill impairment charge of $120 million"), ("concentration", "48% of net revenue"),
                       ("material_weakness", "identified a material weakness"), ("cyber_incident", "ransomware attack"),
                       ("litigation", "opened an investigation")]:
        assert cid in found, (cid, sorted(found))
        f = found[cid]
        assert f.page == 1 and f.spans and f.severity in ("high", "medium")
        highlighted = " ".join(pages[s.page].text[s.start:s.end] for s in f.spans).replace("\r\n", " ").replace("\n", " ")
        assert words in highlighted, (cid, highlighted)


def test_boilerplate_raises_nothing(report) -> None:
    _, rep = report
    found = {f.category_id for f in rep.present()}
    assert not found & {"auditor_change", "related_party", "covenant_breach", "going_concern", "restatement",
                        "liquidity_stress"}, found
    assert all(f.page == 1 for f in rep.present())  # nothing from the boilerplate page
    assert not any(f.group == "contract" for f in rep.findings)
