"""A whole working session with every real part, under the strict network guard.

Run by ``tests/test_offline.py`` (as a child process, under ``strace`` where available):
``python tests/offline_workflow.py DATA_DIR RESULT_JSON``. It ingests a 10-K-like filing
and the sample contract (real PDFs, parse worker process, real MiniLM embedder, real Chroma
on disk), asks a question, summarises and reviews with the real bundled GGUF model in its
own process, checks the store, verifies the audit trail, and writes what happened
(including every outbound attempt the guard saw in this process) to RESULT_JSON. Child
processes record their attempts in ``$DOSSIER_NETWORK_RECORD`` (set by the test).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import netguard  # noqa: E402
from app.samples.pdf_writer import write_text_pdf  # noqa: E402
from app.samples.sample_docs import write_sample_agreement  # noqa: E402
from app.service import Service  # noqa: E402
from app.settings import Settings  # noqa: E402

FILING = [
    "Acme Corp\nAnnual Report on Form 10-K\nItem 1. Business\nAcme sells anvils to coyotes across North America.",
    "Item 7. Management's Discussion and Analysis\nCapital expenditures were $1,577 million in 2019, "
    "up from $1,204 million in 2018.\nRevenue was $9,310 million in 2019.",
]


def run(data: Path) -> dict:
    pdfs = [write_text_pdf(data.parent / "acme.pdf", FILING, title="Acme 10-K 2019"),
            write_sample_agreement(data.parent / "msa.pdf")]
    settings = Settings(embedder="minilm", llm_threads=1)
    out: dict = {}
    with netguard.session("strict"), Service(data, settings) as svc:
        added = svc.ingest(pdfs)
        ids = {d.title: d.id for d in added.added}
        acme, msa = ids["Acme 10-K 2019"], next(v for k, v in ids.items() if k != "Acme 10-K 2019")
        answer = svc.ask("What were capital expenditures in 2019?", doc_ids=[acme])
        summary = svc.summarize(acme)
        review = svc.review(msa)
        check = svc.check_store()
        verify = svc.audit.log.verify()
        out = {
            "added": len(added.added), "failed": [f.message for f in added.failed],
            "embedder": svc.library.embedder.identity,
            "answer_evidence_pages": [[e.page_start, e.page_end] for e in answer.evidence],
            "answer_text": answer.text,
            "summary_bullets": sum(len(s.bullets) for s in summary.sections),
            "review_findings": len(review.present()),
            "store_ok": check.ok,
            "audit": {"ok": verify.ok, "entries": verify.entries,
                      "events": [e["event"] for e in svc.audit.log.entries()],
                      "model_sha256": [(e.get("model") or {}).get("sha256") for e in svc.audit.log.entries()]},
            "guard_mode_in_session": netguard.mode(),
            "model_process_guard": svc.llm.info.extra.get("process", {}).get("network_guard"),
        }
        out["attempts"] = [a.to_dict() for a in netguard.attempts()]
    return out


if __name__ == "__main__":
    result = run(Path(sys.argv[1]))
    Path(sys.argv[2]).write_text(json.dumps(result, indent=1), encoding="utf-8")
