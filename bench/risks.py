"""Risk-review benchmark on CUAD: document-level P/R/F1 and span recall per clause category,
for Dossier's detector (honest k-fold cross-validation by contract: every contract is scored
by a model that never saw it) and for a keyword-only baseline (the taxonomy's cue patterns).

    .venv/bin/python bench/risks.py [--data DIR] [--out FILE] [--limit N] [--cache-dir DIR] [--folds 5]

Parsing + chunking + embedding all 107 contracts takes many minutes on a shared CPU; it is
done once into --cache-dir and reused.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.risks.detect import review_document  # noqa: E402
from app.risks.labels import alnum_stream, locate, overlaps  # noqa: E402
from app.risks.model import RiskModel  # noqa: E402
from app.risks.taxonomy import load_taxonomy  # noqa: E402
from app.risks.train import Config, TrainDoc, folds, make_doc, train  # noqa: E402
from bench.risks_ingest import build_cache  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "bench" / "cuad"
MIN_POSITIVES = 10


def prepare(rows: list[dict[str, Any]], cache: dict[str, dict[str, Any]], taxonomy: Any) -> tuple[list[Any], list[TrainDoc]]:
    """Per contract: (row, entry, stream, gold) and its TrainDoc over the taxonomy's contract categories."""
    cats = taxonomy.enabled(("contract",))
    names, groups = [c.name for c in cats], [list(c.cues) for c in cats]
    meta, docs = [], []
    for row in rows:
        e = cache[row["id"]]
        gold: dict[str, list[str]] = defaultdict(list)
        for cl in row["clauses"]:
            gold[cl["category"]].append(cl["text"])
        docs.append(make_doc(e["pages"], e["chunks"], gold, names, groups))
        meta.append((row, e, alnum_stream(e["pages"]), gold))
    return meta, docs


def make_model(docs: list[TrainDoc], taxonomy: Any, trained_on: str = "", cfg: Config | None = None, **kw: Any) -> RiskModel:
    cats = taxonomy.enabled(("contract",))
    return train(docs, [c.id for c in cats], [list(c.cues) for c in cats], cfg, trained_on, **kw)


def _span_hits(finding: Any, pages: Any, stream: Any, clauses: list[str]) -> int:
    ivs = []
    for s in finding.spans:
        a, b = stream.pos(s.page, s.start), stream.pos(s.page, s.end)
        if b > a:
            ivs.append((a, b))
    n = 0
    for cl in clauses:
        g = locate(stream, cl)
        if g and any(overlaps(iv, g, max(1, min(10, (g[1] - g[0]) // 2))) for iv in ivs):
            n += 1
    return n


def evaluate(meta: list[Any], reports: dict[str, Any], taxonomy: Any) -> dict[str, Any]:
    cats = taxonomy.enabled(("contract",))
    per: dict[str, Any] = {}
    for cat in cats:
        tp = fp = fn = spans_found = spans_total = positives = 0
        for row, e, stream, gold in meta:
            f = next((x for x in reports[row["id"]].findings if x.category_id == cat.id and x.kind == "present"), None)
            truth = cat.name in gold
            positives += truth
            tp, fp, fn = tp + (truth and f is not None), fp + (not truth and f is not None), fn + (truth and f is None)
            if truth:
                spans_total += len(gold[cat.name])
                spans_found += _span_hits(f, e["pages"], stream, gold[cat.name]) if f else 0
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        per[cat.name] = {"positives": positives, "doc_precision": round(p, 4), "doc_recall": round(r, 4),
                         "doc_f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
                         "span_recall": round(spans_found / spans_total, 4) if spans_total else 0.0}
    scored = [v for v in per.values() if v["positives"] >= MIN_POSITIVES]
    mean = lambda k: round(float(np.mean([v[k] for v in scored])), 4) if scored else 0.0  # noqa: E731
    return {"macro_doc_f1": mean("doc_f1"), "macro_doc_precision": mean("doc_precision"),
            "macro_doc_recall": mean("doc_recall"), "macro_span_recall": mean("span_recall"),
            "n_categories": len(scored), "per_category": per}


def _review(entry: dict[str, Any], doc_id: str, taxonomy: Any, model: Any) -> Any:
    vectors = {c.id: v for c, v in zip(entry["chunks"], entry["vectors"])}
    return review_document(doc_id, "contract", entry["pages"], entry["chunks"], vectors, taxonomy, None, model=model)


def _timing(seconds: list[tuple[float, int]]) -> dict[str, Any]:
    secs = np.array([s for s, _ in seconds])
    long = [s for s, p in seconds if 25 <= p <= 40]
    return {"seconds_per_contract": round(float(secs.mean()), 3), "seconds_per_contract_max": round(float(secs.max()), 3),
            "seconds_30_pages_est": round(float(np.mean([s / max(1, p) for s, p in seconds]) * 30), 3),
            "seconds_25_to_40_pages_mean": round(float(np.mean(long)), 3) if long else None}


def service_timing(pdf: Path, runs: int = 3) -> dict[str, Any]:
    """End to end through the facade, as the app does it: ingest ``pdf`` (real MiniLM) into a
    fresh data folder, then time ``Service.review(force=True)`` ``runs`` times."""
    import os
    import tempfile

    from app.service import Service
    from app.settings import Settings

    with tempfile.TemporaryDirectory() as tmp, Service(Path(tmp) / "data", Settings()) as svc:
        svc.ingest([pdf])
        doc = next(d for d in svc.documents() if d.status == "indexed")
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            rep = svc.review(doc.id, force=True)
            times.append(round(time.perf_counter() - t, 3))
        return {"pdf": pdf.name, "pages": doc.page_count, "chunks": doc.chunk_count, "seconds": times,
                "median": float(np.median(times)), "findings": len(rep.present()),
                "load_average_1min": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}


def run(args: argparse.Namespace) -> dict[str, Any]:
    rows = [json.loads(line) for line in (args.data / "contracts.jsonl").open(encoding="utf-8")]
    rows = rows[: args.limit] if args.limit else rows
    taxonomy = load_taxonomy()
    cache = build_cache(rows, args.data, args.cache_dir)
    meta, docs = prepare(rows, cache, taxonomy)
    dossier, keyword, seconds = {}, {}, []
    for k, held in enumerate(folds(len(rows), args.folds)):
        held_set = set(held.tolist())
        model = make_model([d for i, d in enumerate(docs) if i not in held_set], taxonomy)
        for i in held:
            row, e = meta[i][0], meta[i][1]
            rep = _review(e, row["id"], taxonomy, model)
            dossier[row["id"]], seconds = rep, seconds + [(rep.seconds, len(e["pages"]))]
            keyword[row["id"]] = _review(e, row["id"], taxonomy, None)
        print(f"fold {k + 1}/{args.folds} done", flush=True)
    result = {"dossier": evaluate(meta, dossier, taxonomy), "keyword": evaluate(meta, keyword, taxonomy)}
    service = service_timing(args.data / args.service_pdf) if args.service_pdf else None
    return {**result, **_timing(seconds), "service_review_30_pages": service, "n_contracts": len(rows), "folds": args.folds, "min_positives": MIN_POSITIVES,
            "pipeline": sorted({e["pipeline"] for e in cache.values()})}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "risks.json")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--cache-dir", type=Path, default=ROOT / ".cache" / "bench_risks")
    ap.add_argument("--service-pdf", default="pdfs/cuad-028.pdf",
                    help="contract (under --data) timed end to end through Service.review ('' to skip)")
    args = ap.parse_args(argv)
    if not (args.data / "contracts.jsonl").exists():
        print(f"No CUAD data at {args.data}", file=sys.stderr)
        return 2
    t = time.time()
    result = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    d, k = result["dossier"], result["keyword"]
    print(f"dossier macro doc F1 {d['macro_doc_f1']:.3f} (P {d['macro_doc_precision']:.3f} R {d['macro_doc_recall']:.3f}) "
          f"span recall {d['macro_span_recall']:.3f} | keyword F1 {k['macro_doc_f1']:.3f} span {k['macro_span_recall']:.3f} | "
          f"{result['seconds_per_contract']}s/contract | {time.time() - t:.0f}s total")
    return 0


if __name__ == "__main__":
    sys.exit(main())
