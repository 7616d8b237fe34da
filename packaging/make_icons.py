"""Render ``resources/icons/dossier.svg`` into the icon files installers need.

Why a script and not hand-made files: the SVG is the one source; every PNG size (Linux
hicolor theme), the Windows ``.ico`` and the macOS ``.icns`` are derived from it, so a new
logo is one file change plus ``python packaging/make_icons.py``. Qt (already a dependency)
draws the SVG; Pillow (already installed with the OCR stack) writes ``.ico``/``.icns``.

Usage: python packaging/make_icons.py [--icns]   (``--icns`` also writes dossier.icns; the
macOS recipe runs it, Linux and Windows builds do not need it)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SVG = ICONS / "dossier.svg"
#: hicolor sizes shipped for Linux desktops (menus use 16-48, launchers and docks 64-256).
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def png_path(size: int) -> Path:
    return ICONS / "hicolor" / f"{size}x{size}" / "apps" / "dossier.png"


def render_pngs() -> list[Path]:
    """Draw the SVG at each size with antialiasing onto a transparent image."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - needed for painting
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {SVG}")
    out = []
    for size in PNG_SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        path = png_path(size)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(path), "PNG"):
            raise SystemExit(f"cannot write {path}")
        out.append(path)
    return out


def write_ico_icns(icns: bool) -> list[Path]:
    from PIL import Image

    big = Image.open(png_path(512)).convert("RGBA")
    ico = ICONS / "dossier.ico"
    big.save(ico, sizes=[(s, s) for s in ICO_SIZES])
    out = [ico]
    if icns:
        path = ICONS / "dossier.icns"
        big.save(path)
        out.append(path)
    return out


def main(argv: list[str]) -> int:
    written = render_pngs() + write_ico_icns("--icns" in argv)
    for path in written:
        print(path.relative_to(ICONS.parents[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
