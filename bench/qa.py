"""FinanceBench question answering: evidence recall, support and abstention, as JSON.

Each question is asked with :meth:`app.service.Service.ask` (what ``dossier ask --doc`` does),
scoped to its own document, through a real :class:`app.service.Service` index (MiniLM + Chroma + FTS5) and a
real GGUF model (the bundled SmolLM2-135M unless ``--model``). Abstention is measured on
unanswerable cases built by asking a sample of questions scoped to a *different* company's
document.

    .venv/bin/python bench/qa.py --limit 8 --abstain 4 --data-dir /tmp/fb-data --out /tmp/qa.json

Output: {"n", "evidence_page_recall", "fully_supported_share", "abstain_share", "model",
"seconds_per_question", "median_seconds_to_evidence" (when the Ask tab lists the passages),
"median_seconds_to_answer" (the same questions, answer written and checked), ...details}.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "bench" / "financebench"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="financebench folder (questions.jsonl, pdfs/)")
    p.add_argument("--out", type=Path, default=Path("qa.json"))
    p.add_argument("--model", default="", help="GGUF file (default: the bundled model)")
    p.add_argument("--limit", type=int, default=0, help="only the first N questions (0 = all 64)")
    p.add_argument("--abstain", type=int, default=16, help="unanswerable (wrong-document) cases to build")
    p.add_argument("--data-dir", type=Path, default=None, help="Dossier data folder to (re)use for the index")
    p.add_argument("--threads", type=int, default=1, help="model threads (1 is fastest on contended cores)")
    return p.parse_args(argv)


def load_questions(data: Path, limit: int) -> list[dict[str, Any]]:
    qs = [json.loads(line) for line in (data / "questions.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    return qs[:limit] if limit else qs


def abstain_cases(questions: list[dict[str, Any]], n: int) -> list[tuple[dict[str, Any], str]]:
    """(question, other doc_name): every k-th question paired with another company's document."""
    if n <= 0 or not questions:
        return []
    docs = sorted({(q["company"], q["doc_name"]) for q in questions})
    step = max(1, len(questions) // n)
    out: list[tuple[dict[str, Any], str]] = []
    for i, q in enumerate(questions[::step][:n]):
        others = [d for c, d in docs if c != q["company"]]
        if others:
            out.append((q, others[(i * 7) % len(others)]))
    return out


def ensure_index(svc: Any, data: Path, doc_names: set[str]) -> dict[str, str]:
    """Ingest the PDFs that are not indexed yet; doc_name -> doc id."""
    have = {Path(d.path).stem: d.id for d in svc.documents() if d.status == "indexed"}
    todo = [data / "pdfs" / f"{n}.pdf" for n in sorted(doc_names - set(have))]
    if todo:
        t = time.perf_counter()
        result = svc.ingest(todo, password="")
        print(f"ingested {len(todo)} PDFs in {time.perf_counter() - t:.0f}s; failed: "
              f"{[f.path for f in getattr(result, 'failed', [])]}", file=sys.stderr)
        have = {Path(d.path).stem: d.id for d in svc.documents() if d.status == "indexed"}
    return have


def ask(svc: Any, question: str, doc_id: str, args: argparse.Namespace) -> Any:
    """Exactly what ``dossier ask --doc ID`` does (k=6 passages, 160 answer tokens)."""
    return svc.ask(question, doc_ids=[doc_id])


def run(args: argparse.Namespace) -> dict[str, Any]:
    from app.analysis.qa import evidence_pages
    from app.errors import DossierError
    from app.service import Service
    from app.settings import Settings

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    questions = load_questions(args.data, args.limit)
    cases = abstain_cases(questions, args.abstain)
    settings = Settings()
    settings.llm_model, settings.llm_threads = args.model, args.threads
    data_dir = args.data_dir or Path(os.environ.get("TMPDIR", "/tmp")) / "dossier-bench-qa"
    rows: list[dict[str, Any]] = []
    with Service(data_dir=data_dir, settings=settings) as svc:
        ids = ensure_index(svc, args.data, {q["doc_name"] for q in questions} | {d for _, d in cases})
        t0 = time.perf_counter()
        for q in questions:
            if q["doc_name"] not in ids:
                rows.append({"id": q["financebench_id"], "error": "document not indexed"})
                continue
            try:
                a = ask(svc, q["question"], ids[q["doc_name"]], args)
            except DossierError as err:  # e.g. the model process hung on a loaded machine
                rows.append({"id": q["financebench_id"], "error": str(err)})
                print(json.dumps(rows[-1]), file=sys.stderr)
                continue
            gold = {e["evidence_page_num"] for e in q["evidence"]}
            rows.append({"id": q["financebench_id"], "hit": bool(gold & evidence_pages(a.evidence)),
                         "fully_supported": a.fully_supported, "abstained": a.abstained, "answer": a.text[:300],
                         "gold_pages": sorted(gold), "evidence_pages": [e.page for e in a.evidence],
                         "seconds": a.stats.get("total_s", 0.0),
                         # None when the answer abstained for weak evidence (no model run, all at once)
                         "seconds_to_evidence": a.stats.get("evidence_s")})
            print(json.dumps(rows[-1]), file=sys.stderr)
        answered_s = time.perf_counter() - t0
        abst = []
        for q, other in cases:
            if other in ids:
                try:
                    a = ask(svc, q["question"], ids[other], args)
                except DossierError as err:
                    abst.append({"id": q["financebench_id"], "doc": other, "error": str(err)})
                    continue
                abst.append({"id": q["financebench_id"], "doc": other, "abstained": a.abstained, "answer": a.text[:200]})
        model = svc.llm.info.name
    ok = [r for r in rows if "error" not in r]
    ok_abst = [c for c in abst if "error" not in c]
    n = len(ok)
    return {
        "n": n,
        "evidence_page_recall": round(sum(r["hit"] for r in ok) / n, 3) if n else 0.0,
        "fully_supported_share": round(sum(r["fully_supported"] for r in ok) / n, 3) if n else 0.0,
        "abstain_share": round(sum(c["abstained"] for c in ok_abst) / len(ok_abst), 3) if ok_abst else None,
        "model": model,
        "seconds_per_question": round(answered_s / max(1, n), 2),
        # the Ask tab lists the evidence when it is found, before the model writes (app.analysis.qa)
        "median_seconds_to_evidence": _median([r["seconds_to_evidence"] for r in ok]),
        "median_seconds_to_answer": _median([r["seconds"] for r in ok if r["seconds_to_evidence"] is not None]),
        "false_abstain_share": round(sum(r["abstained"] for r in ok) / n, 3) if n else 0.0,
        "abstain_cases": len(ok_abst),
        "errors": len(rows) - n + len(abst) - len(ok_abst),
        "questions": rows,
        "abstain_details": abst,
    }


def _median(values: list[Any]) -> float | None:
    xs = [float(v) for v in values if v is not None]
    return round(statistics.median(xs), 2) if xs else None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not (args.data / "questions.jsonl").exists():
        print(f"No FinanceBench data at {args.data}; pass --data.", file=sys.stderr)
        return 2
    result = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    summary = {k: v for k, v in result.items() if k not in ("questions", "abstain_details")}
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
