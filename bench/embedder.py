"""Embedder throughput by variant, on real filing chunks: which runtime the default embedder uses.

Chunks come from Dossier's own reader and chunker (``read_pdf`` -> ``chunk_pages``, the text
ingest embeds: context + chunk). Each variant embeds the same sample with a fixed thread
count after a warm-up; vectors are compared with the fp32 eager model (the
sentence-transformers reference semantics).

    python bench/embedder.py [--data DIR] [--out FILE] [--docs 3] [--chunks 768] [--threads 2]

JSON: ``{"chunks", "mean_tokens", "threads", "variants": {name: {"chunks_per_s",
"cos_mean", "cos_min"}}}``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.report import emit  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "bench" / "financebench"
#: (name, precision, traced)
VARIANTS = [("fp32 eager", "fp32", False), ("fp32 traced", "fp32", True),
            ("bf16 eager", "bf16", False), ("bf16 traced", "bf16", True)]


def sample_texts(data: Path, docs: int, n: int) -> list[str]:
    from app.ingest.chunking import chunk_pages
    from app.ingest.pdf_text import read_pdf
    from app.ingest.pipeline import embedding_text
    from app.settings import Settings

    folder = data / "pdfs" if (data / "pdfs").is_dir() else data
    texts: list[str] = []
    for path in sorted(folder.glob("*.pdf"))[:docs]:
        parsed = read_pdf(str(path), password="")
        texts += [embedding_text(c) for c in chunk_pages(path.stem, parsed.pages, parsed.outline, Settings().chunking)]
    random.Random(1).shuffle(texts)
    return texts[:n]


def main() -> None:
    import numpy as np

    from app.embed.minilm import TransformerEmbedder, best_precision, bundled_model_dir
    from app.embed.threads import ThreadChooser

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--docs", type=int, default=3)
    ap.add_argument("--chunks", type=int, default=768)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    texts = sample_texts(args.data, args.docs, args.chunks)
    if not texts:
        sys.exit(f"No PDF chunks under {args.data}")
    result: dict[str, object] = {"data": str(args.data), "chunks": len(texts), "threads": args.threads,
                                 "default_precision": best_precision(), "variants": {}}
    reference = None
    for name, precision, traced in VARIANTS:
        if precision == "bf16" and best_precision() != "bf16":
            continue  # emulated bf16 is slower than fp32: not a candidate on this CPU
        emb = TransformerEmbedder(bundled_model_dir(), threads=args.threads, precision=precision, trace=traced)
        emb.chooser = ThreadChooser([args.threads])
        emb.embed(texts[:64])  # load, trace, first-shape passes
        t0 = time.perf_counter()
        vectors = emb.embed(texts)
        seconds = time.perf_counter() - t0
        if reference is None:
            reference = vectors
            lengths = [len(x) for x in emb._tok(texts, truncation=True, max_length=emb.max_tokens)["input_ids"]]
            result["mean_tokens"] = round(float(np.mean(lengths)), 1)
        cos = (vectors * reference).sum(1)
        result["variants"][name] = {"chunks_per_s": round(len(texts) / seconds, 1), "traced": emb._batch_model is not None,  # type: ignore[index]
                                    "cos_mean": round(float(cos.mean()), 6), "cos_min": round(float(cos.min()), 6)}
        print(name, result["variants"][name], file=sys.stderr, flush=True)  # type: ignore[index]
    emit(result, args.out)


if __name__ == "__main__":
    main()
