"""A tiny dependency-free PDF writer for tests, samples and benchmarks.

Why: tests need real PDFs whose text we know exactly, without shipping binary fixtures
or pulling a PDF-generation library into the product. The output is deliberately
boring — Helvetica (a standard-14 font, so nothing is embedded) with WinAnsiEncoding,
one ``Tj`` per line, ``T*`` line advances — so that PDFium extracts the text back
faithfully: ``normalize(extracted) == normalize(written)`` for any text that is
representable in Windows-1252 (other characters are written as ``?``).

One PDFium behaviour to know: a line that *ends* with ``-`` is taken as a hyphenated word
break — PDFium returns ``"related\ufffeparty"`` for ``"related-\nparty"`` — so such text
does not round-trip (the same happens with real PDFs).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Union

PAGE_W, PAGE_H = 612.0, 792.0  # US Letter, points
MARGIN = 72.0

# Helvetica advance widths (1/1000 em) for ASCII 32..126, from the Adobe AFM.
_HELV = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
]


def _char_width(ch: str) -> int:
    o = ord(ch)
    return _HELV[o - 32] if 32 <= o <= 126 else 1000  # wide guess: wrap early, never late


def text_width(text: str, font_size: float) -> float:
    """Width of ``text`` in points when set in Helvetica at ``font_size``."""
    return sum(_char_width(c) for c in text) * font_size / 1000.0


def _wrap_line(line: str, font_size: float, width: float) -> list[str]:
    """Greedy word wrap. Breaks only at spaces (not after a trailing hyphen, which the
    normaliser would join) so the re-extracted text normalises to the original."""
    line = line.replace("\t", " ").rstrip()
    if text_width(line, font_size) <= width:
        return [line]
    out: list[str] = []
    while line and text_width(line, font_size) > width:
        cut, acc = -1, 0.0
        for i, ch in enumerate(line):
            acc += _char_width(ch) * font_size / 1000.0
            if acc > width:
                break
            if ch == " " and i > 0 and line[i - 1] not in " -":
                cut = i
        if cut <= 0:  # one over-long word: hard-break it (extracts with a space inside)
            cut = max(1, i)
            out.append(line[:cut])
            line = line[cut:]
        else:
            out.append(line[:cut].rstrip())
            line = line[cut + 1:].lstrip()
    if line:
        out.append(line)
    return out


def _layout(text: str, font_size: float) -> tuple[list[str], float]:
    """Wrapped lines and the font size that makes them fit on one page."""
    width = PAGE_W - 2 * MARGIN
    size = font_size
    while True:
        lines = [w for raw in text.split("\n") for w in _wrap_line(raw, size, width)]
        if len(lines) * size * 1.2 <= PAGE_H - 2 * MARGIN or size <= 3:
            return lines, size
        size = max(3.0, size * 0.85)


def _pdf_string(text: str) -> bytes:
    """A literal PDF string in WinAnsi (cp1252) with escapes."""
    data = text.encode("cp1252", errors="replace")
    out = bytearray(b"(")
    for b in data:
        if b in (0x28, 0x29, 0x5C):
            out += b"\\" + bytes([b])
        elif b < 32 or b > 126:
            out += b"\\%03o" % b
        else:
            out.append(b)
    out += b")"
    return bytes(out)


def _info_string(text: str) -> bytes:
    """A PDF text string (UTF-16BE with BOM, hex) for document metadata."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


def _text_content(text: str, font_size: float) -> bytes:
    lines, size = _layout(text, font_size)
    leading = size * 1.2
    parts = [b"BT", b"/F1 %.2f Tf" % size, b"%.2f TL" % leading,
             b"%.2f %.2f Td" % (MARGIN, PAGE_H - MARGIN - size)]
    for i, line in enumerate(lines):
        if i:
            parts.append(b"T*")
        if line:
            parts.append(_pdf_string(line) + b" Tj")
    parts.append(b"ET")
    return b"\n".join(parts) + b"\n"


def _image_content() -> bytes:
    """A framed rectangle and a grey image, the look of a scanned page, no text."""
    return (b"0.2 w 72 72 468 648 re S\n"
            b"q 400 0 0 500 106 146 cm /Im1 Do Q\n")


_IMAGE = bytes((x * 16 + y * 8) % 256 for y in range(16) for x in range(16))


class _Builder:
    """Collects numbered objects and writes them with a correct xref table."""

    def __init__(self) -> None:
        self.objects: list[bytes] = []

    def add(self, body: bytes) -> int:
        self.objects.append(body)
        return len(self.objects)

    def set(self, num: int, body: bytes) -> None:
        self.objects[num - 1] = body

    def stream(self, data: bytes, extra: bytes = b"") -> int:
        return self.add(b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream")

    def write(self, path: Path, root: int, info: int | None) -> Path:
        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for i, body in enumerate(self.objects, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(self.objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
        trailer = b"<< /Size %d /Root %d 0 R" % (len(self.objects) + 1, root)
        if info is not None:
            trailer += b" /Info %d 0 R" % info
        out += b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes(out))
        return path


@dataclass(frozen=True)
class GrayImage:
    """An 8-bit grayscale raster (row-major, top row first), e.g. a rendered "scan"."""

    width: int
    height: int
    pixels: bytes

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0 or len(self.pixels) != self.width * self.height:
            raise ValueError(f"GrayImage needs width*height bytes ({self.width}x{self.height}), got {len(self.pixels)}")


#: One page for :func:`write_mixed_pdf`: text (written as in :func:`write_text_pdf`) or a
#: full-page image (a scanned page: no text layer at all).
PageSpec = Union[str, GrayImage]


def _page_parts(b: _Builder, spec: PageSpec, font_size: float, font: int, img_no: int) -> tuple[bytes, bytes]:
    """(content stream, resources) for one page."""
    if isinstance(spec, str):
        return _text_content(spec, font_size), b"/Font << /F1 %d 0 R >>" % font
    data = zlib.compress(spec.pixels, 6)
    img = b.stream(data, b" /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray"
                         b" /BitsPerComponent 8 /Filter /FlateDecode" % (spec.width, spec.height))
    name = b"Im%d" % img_no
    content = b"q %.2f 0 0 %.2f 0 0 cm /%s Do Q\n" % (PAGE_W, PAGE_H, name)
    return content, b"/XObject << /%s %d 0 R >>" % (name, img)


def _write_pages(path: Path, pages: list[PageSpec], title: str | None, font_size: float) -> Path:
    b = _Builder()
    catalog = b.add(b"")
    pages_obj = b.add(b"")
    font = b.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    kids = []
    for i, spec in enumerate(pages):
        data, res = _page_parts(b, spec, font_size, font, i + 1)
        kids.append(_add_page(b, pages_obj, res, data))
    return _finish(b, path, catalog, pages_obj, kids, title)


def write_mixed_pdf(path: Path | str, pages: list[PageSpec], title: str | None = None, font_size: float = 10) -> Path:
    """Write one page per item: a string becomes a text page, a :class:`GrayImage` a
    full-page image with no text layer (stretched over the whole US Letter page, so an
    image of 8.5 x 11 inches at N pixels per inch is an N-dpi scan)."""
    return _write_pages(Path(path), list(pages), title, font_size)


def _write(path: Path, contents: list[bytes], title: str | None, with_image: bool) -> Path:
    b = _Builder()
    catalog = b.add(b"")
    pages = b.add(b"")
    font = b.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    res = b"/Font << /F1 %d 0 R >>" % font
    if with_image:
        img = b.stream(_IMAGE, b" /Type /XObject /Subtype /Image /Width 16 /Height 16"
                               b" /ColorSpace /DeviceGray /BitsPerComponent 8")
        res += b" /XObject << /Im1 %d 0 R >>" % img
    kids = [_add_page(b, pages, res, data) for data in contents]
    return _finish(b, path, catalog, pages, kids, title)


def _add_page(b: "_Builder", pages_obj: int, res: bytes, data: bytes) -> int:
    """A US Letter page: its content stream, then the page object (returned)."""
    content = b.stream(data)
    return b.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] /Resources << %s >> /Contents %d 0 R >>"
                 % (pages_obj, PAGE_W, PAGE_H, res, content))


def _finish(b: "_Builder", path: Path, catalog: int, pages_obj: int, kids: list[int], title: str | None) -> Path:
    """Fill in the page tree and catalog, add the title, write the file."""
    b.set(pages_obj, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids)))
    b.set(catalog, b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj)
    info = b.add(b"<< /Title %s /Producer (Dossier pdf_writer) >>" % _info_string(title)) if title else None
    return b.write(path, catalog, info)


def write_text_pdf(path: Path | str, pages: list[str], title: str | None = None, font_size: float = 10) -> Path:
    """Write one page per string (lines split on ``"\\n"``, long lines wrapped; a page
    with too many lines is set smaller so it still fits). Returns the path."""
    return _write(Path(path), [_text_content(t, font_size) for t in pages], title, with_image=False)


def write_image_only_pdf(path: Path | str, n_pages: int = 1, title: str | None = None) -> Path:
    """Write ``n_pages`` pages that carry a drawn frame and an image but no text — what a
    scanned document looks like to a text extractor."""
    return _write(Path(path), [_image_content() for _ in range(n_pages)], title, with_image=True)
