"""Real review of 3 CUAD contracts: real PDF text, real chunker, real MiniLM, shipped model.

Skips cleanly when ../shared/bench is absent."""

import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"
CUAD = BENCH / "cuad"

pytestmark = [pytest.mark.shared, pytest.mark.slow,
              pytest.mark.skipif(not (CUAD / "contracts.jsonl").exists(), reason="../shared/bench/cuad absent")]


@pytest.fixture(scope="module")
def embedder():
    from app.embed.base import load_embedder

    return load_embedder("minilm")


def _rows(n: int = 3) -> list[dict]:
    rows = []
    for line in (CUAD / "contracts.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        if any(c["category"] == "Governing Law" for c in row["clauses"]):
            rows.append(row)
        if len(rows) == n:
            return rows
    return rows


def test_governing_law_found_on_right_page(embedder) -> None:
    from app.ingest.chunking import chunk_pages
    from app.ingest.pdf_text import read_pdf
    from app.ingest.pipeline import embedding_text
    from app.risks.detect import review_document
    from app.risks.model import RiskModel
    from app.risks.taxonomy import load_taxonomy
    from app.risks.labels import alnum_stream, locate
    from app.settings import ChunkSettings

    assert RiskModel.load() is not None, "the shipped clause model is missing (tools/train_risk_model.py)"
    tax = load_taxonomy()
    for row in _rows():
        parsed = read_pdf(CUAD / row["pdf"])
        chunks = chunk_pages("doc", parsed.pages, parsed.outline, ChunkSettings())
        vectors = dict(zip([c.id for c in chunks], embedder.embed([embedding_text(c) for c in chunks])))
        rep = review_document("doc", "contract", parsed.pages, chunks, vectors, tax, embedder)
        gl = next(f for f in rep.findings if f.category_id == "governing_law")
        assert gl.kind == "present", row["pdf"]
        stream = alnum_stream(parsed.pages)
        gold_pages = set()
        for clause in (c for c in row["clauses"] if c["category"] == "Governing Law"):
            iv = locate(stream, clause["text"])
            assert iv is not None
            gold_pages |= {p for p in range(len(parsed.pages)) if stream.page_base[p] <= iv[0] < stream.page_base[p] + len(stream.prefix[p]) and stream.pos(p, 10**9) > iv[0]}
        assert gl.page in gold_pages, (row["pdf"], gl.page, gold_pages, gl.quote)
        assert gl.value and gl.value["jurisdiction"].lower() in row["answers"]["Governing Law"].lower()
        text = parsed.pages[gl.spans[0].page].text[gl.spans[0].start:gl.spans[0].end]
        assert gl.quote.split()[0] in text


def test_highlights_and_quotes_start_where_their_sentence_starts() -> None:
    """cuad-028 through the real reader, chunker and shipped model: before highlights grew back
    to the sentence start, Cap On Liability was quoted from "days after the final resolution"
    and Change Of Control from "modifications to the extent" (mid-sentence pieces)."""
    from app.ingest.chunking import chunk_pages
    from app.ingest.pdf_text import read_pdf
    from app.risks.detect import review_document
    from app.risks.taxonomy import load_taxonomy
    from app.settings import ChunkSettings

    parsed = read_pdf(CUAD / "pdfs" / "cuad-028.pdf")
    chunks = chunk_pages("doc", parsed.pages, parsed.outline, ChunkSettings())
    rep = review_document("doc", "contract", parsed.pages, chunks, None, load_taxonomy(), None)
    present = [f for f in rep.findings if f.kind == "present"]
    assert len(present) >= 10
    for f in present:
        assert not f.quote[:1].islower(), (f.category_name, f.quote[:80])
        first = parsed.pages[f.spans[0].page].text[f.spans[0].start:f.spans[0].end]
        assert " ".join(first.split()).startswith(" ".join(f.quote.split()[:3])), (f.category_name, first[:80])
