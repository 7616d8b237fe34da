"""Ask for a PDF's password. The password only goes to ``Service.ingest(password=...)``;
it is never logged, saved or kept after the dialog closes."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget


class PasswordDialog(QDialog):
    def __init__(self, title: str, message: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Password required")
        label = QLabel(f"<b>{title}</b> is protected by a password.<br>{message or 'Enter it to index the document.'}")
        label.setWordWrap(True)
        self.edit = QLineEdit(self)
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.edit)
        layout.addWidget(buttons)

    def take_password(self) -> str:
        """The password, cleared from the widget so it does not linger in memory longer."""
        pw = self.edit.text()
        self.edit.clear()
        return pw
