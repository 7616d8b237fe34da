"""OCR speed and character accuracy on scanned pages.

Two page sets, each written as an image-only PDF and OCR'd exactly as ingest does it
(``read_pdf(..., ocr=OcrEngine())``: PDFium render, detection at 72 dpi, recognition at
144 dpi, reading order):

* ``generated``: pages drawn from known text (``app.samples.scan``) in several fonts, sizes,
  resolutions and noise levels; accuracy is 1 - CER against that text.
* ``real`` (when ``--data`` has PDFs, default ``../shared/bench/financebench``): pages of real
  filings rendered to 200-dpi grey images ("printed and scanned"); accuracy is against
  PDFium's text layer of the original page. Tables and multi-column layouts make the
  reading order differ from the text layer's, which counts as errors here, so this number
  is a floor.

Also ``child_seconds``: the generated PDF through ``parse_in_subprocess`` (what ingest runs:
process start, model load, OCR). Usage::

    .venv/bin/python bench/ocr.py --out /tmp/ocr.json [--data DIR] [--real-pages 8] [--threads N]

JSON: ``{"generated": {"pages", "seconds", "pages_per_s", "chars_per_s", "accuracy_mean",
"accuracy_min", "cases": [...]}, "real": {...}, "child_seconds", "threads", "cpus",
"load_avg"}``. Timings depend on how busy the machine is: read ``load_avg``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.report import emit  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "bench" / "financebench"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")

#: (font file or None for Pillow's Aileron, size pt, dpi, noise sigma)
CASES = [(None, 12, 200, 0), (None, 10, 300, 0), (None, 9, 150, 0), (None, 11, 200, 25),
         ("DejaVuSerif.ttf", 12, 200, 0), ("DejaVuSerif.ttf", 10, 300, 20),
         ("DejaVuSans.ttf", 11, 150, 0), ("DejaVuSans.ttf", 9, 300, 0)]


def page_lines(seed: int, n: int = 24) -> list[str]:
    """Filing-like lines: the sample sentences shuffled, plus lines of their words and figures."""
    from app.samples.scan import SAMPLE_LINES

    rng = random.Random(seed)
    words = sorted({w for line in SAMPLE_LINES for w in line.split()})
    lines = rng.sample(SAMPLE_LINES, k=min(len(SAMPLE_LINES), n // 2))
    while len(lines) < n:
        parts = [rng.choice(words) for _ in range(rng.randint(6, 10))]
        parts.insert(rng.randrange(len(parts)), f"${rng.randint(1, 99)},{rng.randint(0, 999):03d}")
        lines.append(" ".join(parts)[:78])
    return lines


def ocr_pdf(path: Path, threads: int) -> tuple[list, float, float]:
    """(pages, wall seconds, cpu seconds) of OCR'ing every page of ``path`` in this process."""
    from app.ingest.ocr import OcrEngine
    from app.ingest.pdf_text import read_pdf

    engine = OcrEngine(threads=threads)
    engine.engine  # noqa: B018 - model load (~0.5 s) is not OCR throughput
    t0, c0 = time.perf_counter(), time.process_time()
    parsed = read_pdf(path, ocr=engine)
    return parsed.pages, time.perf_counter() - t0, time.process_time() - c0


def summarise(refs: list[str], pages: list, seconds: float, cpu: float, labels: list[str]) -> dict:
    from app.ingest.ocr import char_accuracy

    accs = [char_accuracy(ref, p.text) for ref, p in zip(refs, pages)]
    chars = sum(len(" ".join(r.split())) for r in refs)
    return {"pages": len(pages), "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
            "pages_per_s": round(len(pages) / seconds, 3), "chars_per_s": round(chars / seconds, 1),
            "accuracy_mean": round(sum(accs) / len(accs), 4), "accuracy_min": round(min(accs), 4),
            "cases": [{"case": lab, "accuracy": round(a, 4)} for lab, a in zip(labels, accs)]}


def generated(workdir: Path, threads: int) -> tuple[dict, Path]:
    from app.samples.pdf_writer import write_mixed_pdf
    from app.samples.scan import render_scan

    refs, images, labels = [], [], []
    for i, (font, pt, dpi, noise) in enumerate(CASES):
        path = DEJAVU / font if font else None
        if font and not path.exists():  # type: ignore[union-attr]
            continue
        scan = render_scan(page_lines(i), dpi=dpi, font_pt=pt, noise=noise, seed=i, font_path=str(path) if path else None)
        refs.append(scan.text)
        images.append(scan.image)
        labels.append(f"{font or 'Aileron'} {pt}pt {dpi}dpi noise {noise}")
    pdf = write_mixed_pdf(workdir / "generated.pdf", images)
    pages, seconds, cpu = ocr_pdf(pdf, threads)
    return summarise(refs, pages, seconds, cpu, labels), pdf


def real(data: Path, workdir: Path, n: int, threads: int) -> dict | None:
    """Pages of real PDFs, rendered to 200-dpi grey images, OCR'd, compared with their text layer."""
    import pypdfium2 as pdfium

    from app.samples.pdf_writer import GrayImage, write_mixed_pdf

    folder = data / "pdfs" if (data / "pdfs").is_dir() else data
    files = sorted(folder.glob("*.pdf"))
    if not files or n <= 0:
        return None
    refs, images, labels = [], [], []
    for k, f in enumerate(files[:n]):
        doc = pdfium.PdfDocument(str(f))
        try:
            index = min(len(doc) - 1, 10 + 7 * k)  # past the cover pages, a different page per file
            page = doc[index]
            tp = page.get_textpage()
            refs.append(tp.get_text_range())
            tp.close()
            w, h = page.get_size()
            gray = page.render(scale=200 / 72, grayscale=True).to_numpy()
            gray = gray[:, :, 0] if gray.ndim == 3 else gray
            # squeeze to US Letter proportions is not needed: the writer stretches to the page
            images.append(GrayImage(gray.shape[1], gray.shape[0], gray.tobytes()))
            labels.append(f"{f.stem} p{index + 1} ({w:.0f}x{h:.0f} pt)")
            page.close()
        finally:
            doc.close()
    pdf = write_mixed_pdf(workdir / "real.pdf", images)
    pages, seconds, cpu = ocr_pdf(pdf, threads)
    return summarise(refs, pages, seconds, cpu, labels)


def child_seconds(pdf: Path, threads: int) -> float:
    from app.ingest.parse_worker import parse_in_subprocess

    t0 = time.perf_counter()
    parse_in_subprocess(pdf, timeout_s=600, ocr_threads=threads)
    return round(time.perf_counter() - t0, 2)


def main(argv: list[str] | None = None) -> int:
    from app.ingest.ocr import ocr_threads

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of real PDFs (or with pdfs/)")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--real-pages", type=int, default=8, help="pages of real PDFs (one per file; 0 = none)")
    ap.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads (0 = as ingest: half the cores)")
    args = ap.parse_args(argv)
    threads = args.threads or ocr_threads()
    with tempfile.TemporaryDirectory(prefix="dossier-ocr-bench-") as tmp:
        gen, pdf = generated(Path(tmp), threads)
        result = {"generated": gen, "real": real(args.data, Path(tmp), args.real_pages, threads) if args.data.exists() else None,
                  "child_seconds": child_seconds(pdf, threads), "threads": threads, "cpus": os.cpu_count(),
                  "load_avg": [round(x, 2) for x in os.getloadavg()]}
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
