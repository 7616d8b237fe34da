"""What the centre shows before any document exists: where to drop PDFs, an Add button and
the bundled sample agreement (so a new user can try Ask, Summary and Risks at once)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.paths import RESOURCES


class EmptyState(QWidget):
    add_requested = Signal()
    sample_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emptyState")
        icon = QLabel(self)
        icon.setPixmap(QIcon(str(RESOURCES / "icons" / "dossier.svg")).pixmap(QSize(96, 96)))
        self.title = QLabel("<h2 style='margin:0'>Drop PDFs here</h2>", self)
        self.body = QLabel(
            "Annual reports, quarterly filings, contracts — files or whole folders.<br>"
            "They are indexed on this computer; nothing leaves it.<br><br>"
            "Then ask questions and get answers with page citations, read one-page summaries, "
            "and review risks highlighted on the page.", self)
        self.body.setWordWrap(True)
        self.body.setFixedWidth(420)
        self.add_button = QPushButton("Add documents…  (Ctrl+O)", self)
        self.add_button.setDefault(True)
        self.add_button.clicked.connect(self.add_requested)
        self.sample_button = QPushButton("Try the sample agreement", self)
        self.sample_button.setToolTip("A short services agreement that ships with Dossier")
        self.sample_button.clicked.connect(self.sample_requested)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.sample_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 24, 24, 24)
        layout.addStretch(1)
        for w in (icon, self.title, self.body):
            w.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(w, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(12)
        layout.addLayout(buttons)
        layout.addStretch(2)
        self.setStyleSheet("#emptyState { border: 2px dashed palette(mid); border-radius: 14px; margin: 10px; }")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)

    def set_loading(self, loading: bool) -> None:
        """While the library is read (a background job at start), say so instead of "drop here"."""
        self.title.setText("<h2 style='margin:0'>Opening your library…</h2>" if loading
                           else "<h2 style='margin:0'>Drop PDFs here</h2>")
        for w in (self.body, self.add_button, self.sample_button):
            w.setVisible(not loading)
