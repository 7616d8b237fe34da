"""What the centre shows before any document exists: where to drop PDFs, and an Add button."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget


class EmptyState(QWidget):
    add_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("<h2>Drop PDFs here</h2>")
        body = QLabel("Add annual reports, quarterly filings or contracts. They are indexed on this "
                      "computer; nothing leaves it.<br>Then ask questions with cited answers, read summaries "
                      "and review risks.")
        body.setWordWrap(True)
        self.add_button = QPushButton("Add documents…")
        self.add_button.clicked.connect(self.add_requested)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        for w in (title, body):
            w.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(w)
        layout.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)
        self.setStyleSheet("EmptyState { border: 2px dashed palette(mid); border-radius: 12px; }")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
