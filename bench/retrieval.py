"""Retrieval benchmark on FinanceBench: page recall@k, MRR and query latency, hybrid vs dense.

Builds (or reuses, with --data-dir) an index of the documents the questions refer to with
``Service.ingest`` — the product's own path — then asks every question scoped to its document. A question counts as found at k if any of
the top-k hits' page span [page_start, page_end] covers one of its gold evidence pages
(0-based). Latency is wall time of HybridRetriever.search, query embedding included.

    .venv/bin/python bench/retrieval.py --data-dir /tmp/fb-data --out bench/results/retrieval.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.retrieval import HybridRetriever  # noqa: E402
from app.service import Service  # noqa: E402
from app.settings import Settings  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "bench" / "financebench"
KS = (1, 5, 10)


def load_questions(data: Path) -> list[dict[str, Any]]:
    with open(data / "questions.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def build_index(data: Path, data_dir: Path, doc_names: list[str], embedder: str, threads: int) -> tuple[Any, dict[str, str], dict[str, Any]]:
    """Index the documents through ``Service.ingest`` (the product's own path; resumable: a
    document already indexed in ``data_dir`` is unchanged and skipped)."""
    settings = Settings.load(data_dir)
    settings.embedder, settings.embed_threads = embedder, threads
    svc = Service(data_dir, settings)
    t0 = time.perf_counter()
    have = {Path(d.path).stem for d in svc.documents() if d.status == "indexed"}
    added = []
    if set(doc_names) - have:  # (a complete index is only read: another bench may hold the folder)
        summary = svc.ingest([data / "pdfs" / f"{n}.pdf" for n in doc_names], password="")
        if summary.failed:
            print(f"failed: {[f.to_dict() for f in summary.failed]}", file=sys.stderr)
        added = summary.added
    build_s = time.perf_counter() - t0
    docs = {Path(d.path).stem: d.id for d in svc.documents() if d.status == "indexed"}
    stats = {"chunks": sum(d.chunk_count for d in svc.documents() if d.status == "indexed"),
             "ingest_s_new": round(build_s, 1), "new_documents": len(added),
             "new_pages_per_s": round(sum(d.page_count for d in added) / build_s, 2) if added else None}
    return svc, docs, stats


def covers(hit: Any, gold: set[int]) -> bool:
    return any(hit.page_start <= g <= hit.page_end for g in gold)


def evaluate(retriever: HybridRetriever, questions: list[dict[str, Any]], docs: dict[str, str], mode: str) -> dict[str, Any]:
    retriever.search("warm up the query path", doc_ids=list(docs.values())[:1], mode=mode)  # type: ignore[arg-type]
    found = {k: 0 for k in KS}
    rr, times, misses = [], [], []
    for q in questions:
        gold = {int(e["evidence_page_num"]) for e in q["evidence"]}
        t0 = time.perf_counter()
        hits = retriever.search(q["question"], doc_ids=[docs[q["doc_name"]]], k=max(KS), mode=mode)  # type: ignore[arg-type]
        times.append((time.perf_counter() - t0) * 1000)
        first = next((i for i, h in enumerate(hits) if covers(h, gold)), None)
        for k in KS:
            found[k] += first is not None and first < k
        rr.append(0.0 if first is None else 1.0 / (first + 1))
        if first is None or first >= 5:
            misses.append(q["financebench_id"])
    n = len(questions)
    times.sort()
    out: dict[str, Any] = {f"recall@{k}": round(found[k] / n, 4) for k in KS}
    out.update(mrr=round(sum(rr) / n, 4), p50_ms=round(statistics.median(times), 1),
               p95_ms=round(times[min(n - 1, int(0.95 * n))], 1), n=n, misses_at_5=misses)
    return out


def run(args: argparse.Namespace, questions: list[dict[str, Any]], data_dir: Path) -> dict[str, Any]:
    doc_names = sorted({q["doc_name"] for q in questions})
    svc, docs, stats = build_index(args.data, data_dir, doc_names, args.embedder, args.threads)
    questions = [q for q in questions if q["doc_name"] in docs]
    weights = {k: float(v) for k, v in (p.split("=") for p in args.weights.split(","))}
    lib = svc.library
    retriever = HybridRetriever(lib.catalog, lib.vectors, lib.embedder, lib.workspace, candidates=args.candidates,
                                weights=weights)
    result: dict[str, Any] = {"embedder": lib.embedder.identity, "documents": len(docs), **stats,
                              "candidates": args.candidates, "weights": weights}
    for mode in args.modes.split(","):
        result[mode] = evaluate(retriever, questions, docs, mode)
    svc.close()
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=None, help="write the JSON result here")
    ap.add_argument("--data-dir", "--cache-dir", dest="data_dir", type=Path, default=None,
                    help="Dossier data folder to build (or reuse) the index in; shared with bench/qa.py")
    ap.add_argument("--embedder", default="minilm")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--candidates", type=int, default=50)
    ap.add_argument("--weights", default="lexical=1,dense=1")
    ap.add_argument("--modes", default="hybrid,dense,lexical")
    args = ap.parse_args(argv)
    if not (args.data / "questions.jsonl").exists():
        print(f"no FinanceBench data at {args.data}", file=sys.stderr)
        return 2
    questions = load_questions(args.data)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="dossier-bench-") as tmp:
        result = run(args, questions, args.data_dir or Path(tmp))
    summary = {m: {k: v for k, v in result[m].items() if k != "misses_at_5"} for m in args.modes.split(",")}
    print(json.dumps(summary, indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
