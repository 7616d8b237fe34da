"""Light/dark theme: follow the system by default (Qt reads the platform colour scheme)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication


def apply_theme(name: str) -> None:
    hints = QGuiApplication.styleHints()
    if not hasattr(hints, "setColorScheme"):  # Qt < 6.8: system only
        return
    scheme = {"dark": Qt.ColorScheme.Dark, "light": Qt.ColorScheme.Light}.get(name, Qt.ColorScheme.Unknown)
    hints.setColorScheme(scheme)
