"""A label that shows "…" instead of growing its window when the text is long."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """A label that shows "…" instead of growing the window when its text is long."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(40)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt naming
        self._full = text
        self.setToolTip(text if len(text) > 30 else self.toolTip())
        self._elide()

    def text(self) -> str:  # noqa: D102 - tests and callers read the full text
        return self._full

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt naming
        """The whole text's width (not the elided one's): a label given a Preferred size policy
        gets its whole text when there is room, and shrinks to its minimum when there is not."""
        return QSize(self.fontMetrics().horizontalAdvance(self._full) + 8, super().sizeHint().height())

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, max(10, self.width() - 4))
        super().setText(shown)
