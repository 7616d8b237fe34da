"""Render text into a page image that looks like a clean scan (for OCR tests and benchmarks).

Why: OCR must be measured against text we know exactly, on pages with no text layer at
all. We draw the text with Pillow's bundled scalable font (Aileron, shipped inside Pillow,
so the result is the same on every machine and needs no system fonts) onto a white US
Letter page at a chosen resolution, and return where every word landed, in PDF points
(origin top-left, as the viewer draws highlights), so a test can check that a highlight
lands on the word. Pillow is imported lazily: it is only needed by tests and benches.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.samples.pdf_writer import MARGIN, PAGE_H, PAGE_W, GrayImage


@dataclass(frozen=True)
class WordBox:
    """A rendered word and its ink box in PDF points (x0, y0 top-left; x1, y1 bottom-right)."""

    line: int
    word: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class ScannedPage:
    image: GrayImage
    text: str  # the lines joined with "\n" (what a perfect OCR would read)
    words: list[WordBox]


def render_scan(lines: list[str], dpi: int = 200, font_pt: float = 12.0, leading: float = 1.5,
                noise: float = 0.0, seed: int = 0, font_path: str | None = None) -> ScannedPage:
    """Draw ``lines`` top-down from the top-left margin; long lines are not wrapped (keep
    them under ~80 characters at 12 pt). ``noise`` > 0 adds Gaussian pixel noise of that
    standard deviation (grey levels), a cheap stand-in for a dirty scanner. ``font_path``:
    a TrueType file instead of Pillow's bundled Aileron."""
    from PIL import Image, ImageDraw, ImageFont

    px_per_pt = dpi / 72.0
    width, height = round(PAGE_W * px_per_pt), round(PAGE_H * px_per_pt)
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    size = max(6, round(font_pt * px_per_pt))
    font = ImageFont.truetype(font_path, size) if font_path else ImageFont.load_default(size=size)
    space = draw.textlength(" ", font=font)
    words: list[WordBox] = []
    y = MARGIN * px_per_pt
    for n, line in enumerate(lines):
        x = MARGIN * px_per_pt
        for word in line.split(" "):
            if word:
                draw.text((x, y), word, fill=0, font=font)
                l, t, r, b = draw.textbbox((x, y), word, font=font)
                words.append(WordBox(n, word, l / px_per_pt, t / px_per_pt, r / px_per_pt, b / px_per_pt))
                x += draw.textlength(word, font=font)
            x += space
        y += font_pt * px_per_pt * leading
    if noise > 0:
        img = _add_noise(img, noise, seed)
    return ScannedPage(GrayImage(width, height, img.tobytes()), "\n".join(lines), words)


def _add_noise(img, sigma: float, seed: int):  # type: ignore[no-untyped-def]
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    arr = np.asarray(img, dtype=np.float32) + rng.normal(0.0, sigma, (img.height, img.width))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), mode="L")


#: Prose in the register of filings and contracts, for generated test and benchmark pages.
SAMPLE_LINES = [
    "Item 7. Management's Discussion and Analysis of Financial Condition",
    "Revenue for fiscal 2022 was $4,213 million, an increase of 12% over 2021.",
    "Capital expenditures were $1,604 million, primarily for new plant capacity.",
    "The Company recorded an impairment charge of $37 million in the third quarter.",
    "Liquidity remained strong, with cash and equivalents of $2.1 billion.",
    "The credit agreement contains covenants that limit additional indebtedness.",
    "Either party may terminate this Agreement for convenience on ninety (90) days",
    "written notice. The Supplier's aggregate liability shall not exceed the fees",
    "paid in the twelve months preceding the claim. This Agreement renews for",
    "successive one-year terms unless a party gives notice of non-renewal.",
    "Governing law: the laws of the State of Delaware, without regard to conflicts.",
    "Our auditors identified a material weakness in internal control over reporting.",
]
