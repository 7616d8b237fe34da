"""Retrieval benchmark on FinanceBench: page recall@k, MRR and query latency, hybrid vs dense.

Builds (or reuses, with --cache-dir) an index of the documents the questions refer to —
read_pdf -> chunk_pages -> embedder -> Catalog + VectorIndex, exactly what ingest stores —
then asks every question scoped to its document. A question counts as found at k if any of
the top-k hits' page span [page_start, page_end] covers one of its gold evidence pages
(0-based). Latency is wall time of HybridRetriever.search, query embedding included.

    .venv/bin/python bench/retrieval.py --cache-dir /tmp/fb-index --out /tmp/retrieval.json
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

from app.embed import load_embedder  # noqa: E402
from app.retrieval import HybridRetriever  # noqa: E402
from app.settings import ChunkSettings  # noqa: E402
from app.store import Catalog, VectorIndex, collection_name  # noqa: E402
from app.types import DocumentRecord  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "bench" / "financebench"
WS = "bench"
KS = (1, 5, 10)


def load_questions(data: Path) -> list[dict[str, Any]]:
    with open(data / "questions.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def embedding_text(chunk: Any) -> str:
    return f"{chunk.context}\n{chunk.text}" if chunk.context else chunk.text


def index_document(pdf: Path, cat: Catalog, vi: VectorIndex, emb: Any, chunking: ChunkSettings,
                   identity: str) -> tuple[str, int, float]:
    """Parse, chunk, embed and commit one PDF; returns (doc_id, chunks, embed seconds)."""
    from app.ingest.chunking import chunk_pages
    from app.ingest.pdf_text import read_pdf

    parsed = read_pdf(pdf)
    doc_id = parsed.sha256[:32]
    chunks = chunk_pages(doc_id, parsed.pages, parsed.outline, chunking)
    t0 = time.perf_counter()
    vectors = emb.embed([embedding_text(c) for c in chunks])
    seconds = time.perf_counter() - t0
    vi.add(chunks, vectors)
    rec = DocumentRecord(id=doc_id, path=str(pdf), title=parsed.title, page_count=parsed.page_count,
                         doc_type="other", status="indexed", index_settings=identity, workspace=WS,
                         textless_pages=parsed.textless_pages)
    cat.commit_document(rec, parsed.pages, chunks)
    return doc_id, len(chunks), seconds


def build_index(data: Path, cache: Path, emb: Any, doc_names: list[str]) -> tuple[Catalog, VectorIndex, dict[str, str], dict[str, Any]]:
    """Index what is missing (resumable: a document already in the cache is kept)."""
    chunking = ChunkSettings()
    identity = f"{WS}-{emb.identity}-{chunking.identity()}"
    cache.mkdir(parents=True, exist_ok=True)
    manifest_path = cache / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    if manifest.get("identity") != identity:
        manifest = {"identity": identity, "docs": {}, "embed_s": 0.0, "chunks": 0}
    cat = Catalog(cache)
    vi = VectorIndex(cache / "vectors", collection_name(WS, identity))
    indexed = cat.indexed_doc_ids(WS)
    for i, name in enumerate(doc_names):
        if manifest["docs"].get(name) in indexed:
            continue
        doc_id, n, secs = index_document(data / "pdfs" / f"{name}.pdf", cat, vi, emb, chunking, identity)
        manifest["docs"][name] = doc_id
        manifest["embed_s"] += secs
        manifest["chunks"] += n
        manifest_path.write_text(json.dumps(manifest, indent=1))
        print(f"[{i + 1}/{len(doc_names)}] {name}: {n} chunks, {n / max(secs, 1e-9):.1f} chunks/s", flush=True)
    return cat, vi, manifest["docs"], manifest


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


def run(args: argparse.Namespace, questions: list[dict[str, Any]], cache: Path) -> dict[str, Any]:
    doc_names = sorted({q["doc_name"] for q in questions})
    emb = load_embedder(args.embedder, threads=args.threads)
    t0 = time.perf_counter()
    if args.no_build:
        done = json.loads((cache / "manifest.json").read_text())["docs"]
        doc_names = [n for n in doc_names if n in done]
        questions = [q for q in questions if q["doc_name"] in done]
    cat, vi, docs, manifest = build_index(args.data, cache, emb, doc_names)
    weights = {k: float(v) for k, v in (p.split("=") for p in args.weights.split(","))}
    retriever = HybridRetriever(cat, vi, emb, WS, candidates=args.candidates, weights=weights)
    result: dict[str, Any] = {"embedder": emb.identity, "documents": len(docs), "chunks": manifest["chunks"],
                              "embed_chunks_per_s": round(manifest["chunks"] / max(manifest["embed_s"], 1e-9), 1),
                              "build_s": round(time.perf_counter() - t0, 1), "candidates": args.candidates,
                              "weights": weights}
    for mode in args.modes.split(","):
        result[mode] = evaluate(retriever, questions, docs, mode)
    cat.close()
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=None, help="write the JSON result here")
    ap.add_argument("--cache-dir", type=Path, default=None, help="keep the built index here between runs")
    ap.add_argument("--embedder", default="minilm")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--candidates", type=int, default=50)
    ap.add_argument("--weights", default="lexical=1,dense=1")
    ap.add_argument("--modes", default="hybrid,dense,lexical")
    ap.add_argument("--no-build", action="store_true",
                    help="only use documents already in --cache-dir (and only their questions)")
    args = ap.parse_args(argv)
    if not (args.data / "questions.jsonl").exists():
        print(f"no FinanceBench data at {args.data}", file=sys.stderr)
        return 2
    questions = load_questions(args.data)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="dossier-bench-") as tmp:
        result = run(args, questions, args.cache_dir or Path(tmp))
    summary = {m: {k: v for k, v in result[m].items() if k != "misses_at_5"} for m in args.modes.split(",")}
    print(json.dumps(summary, indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
