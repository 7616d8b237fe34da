"""End-to-end ingest throughput: Dossier vs a naive pipeline, side by side on the same PDFs.

Dossier: PDFium text (parsed in a child process, overlapped with embedding) ► structure-aware
chunks ► the default embedder ► Chroma + SQLite catalog/FTS5, via ``Service.ingest``.

Naive baseline (what a straightforward local-docs tool does): pypdf ``extract_text`` ► fixed
1,000-character chunks ► the *same embedder object type and settings* ► Chroma.

Dossier runs twice: with its default settings (OCR reads the pages that have no text layer:
~3 scanned letter pages and ~15 image-only pages in FinanceBench) and with OCR off
(``dossier_text_layer``: the same work as the naive pipeline, which reads text layers only).

Each variant runs in its own child process, so peak RSS (``ru_maxrss`` of that process and
its children) is measured separately. Usage::

    python bench/ingest.py [--data DIR] [--out FILE] [--limit N] [--only parse|dossier|dossier_text_layer|naive]

``--data`` is a folder of PDFs or a folder with a ``pdfs/`` subfolder (default:
``../shared/bench/financebench``). JSON: ``{"dossier": {"pages_per_s", "chunks_per_s",
"peak_rss_mb", "seconds", "pages", "chunks", "documents"}, "dossier_text_layer": {same},
"naive": {same, "parse_pages_per_s"}, "parse": {"parse_pages_per_s", ...}, "ratio_pages_per_s",
"ratio_text_layer_pages_per_s"}`` ("parse" = Dossier's reader alone,
beside the naive run's pypdf parse speed).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_DATA = REPO.parent / "shared" / "bench" / "financebench"
NAIVE_CHUNK = 1000
#: "dossier" = default settings (OCR of pages without a text layer on); "dossier_text_layer" =
#: OCR off, the same work as the naive pipeline (which reads text layers only)
VARIANTS = ["parse", "dossier", "dossier_text_layer", "naive"]


def pdf_files(data: Path, limit: int | None) -> list[Path]:
    folder = data / "pdfs" if (data / "pdfs").is_dir() else data
    files = sorted(folder.glob("*.pdf"))
    return files[:limit] if limit else files


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, kids) / 1024, 1)  # Linux reports KiB


def run_dossier(files: list[Path], workdir: Path, ocr: bool = True) -> dict[str, float]:
    from app.service import Service
    from app.settings import Settings

    with Service(workdir / "dossier", Settings(ocr=ocr)) as svc:
        svc.library.embedder.embed(["warm-up"])  # model load is not ingest throughput
        t0 = time.perf_counter()
        summary = svc.ingest(files)
        seconds = time.perf_counter() - t0
        pages = sum(d.page_count for d in summary.added)
        chunks = sum(d.chunk_count for d in summary.added)
        failed = [f.to_dict() for f in summary.failed]
    return _result(seconds, pages, chunks, len(summary.added), failed=failed)


def run_naive(files: list[Path], workdir: Path) -> dict[str, float]:
    import chromadb
    import pypdf

    from app.embed.base import load_embedder
    from app.settings import Settings

    embedder = load_embedder(Settings().embedder)
    embedder.embed(["warm-up"])
    client = chromadb.PersistentClient(path=str(workdir / "naive"), settings=chromadb.config.Settings(anonymized_telemetry=False))
    col = client.get_or_create_collection("naive", embedding_function=None, metadata={"hnsw:space": "cosine"})
    t0 = time.perf_counter()
    pages = chunks = docs = 0
    parse_s = 0.0
    for path in files:
        try:
            tp = time.perf_counter()
            reader = pypdf.PdfReader(str(path))
            if reader.is_encrypted:
                reader.decrypt("")
            texts = [page.extract_text() or "" for page in reader.pages]
            parse_s += time.perf_counter() - tp
        except Exception as err:  # noqa: BLE001 - the naive tool just skips the file
            print(f"naive: skipped {path.name}: {err}", file=sys.stderr)
            continue
        text = "\n".join(texts)
        pieces = [text[i : i + NAIVE_CHUNK] for i in range(0, len(text), NAIVE_CHUNK)]
        for start in range(0, len(pieces), 32):
            batch = pieces[start : start + 32]
            vecs = embedder.embed(batch)
            col.add(ids=[f"{path.stem}-{start + i}" for i in range(len(batch))], embeddings=vecs.tolist(), documents=batch)
        pages += len(texts)
        chunks += len(pieces)
        docs += 1
    return _result(time.perf_counter() - t0, pages, chunks, docs,
                   parse_pages_per_s=round(pages / parse_s, 2) if parse_s else 0.0)


def run_parse(files: list[Path], workdir: Path) -> dict[str, float]:
    """Parsing alone with Dossier's reader (pypdfium2 page text + pypdf outline/metadata, no OCR
    needed here), in this process: the other half of the pypdf-vs-PDFium choice."""
    from app.ingest.pdf_text import read_pdf

    t0 = time.perf_counter()
    pages = 0
    for path in files:
        pages += read_pdf(str(path), password="").page_count
    seconds = time.perf_counter() - t0
    return {"parse_pages_per_s": round(pages / seconds, 2), "pages": pages, "seconds": round(seconds, 1),
            "peak_rss_mb": peak_rss_mb()}


def _result(seconds: float, pages: int, chunks: int, docs: int, **extra: object) -> dict[str, float]:
    out = {
        "pages_per_s": round(pages / seconds, 2) if seconds else 0.0,
        "chunks_per_s": round(chunks / seconds, 2) if seconds else 0.0,
        "peak_rss_mb": peak_rss_mb(),
        "seconds": round(seconds, 1),
        "pages": pages,
        "chunks": chunks,
        "documents": docs,
    }
    out.update(extra)  # type: ignore[arg-type]
    return out


def child(variant: str, data: Path, limit: int | None) -> None:
    files = pdf_files(data, limit)
    with tempfile.TemporaryDirectory(prefix=f"bench-ingest-{variant}-") as tmp:
        fn = {"dossier": run_dossier, "dossier_text_layer": lambda f, w: run_dossier(f, w, ocr=False),
              "naive": run_naive, "parse": run_parse}[variant]
        print(json.dumps(fn(files, Path(tmp))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "ingest.json")
    ap.add_argument("--limit", type=int, help="only the first N PDFs (quick runs)")
    ap.add_argument("--only", choices=VARIANTS)
    ap.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.data, args.limit)
        return
    if not pdf_files(args.data, args.limit):
        sys.exit(f"No PDFs under {args.data}")
    results: dict[str, object] = {"data": str(args.data), "limit": args.limit}
    for variant in VARIANTS:
        if args.only and variant != args.only:
            continue
        cmd = [sys.executable, __file__, "--child", variant, "--data", str(args.data)] + (["--limit", str(args.limit)] if args.limit else [])
        print(f"running {variant}…", file=sys.stderr, flush=True)
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        if proc.returncode != 0:
            sys.exit(f"{variant} failed:\n{proc.stderr[-3000:]}")
        results[variant] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{variant}: {results[variant]}", file=sys.stderr, flush=True)
    if "dossier" in results and "naive" in results:
        d, n = results["dossier"], results["naive"]
        results["ratio_pages_per_s"] = round(d["pages_per_s"] / n["pages_per_s"], 2)  # type: ignore[index]
    if "dossier_text_layer" in results and "naive" in results:
        d, n = results["dossier_text_layer"], results["naive"]
        results["ratio_text_layer_pages_per_s"] = round(d["pages_per_s"] / n["pages_per_s"], 2)  # type: ignore[index]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
