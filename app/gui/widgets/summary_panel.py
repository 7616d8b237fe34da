"""The Summary tab: a structured summary of one document, every bullet linked to its page."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from app.gui.widgets.answer_html import LIGHT, Colors
from app.types import Progress, Span

_HINT = ("A one-page summary of the selected document — parties or business, key figures, dates, "
         "obligations, risks — with every bullet linked to its page. Select an indexed document, then "
         "press Summarise.")


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
        self.generate.setEnabled(False)
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
        row.addStretch(0)  # absorbs the width while the progress bar is hidden
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.label)
        layout.addLayout(row)
        layout.addWidget(self.browser, 1)
        self._hint()

    def colors(self) -> Colors:
        return Colors.from_palette(self.palette())

    def _hint(self) -> None:
        self.browser.setHtml(f"<p style='color:{self.colors().muted}'>{html.escape(_HINT)}</p>")

    def set_document(self, doc_id: str | None, title: str = "") -> None:
        if doc_id == self.doc_id:
            return
        self.doc_id, self.summary = doc_id, None
        self.label.setText(f"<b>{html.escape(title)}</b>" if doc_id else "Select a document to summarise.")
        self.generate.setText("Summarise")
        self.generate.setEnabled(doc_id is not None)
        self._hint()

    def begin(self) -> None:
        self.generate.setEnabled(False)
        self.stop.setEnabled(True)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.progress.setFormat("Starting…")
        self.browser.setHtml(f"<p style='color:{self.colors().muted}'><i>Reading the document and writing the "
                             "summary… (the first run loads the model)</i></p>")

    def on_progress(self, p: Progress) -> None:
        if p.total > 0:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)
        self.progress.setFormat(f"{p.message or p.stage}  %p%" if p.total > 0 else (p.message or p.stage))

    def end(self) -> None:
        self.generate.setEnabled(self.doc_id is not None)
        self.stop.setEnabled(False)
        self.progress.setVisible(False)

    def show_error(self, message: str) -> None:
        self.browser.setHtml(f"<p style='color:{self.colors().warn}'>{html.escape(message)}</p>")
        self.end()

    def show_summary(self, doc_id: str, summary: Any) -> None:
        if doc_id != self.doc_id:
            return
        self.summary = summary
        self.generate.setText("Regenerate")
        self.generate.setToolTip("Summarise again (ignores the saved summary)")
        self.browser.setHtml(summary_html(summary, self.colors()))
        self.end()

    def _clicked(self, url: QUrl) -> None:
        s = url.toString()
        if not s.startswith("bullet:") or self.summary is None or self.doc_id is None:
            return
        si, bi = (int(x) for x in s[7:].split(":"))
        self.click_bullet(si, bi)

    def click_bullet(self, section: int, bullet: int) -> bool:
        """Show bullet ``bullet`` of section ``section`` on its page (what a page link does)."""
        if self.summary is None or self.doc_id is None:
            return False
        b = self.summary.sections[section].bullets[bullet]
        spans = list(b.spans) or [Span(p, 0, 0) for p in b.pages[:1]]
        if not spans:
            return False
        self.show_requested.emit(self.doc_id, spans, "citation")
        return True


def summary_html(summary: Any, c: Colors = LIGHT) -> str:
    out = []
    for si, section in enumerate(summary.sections):
        if not section.bullets:
            continue
        out.append(f"<h3 style='margin-top:10px; margin-bottom:2px'>{html.escape(section.title)}</h3><ul style='margin-top:0'>")
        for bi, b in enumerate(section.bullets):
            pages = ", ".join(str(p + 1) for p in b.pages)
            link = (f"&nbsp;<a href='bullet:{si}:{bi}' style='text-decoration:none; background-color:{c.chip_bg}; "
                    f"color:{c.link}'>&nbsp;p.&nbsp;{pages}&nbsp;</a>") if pages else ""
            mark = "" if getattr(b, "source", "extracted") == "extracted" else \
                f" <small style='color:{c.muted}'>(written by the model)</small>"
            out.append(f"<li style='margin-bottom:3px'>{html.escape(b.text)}{link}{mark}</li>")
        out.append("</ul>")
    notes = list(getattr(summary, "notes", []) or [])
    model, secs = getattr(summary, "model", ""), getattr(summary, "seconds", 0.0)
    if model:
        notes.append(f"Made by {model}" + (f" in {secs:.0f} s" if secs else "") + ". Click a page to see the source.")
    if notes:
        out.append(f"<p style='color:{c.muted}'><small>" + "<br>".join(html.escape(n) for n in notes) + "</small></p>")
    return "".join(out) or "<p><i>Nothing to summarise.</i></p>"
