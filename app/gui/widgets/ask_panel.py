"""The Ask tab: a question box, the streamed answer with citation chips, and the evidence.

Citations render as links ``cite:N``: hovering shows the quoted source sentence, clicking
asks the window to show its spans. Sentences the verifier could not support are marked.
The panel never calls the service itself; the window runs the job and feeds it here.
"""

from __future__ import annotations

import html
import re
from typing import Any

from PySide6.QtCore import QUrl, Qt, Signal
from PySide6.QtGui import QCursor, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QPushButton,
                               QSplitter, QTextBrowser, QToolTip, QVBoxLayout, QWidget)

_MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")


class AskPanel(QWidget):
    ask_requested = Signal(str)  # question
    cancel_requested = Signal()
    new_conversation_requested = Signal()
    show_requested = Signal(str, list, str)  # doc_id, spans, kind

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.answer: Any = None
        self._turns: list[str] = []  # HTML of finished turns (follow-ups keep the conversation)
        self._question = ""
        self._streamed = ""
        self.scope = QLabel("Scope: whole workspace")
        self.scope.setWordWrap(True)
        self.scope.setToolTip("Select documents in the library to narrow the question to them")
        self.question = QLineEdit(self)
        self.question.setPlaceholderText("Ask a question about your documents (Ctrl+L)")
        self.question.returnPressed.connect(self._submit)
        self.ask_button = QPushButton("Ask", self)
        self.ask_button.clicked.connect(self._submit)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("Stop generating (Esc)")
        self.stop_button.clicked.connect(self.cancel_requested)
        self.stop_button.setEnabled(False)
        self.browser = QTextBrowser(self)
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._anchor_clicked)
        self.browser.highlighted.connect(self._anchor_hovered)
        self.evidence = QListWidget(self)
        self.evidence.setWordWrap(True)
        self.evidence.itemClicked.connect(self._evidence_clicked)
        self._build_layout()
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, activated=self.cancel_requested,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def _build_layout(self) -> None:
        row = QHBoxLayout()
        row.addWidget(self.question, 1)
        row.addWidget(self.ask_button)
        row.addWidget(self.stop_button)
        tools = QHBoxLayout()
        self.copy_button = QPushButton("Copy answer", self)
        self.copy_button.clicked.connect(self.copy_answer)
        self.new_button = QPushButton("New conversation", self)
        self.new_button.clicked.connect(self._new_conversation)
        tools.addWidget(self.copy_button)
        tools.addWidget(self.new_button)
        tools.addStretch(1)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.browser)
        holder = QWidget(self)
        hl = QVBoxLayout(holder)
        hl.setContentsMargins(0, 0, 0, 0)
        hl.addWidget(QLabel("Evidence (click to open)"))
        hl.addWidget(self.evidence)
        split.addWidget(holder)
        split.setSizes([400, 200])
        layout = QVBoxLayout(self)
        layout.addWidget(self.scope)
        layout.addLayout(row)
        layout.addWidget(split, 1)
        layout.addLayout(tools)

    # -- input ------------------------------------------------------------------------
    def focus_question(self) -> None:
        self.question.setFocus()
        self.question.selectAll()

    def set_scope(self, titles: list[str]) -> None:
        if not titles:
            self.scope.setText("Scope: whole workspace")
        elif len(titles) == 1:
            self.scope.setText(f"Scope: {titles[0]}")
        else:
            self.scope.setText(f"Scope: {len(titles)} selected documents")

    def _submit(self) -> None:
        q = self.question.text().strip()
        if q and self.ask_button.isEnabled():
            self.ask_requested.emit(q)

    def _new_conversation(self) -> None:
        self._turns = []
        self.answer = None
        self.browser.clear()
        self.evidence.clear()
        self.new_conversation_requested.emit()

    # -- streaming --------------------------------------------------------------------
    def begin(self, question: str) -> None:
        self._question, self._streamed, self.answer = question, "", None
        self.ask_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.evidence.clear()
        self._render("<p><i>Searching and thinking…</i></p>")

    def append_text(self, text: str) -> None:
        self._streamed += text
        self._render(f"<p>{html.escape(self._streamed)}▍</p>")

    def end(self) -> None:
        self.ask_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def show_error(self, message: str) -> None:
        partial = f"<p>{html.escape(self._streamed)}</p>" if self._streamed else ""
        self._turns.append(self._turn_html(f"{partial}<p style='color:#b00'>{html.escape(message)}</p>"))
        self.browser.setHtml("".join(self._turns))
        self.end()

    def show_answer(self, answer: Any) -> None:
        self.answer = answer
        body = answer_html(answer)
        self._turns.append(self._turn_html(body))
        self.browser.setHtml("".join(self._turns))
        self.browser.verticalScrollBar().setValue(self.browser.verticalScrollBar().maximum())
        self.evidence.clear()
        for ev in getattr(answer, "evidence", []):
            page = getattr(ev, "page", getattr(ev, "page_start", 0))
            text = getattr(ev, "best_sentence", "") or getattr(ev, "text", "")[:240]
            item = QListWidgetItem(f"{ev.rank}. {ev.doc_title} — p. {page + 1}\n{' '.join(text.split())}")
            item.setData(Qt.ItemDataRole.UserRole, ev)
            item.setToolTip(" ".join(getattr(ev, "text", "").split())[:800])
            self.evidence.addItem(item)
        self.end()

    def _turn_html(self, body: str) -> str:
        return f"<p><b>Q: {html.escape(self._question)}</b></p>{body}<hr/>"

    def _render(self, current: str) -> None:
        self.browser.setHtml("".join(self._turns) + self._turn_html(current))
        self.browser.verticalScrollBar().setValue(self.browser.verticalScrollBar().maximum())

    # -- citations --------------------------------------------------------------------
    def citation(self, number: int) -> Any:
        for c in getattr(self.answer, "citations", []) if self.answer is not None else []:
            if c.number == number:
                return c
        return None

    def click_citation(self, number: int) -> bool:
        c = self.citation(number)
        if c is None:
            return False
        self.show_requested.emit(c.doc_id, list(c.spans), "citation")
        return True

    def _anchor_clicked(self, url: QUrl) -> None:
        s = url.toString()
        if s.startswith("cite:"):
            self.click_citation(int(s[5:]))

    def _anchor_hovered(self, url: QUrl) -> None:
        s = url.toString()
        c = self.citation(int(s[5:])) if s.startswith("cite:") else None
        if c is not None:
            QToolTip.showText(QCursor.pos(), f"{c.doc_title}, p. {c.page + 1}\n“{c.quote}”", self.browser)
        else:
            QToolTip.hideText()

    def _evidence_clicked(self, item: QListWidgetItem) -> None:
        ev = item.data(Qt.ItemDataRole.UserRole)
        from app.types import Span

        spans = list(getattr(ev, "best_sentence_spans", []) or [Span(ev.page_start, 0, 0)])
        self.show_requested.emit(ev.doc_id, spans, "evidence")

    def copy_answer(self) -> str:
        text = answer_plain_text(self.answer) if self.answer is not None else self._streamed
        QGuiApplication.clipboard().setText(text)
        return text


def _chips(numbers: list[int]) -> str:
    return "".join(f" <a href='cite:{n}' style='text-decoration:none; background:#dde8ff; color:#1a4fb0;'>"
                   f"&nbsp;[{n}]&nbsp;</a>" for n in numbers)


def answer_html(answer: Any) -> str:
    """Sentences with citation chips; unsupported ones underlined in red with a warning."""
    if getattr(answer, "abstained", False):
        return f"<p><i>{html.escape(answer.text)}</i></p>"
    sentences = getattr(answer, "sentences", None) or []
    if not sentences:
        return f"<p>{html.escape(answer.text)}</p>"
    parts = []
    for s in sentences:
        text = html.escape(_MARKER.sub("", s.text).strip())
        if s.supported:
            parts.append(f"{text}{_chips(list(s.citations))}")
        else:
            parts.append(f"<span style='color:#a33; text-decoration: underline wavy;' "
                         f"title='Not supported by the sources'>⚠ {text}</span>{_chips(list(s.citations))}")
    notes = "".join(f"<p style='color:gray'><small>{html.escape(n)}</small></p>" for n in getattr(answer, "notes", []))
    if getattr(answer, "cancelled", False):
        notes += "<p style='color:gray'><small>Stopped — the answer is incomplete.</small></p>"
    return "<p>" + " ".join(parts) + "</p>" + notes


def _with_markers(sentence: str, numbers: list[int]) -> str:
    """``"Fees rose."`` + [1, 2] → ``"Fees rose [1][2]."`` (markers before the final stop)."""
    marks = "".join(f"[{n}]" for n in numbers)
    if not marks:
        return sentence
    if sentence[-1:] in ".!?":
        return f"{sentence[:-1].rstrip()} {marks}{sentence[-1]}"
    return f"{sentence} {marks}"


def answer_plain_text(answer: Any) -> str:
    """The answer with [n] markers and a numbered source list, for the clipboard."""
    sentences = getattr(answer, "sentences", None) or []
    if sentences:
        body = " ".join(_with_markers(_MARKER.sub("", s.text).strip(), list(s.citations)) for s in sentences)
    else:
        body = answer.text
    lines = [body, ""]
    if getattr(answer, "citations", None):
        lines.append("Sources:")
        for c in answer.citations:
            lines.append(f"[{c.number}] {c.doc_title}, page {c.page + 1}: “{' '.join(c.quote.split())}”")
    return "\n".join(lines).strip() + "\n"
