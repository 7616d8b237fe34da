"""Light/dark theme: follow the system by default (Qt reads the platform colour scheme).

An explicit "light" or "dark" asks the platform first (Qt ≥ 6.8 ``setColorScheme``); where the
platform cannot switch (e.g. X11 without a desktop theme), a light or dark Fusion palette is
set instead, so the choice in Settings always has a visible effect. Panels that render HTML
pick their colours from the palette (``app.gui.widgets.answer_html.Colors``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

_system_palette: QPalette | None = None


def apply_theme(name: str) -> None:
    from PySide6.QtWidgets import QApplication

    global _system_palette
    app = QApplication.instance()
    if app is None:
        return
    if _system_palette is None:
        _system_palette = QPalette(app.palette())
    hints = QGuiApplication.styleHints()
    scheme = {"dark": Qt.ColorScheme.Dark, "light": Qt.ColorScheme.Light}.get(name, Qt.ColorScheme.Unknown)
    if hasattr(hints, "setColorScheme"):
        hints.setColorScheme(scheme)
    if name not in ("dark", "light"):
        app.setPalette(_system_palette)
        return
    is_dark = app.palette().color(QPalette.ColorRole.Window).lightness() < 128
    if is_dark != (name == "dark"):  # the platform did not switch: do it ourselves
        app.setPalette(dark_palette() if name == "dark" else app.style().standardPalette())


def dark_palette() -> QPalette:
    p = QPalette()
    colors = {
        QPalette.ColorRole.Window: QColor(45, 47, 51), QPalette.ColorRole.WindowText: QColor(230, 230, 230),
        QPalette.ColorRole.Base: QColor(30, 31, 34), QPalette.ColorRole.AlternateBase: QColor(40, 42, 46),
        QPalette.ColorRole.Text: QColor(230, 230, 230), QPalette.ColorRole.Button: QColor(55, 57, 62),
        QPalette.ColorRole.ButtonText: QColor(230, 230, 230), QPalette.ColorRole.Highlight: QColor(53, 110, 200),
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255), QPalette.ColorRole.ToolTipBase: QColor(55, 57, 62),
        QPalette.ColorRole.ToolTipText: QColor(230, 230, 230), QPalette.ColorRole.Link: QColor(138, 180, 248),
        QPalette.ColorRole.PlaceholderText: QColor(150, 150, 150), QPalette.ColorRole.Mid: QColor(90, 92, 98),
        QPalette.ColorRole.Dark: QColor(25, 26, 28), QPalette.ColorRole.Light: QColor(80, 82, 88),
    }
    for role, color in colors.items():
        p.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 120, 120))
    return p
