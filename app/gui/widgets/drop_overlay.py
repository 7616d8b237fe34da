"""A translucent "Drop to add" sheet over the window while files are dragged over it."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QWidget


class DropOverlay(QWidget):
    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.text = "Drop PDFs or folders to add them"
        self.hide()

    def show_over(self, parent: QWidget, text: str | None = None) -> None:
        if text:
            self.text = text
        self.setGeometry(parent.rect())
        self.raise_()
        self.show()

    def paintEvent(self, _event) -> None:  # type: ignore[no-untyped-def]
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor(30, 80, 170, 60))
        box = QRectF(self.rect()).adjusted(24, 24, -24, -24)
        p.setPen(QPen(QColor(30, 80, 170, 220), 3, Qt.PenStyle.DashLine))
        p.setBrush(QColor(255, 255, 255, 150))
        p.drawRoundedRect(box, 16, 16)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        p.setFont(font)
        p.setPen(QColor(20, 50, 120))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, self.text)
        p.end()
