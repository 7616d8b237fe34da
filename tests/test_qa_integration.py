"""Real parts end to end: generated PDF ► real ingest (MiniLM, Chroma on disk) ► bundled GGUF.

Kept to a few short calls: the CPU is shared. One model process and one index per module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from app.analysis.qa import answer_question
from app.analysis.summarize import summarize_document
from app.settings import Settings

pytestmark = pytest.mark.slow

PAGES = [
    "Harbor Freight Logistics Annual Report 2023\nItem 1. Business\nHarbor Freight Logistics operates 42 "
    "warehouses in Canada and ships parcels for online retailers.",
    "Item 1A. Risk Factors\nFuel prices may rise sharply. A cyber attack could interrupt our parcel tracking systems.",
    "Item 7. Management's Discussion and Analysis\nTotal revenue was $3,275 million in 2023, compared with "
    "$2,980 million in 2022.\nNet income was $415 million in 2023.",
]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from app.llm.bundled import bundled_model_path
    from app.samples.pdf_writer import write_text_pdf
    from app.service import Service

    try:
        bundled_model_path()
    except Exception as err:  # noqa: BLE001
        pytest.skip(f"bundled model not installed: {err}")
    tmp = tmp_path_factory.mktemp("qa")
    pdf = write_text_pdf(tmp / "harbor.pdf", PAGES, title="Harbor Freight Logistics 2023 Annual Report")
    settings = Settings()
    settings.llm_threads = 1  # contended cores: 1 thread is the fast setting here
    svc = Service(data_dir=tmp / "data", settings=settings)
    summary = svc.ingest([pdf])
    assert summary.ok, summary.to_dict()
    yield svc
    svc.close()


def _ask(svc, question: str):  # type: ignore[no-untyped-def]
    doc = svc.documents()[0]
    return answer_question(question, svc.retriever, svc.library.catalog, svc.workspace, svc.llm,
                           svc.library.embedder, doc_ids=[doc.id], answer_tokens=96)


def test_answer_evidence_points_at_the_right_page(service) -> None:  # type: ignore[no-untyped-def]
    a = _ask(service, "What was the total revenue in 2023?")
    assert not a.abstained and a.text
    top = a.evidence[0]
    assert "$3,275 million" in top.best_sentence
    span = top.best_sentence_spans[0]
    page_text = service.page_texts(top.doc_id)[span.page].text
    assert span.page == 2 and "Total revenue was $3,275 million" in " ".join(page_text[span.start:span.end].split())
    assert a.model and a.stats["answer_tokens"] > 0
    for s in a.sentences:  # every verdict is explained or supported
        assert s.supported or s.reasons


def test_unknown_company_abstains_with_evidence(service) -> None:  # type: ignore[no-untyped-def]
    a = _ask(service, "What was Contoso's total revenue in 2023?")
    assert a.abstained and 0 < len(a.evidence) <= 3


def test_real_model_summary_has_cited_sections(service) -> None:  # type: ignore[no-untyped-def]
    doc = service.documents()[0]
    chunks = service.library.catalog.chunks(service.workspace, doc.id)
    s = summarize_document(doc, service.page_texts(doc.id), chunks, service.llm, max_windows=1)
    assert [x.title for x in s.sections] == ["Business", "Key figures", "Material risks", "Outlook"]
    assert any(sec.bullets for sec in s.sections)
    for sec in s.sections:
        for b in sec.bullets:
            assert b.pages and all(0 <= p < len(PAGES) for p in b.pages)
