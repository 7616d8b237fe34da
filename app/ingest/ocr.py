"""Local OCR of pages without a text layer (rapidocr-onnxruntime; its ONNX models ship in
the wheel, nothing is downloaded).

How a page is read: PDFium renders it at ``SCALE`` pixels per point (144 dpi); the text
detector finds the lines on it, and each line is cut out straight and recognised
(:mod:`app.ingest.ocr_lines`: long lines in pieces, dropped spaces put back, characters
placed on the page). Why 144 dpi for detection: at 72 dpi the lines of a 10-K set in 7 pt
with tight leading merge (measured 0.44 accuracy on such a page vs 0.99 at 144 dpi). The
angle classifier is not used: on upright English lines it turned some upside down (lines
lost). Lines are put into reading order by :mod:`app.ingest.reading_order`.

Every line keeps its box and where each character sits along it, so the viewer can
highlight any span of the OCR text (:mod:`app.text.layout`).

Threads: ONNX Runtime would take every core. Ingest runs beside the GUI (and the model when
the user asks something), so OCR uses half the cores (1 on a 2-core laptop), see
:func:`ocr_threads`; the parse child that runs it also lowers its own priority.
"""

from __future__ import annotations

import logging
from typing import Any

from app.ingest.ocr_lines import crop_line, line_text, split_line, to_bgr
from app.ingest.reading_order import reading_order
from app.settings import cpu_count
from app.text.layout import OcrLine, PageLayout, Quad

log = logging.getLogger(__name__)

SCALE = 2.0  # pixels per point of the page render OCR reads (144 dpi)
#: Largest render OCR reads, in pixels: US Letter/A4 at 144 dpi are ~2.0 MP; bigger pages are
#: rendered at a lower resolution. Why: the detector needs ~0.4 GB per MP and the parse child
#: runs under a 2 GB address-space limit (a 5.8 MP page failed with bad_alloc, measured).
MAX_PIXELS = 2.2e6
BLANK_LEVEL = 200  # a page whose darkest pixel is lighter than this is blank


def ocr_threads(cpus: int | None = None) -> int:
    """ONNX Runtime threads for OCR: half the cores, at least 1, at most 4 (the recogniser
    gains little beyond that and the embedder works on the previous document meanwhile)."""
    return max(1, min(4, (cpus or cpu_count()) // 2))


class OcrEngine:
    """RapidOCR, loaded on first use (~0.5 s), for one process. Not thread-safe."""

    def __init__(self, threads: int = 0) -> None:
        self.threads = threads if threads > 0 else ocr_threads()
        self._ocr: Any = None

    @property
    def engine(self) -> Any:
        if self._ocr is None:
            from app.netguard import apply_offline_env

            apply_offline_env()  # before ONNX Runtime initialises: its telemetry off (app.netguard.OFFLINE_ENV)
            from rapidocr_onnxruntime import RapidOCR

            self._ocr = RapidOCR(intra_op_num_threads=self.threads, inter_op_num_threads=1,
                                 use_cls=False, print_verbose=False)
        return self._ocr

    def read_page(self, page: Any) -> tuple[str, PageLayout]:
        """OCR one pypdfium2 ``PdfPage``: its text (lines in reading order, joined with
        ``"\\n"``) and where each character sits, in page points (top-left origin)."""
        width_pt, height_pt = page.get_size()
        scale = min(SCALE, (MAX_PIXELS / max(width_pt * height_pt, 1.0)) ** 0.5)
        bitmap = page.render(scale=scale, grayscale=True)
        try:
            gray = bitmap.to_numpy().copy()
        finally:
            bitmap.close()
        if gray.ndim == 3:
            gray = gray[:, :, 0]
        return self.read_image(gray, gray.shape[1] / width_pt, gray.shape[0] / height_pt)

    def read_image(self, gray: Any, px_per_pt_x: float, px_per_pt_y: float | None = None) -> tuple[str, PageLayout]:
        """OCR a grayscale page image (numpy uint8, H x W) rendered at ``px_per_pt``."""
        py = px_per_pt_y or px_per_pt_x
        if gray.size == 0 or int(gray.min()) > BLANK_LEVEL:
            return "", PageLayout(())
        quads = self._detect(gray)
        if not quads:
            return "", PageLayout(())
        cut = [crop_line(gray, q) for q in quads]
        segments = [(i, a, b) for i, (crop, _) in enumerate(cut) for a, b in split_line(crop)]
        results, _ = self.engine.text_rec([to_bgr(cut[i][0][:, a:b]) for i, a, b in segments], True)
        parts: dict[int, list[tuple[Any, int, int]]] = {}
        for (i, a, b), res in zip(segments, results):
            parts.setdefault(i, []).append((res, a, b))
        lines = []
        for i, (crop, quad) in enumerate(cut):
            text, edges = line_text(crop, parts.get(i, []))
            if text:
                pts = tuple(v / (px_per_pt_x if k % 2 == 0 else py) for k, v in enumerate(quad))
                lines.append((pts, text, edges))
        return _assemble(lines)

    def _detect(self, gray: Any) -> list[Quad]:
        """Line quadrilaterals (pixels of ``gray``), corners clockwise from the top left."""
        import cv2
        import numpy as np

        boxes, _ = self.engine.text_det(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR))
        if boxes is None or len(boxes) == 0:
            return []
        return [tuple(float(v) for v in np.asarray(b, dtype=np.float64).reshape(-1)) for b in boxes]  # type: ignore[misc]


def _assemble(lines: list[tuple[Quad, str, list[float]]]) -> tuple[str, PageLayout]:
    """Page text (rows joined by "\\n", boxes of one row by " ") and its layout."""
    boxes = [(min(q[0::2]), min(q[1::2]), max(q[0::2]), max(q[1::2])) for q, _, _ in lines]
    parts: list[str] = []
    out: list[OcrLine] = []
    pos = 0
    for row in reading_order(boxes):
        for k, i in enumerate(row):
            sep = ("\n" if parts else "") if k == 0 else " "
            quad, text, edges = lines[i]
            parts.append(sep + text)
            pos += len(sep)
            out.append(OcrLine(pos, pos + len(text), quad, tuple(edges)))
            pos += len(text)
    return "".join(parts), PageLayout(tuple(out))


def char_accuracy(reference: str, hypothesis: str) -> float:
    """1 - character error rate: Levenshtein distance over whitespace-normalised texts,
    divided by the reference length (can go below 0 for very wrong output)."""
    ref, hyp = " ".join(reference.split()), " ".join(hypothesis.split())
    if not ref:
        return 1.0 if not hyp else 0.0
    prev = list(range(len(hyp) + 1))
    for i, a in enumerate(ref, 1):
        cur = [i]
        for j, b in enumerate(hyp, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a != b)))
        prev = cur
    return 1.0 - prev[-1] / len(ref)
