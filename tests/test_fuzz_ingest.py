"""A bounded fuzz run over the ingestion entry point: bytes -> PDF file -> ``Service.ingest``.

Hypothesis draws mutation recipes (byte flips, truncations, spliced PDF tokens, numbers
swapped for extremes, names swapped, duplicated runs; see ``hostile_corpus.apply_op``) and
applies them to valid generated PDFs. Every input goes through the real pipeline (parse
child with its limits, chunking, real Chroma, SQLite) in one Service, with the fake
embedder. Each must give a correct ingest or a clear per-file error — never an exception
out of ``ingest``, never a dead test process — and afterwards the first document is intact,
a good PDF still ingests and the store check is clean. Derandomized, 40 examples: the
same inputs on every run. The long run is ``bench/fuzz_ingest.py``.
"""

from __future__ import annotations

import collections
import hashlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import hostile_corpus as hc
from app.samples.pdf_writer import write_text_pdf
from app.service import Service
from app.settings import Settings

EXAMPLES = 40
#: Per-file parse limit for the fuzz run (the app's is 300 s): a stuck parse fails the file fast.
PARSE_TIMEOUT_S = 20

recipes = st.lists(st.tuples(st.sampled_from(hc.OPS), st.integers(0, 1 << 30), st.binary(max_size=48)),
                   min_size=1, max_size=6)


@pytest.mark.slow
def test_fuzzed_pdfs_fail_alone_or_ingest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.embed.fake import FakeEmbedder
    from app.ingest import parse_worker

    real_parse = parse_worker.parse_in_subprocess
    monkeypatch.setattr(parse_worker, "parse_in_subprocess",
                        lambda *a, **kw: real_parse(*a, **{**kw, "timeout_s": min(kw.get("timeout_s", 120), PARSE_TIMEOUT_S)}))
    seeds = hc.seed_pdfs(tmp_path / "seeds")
    names = sorted(seeds)
    outcomes: collections.Counter[str] = collections.Counter()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with Service(tmp_path / "data", Settings(), embedder=FakeEmbedder()) as svc:
        anchor = svc.ingest([write_text_pdf(tmp_path / "anchor.pdf", hc.good_pages("Anchor"))]).added[0]
        before = _state(svc, anchor.id)

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(seed=st.sampled_from(names), ops=recipes)
        def one_input(seed: str, ops: list[tuple[str, int, bytes]]) -> None:
            data = hc.mutate(seeds[seed], ops)
            path = inbox / f"fuzz-{hashlib.sha256(data).hexdigest()[:16]}.pdf"
            path.write_bytes(data)
            summary = svc.ingest([path])  # any exception here fails the test
            assert len(summary.added) + len(summary.failed) + len(summary.unchanged) == 1, summary.to_dict()
            for f in summary.failed:
                assert path.name in f.message and len(f.message) > 40, f.message
                outcomes["error: " + hc.failure_kind(f.message)] += 1
            for d in summary.added:
                assert len(svc.page_texts(d.id)) == d.page_count >= 1
                assert len(svc.library.catalog.chunks(svc.workspace, d.id)) == d.chunk_count
                outcomes["ingested"] += 1
            outcomes["unchanged"] += len(summary.unchanged)

        one_input()
        after = svc.ingest([write_text_pdf(tmp_path / "after.pdf", hc.good_pages("Afterwards"))])
        assert len(after.added) == 1 and svc.search("Afterwards Holdings revenue", doc_ids=[after.added[0].id])
        assert _state(svc, anchor.id) == before
        check = svc.check_store()
        assert check.ok, check.problems()
    print(f"\nfuzz outcomes over {sum(outcomes.values())} inputs: {dict(outcomes)}")
    assert sum(outcomes.values()) >= EXAMPLES and outcomes["ingested"] and len(outcomes) >= 3


def _state(svc: Service, doc_id: str) -> Any:
    chunks = svc.library.catalog.chunks(svc.workspace, doc_id)
    hits = svc.search("Anchor Holdings capital expenditures", doc_ids=[doc_id], k=3)
    return svc.document(doc_id).chunk_count, [(c.id, c.text) for c in chunks], [h.chunk_id for h in hits]
