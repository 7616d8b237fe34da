"""The Summary tab: a structured summary of one document, with page links."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from app.types import Progress, Span


class SummaryPanel(QWidget):
    generate_requested = Signal(str, bool)  # doc_id, force
    cancel_requested = Signal()
    show_requested = Signal(str, list, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc_id: str | None = None
        self.summary: Any = None
        self.label = QLabel("Select a document to summarise.")
        self.label.setWordWrap(True)
        self.generate = QPushButton("Summarise", self)
        self.generate.clicked.connect(lambda: self.doc_id and self.generate_requested.emit(self.doc_id, self.summary is not None))
        self.stop = QPushButton("Stop", self)
        self.stop.clicked.connect(self.cancel_requested)
        self.stop.setEnabled(False)
        self.progress = QProgressBar(self)
        self.progress.setVisible(False)
        self.browser = QTextBrowser(self)
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._clicked)
        row = QHBoxLayout()
        row.addWidget(self.generate)
        row.addWidget(self.stop)
        row.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addLayout(row)
        layout.addWidget(self.browser, 1)

    def set_document(self, doc_id: str | None, title: str = "") -> None:
        if doc_id == self.doc_id:
            return
        self.doc_id, self.summary = doc_id, None
        self.label.setText(f"<b>{html.escape(title)}</b>" if doc_id else "Select a document to summarise.")
        self.generate.setText("Summarise")
        self.generate.setEnabled(doc_id is not None)
        self.browser.clear()

    def begin(self) -> None:
        self.generate.setEnabled(False)
        self.stop.setEnabled(True)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.browser.setHtml("<p><i>Summarising…</i></p>")

    def on_progress(self, p: Progress) -> None:
        if p.total > 0:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)
        self.progress.setFormat(f"{p.message or p.stage} %p%")

    def end(self) -> None:
        self.generate.setEnabled(self.doc_id is not None)
        self.stop.setEnabled(False)
        self.progress.setVisible(False)

    def show_error(self, message: str) -> None:
        self.browser.setHtml(f"<p style='color:#b00'>{html.escape(message)}</p>")
        self.end()

    def show_summary(self, doc_id: str, summary: Any) -> None:
        if doc_id != self.doc_id:
            return
        self.summary = summary
        self.generate.setText("Regenerate")
        self.browser.setHtml(summary_html(summary))
        self.end()

    def _clicked(self, url: QUrl) -> None:
        s = url.toString()
        if not s.startswith("bullet:") or self.summary is None or self.doc_id is None:
            return
        si, bi = (int(x) for x in s[7:].split(":"))
        bullet = self.summary.sections[si].bullets[bi]
        spans = list(bullet.spans) or [Span(p, 0, 0) for p in bullet.pages[:1]]
        self.show_requested.emit(self.doc_id, spans, "citation")


def summary_html(summary: Any) -> str:
    out = []
    for si, section in enumerate(summary.sections):
        out.append(f"<h3>{html.escape(section.title)}</h3><ul>")
        for bi, b in enumerate(section.bullets):
            pages = ", ".join(str(p + 1) for p in b.pages)
            link = f" <a href='bullet:{si}:{bi}'>p. {pages}</a>" if pages else ""
            mark = "" if getattr(b, "source", "extracted") == "extracted" else " <small style='color:gray'>(generated)</small>"
            out.append(f"<li>{html.escape(b.text)}{link}{mark}</li>")
        out.append("</ul>")
    return "".join(out) or "<p><i>Nothing to summarise.</i></p>"
