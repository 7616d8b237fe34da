"""The Ask tab: scope, a question box, the streamed answer with citation chips, the evidence.

Citations render as links ``cite:N``: hovering shows the quoted source sentence, clicking
asks the window to show its spans. Sentences the verifier could not support are marked. The
evidence comes first (``show_evidence``, as soon as the search is done), so the passages can
be read and opened on the page while the model is still writing; the finished answer's list
replaces it.
The panel never calls the service itself; the window runs the job and feeds it here.
Colours come from the palette, so the answer stays readable in light and dark themes.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QUrl, Qt, Signal
from PySide6.QtGui import QCursor, QGuiApplication
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSizePolicy, QSplitter,
                               QTextBrowser, QToolTip, QVBoxLayout, QWidget)

from app.gui.widgets.answer_html import (Colors, answer_html, answer_plain_text, closest_passage, evidence_html,
                                         intro_html, sentence_reason)

__all__ = ["AskPanel", "answer_html", "answer_plain_text"]


def _passages(n: int) -> str:
    return f"{n} passage{'s' if n != 1 else ''}"


class AskPanel(QWidget):
    ask_requested = Signal(str)  # question
    cancel_requested = Signal()
    new_conversation_requested = Signal()
    show_requested = Signal(str, list, str)  # doc_id, spans, kind

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.answer: Any = None
        #: the passages listed under Evidence (early ones while the model writes, then the answer's)
        self._evidence: list[Any] = []
        #: finished turns (question, answer or error text, text streamed before an error); kept as
        #: data and rendered with the palette's colours, so a theme change redraws them
        self._turns: list[tuple[str, Any, str]] = []
        self._question = ""
        self._streamed = ""
        self._selected: list[str] = []
        self.scope_box = QComboBox(self)
        self.scope_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.scope_box.addItem("Whole workspace", "workspace")
        self.scope_box.setToolTip("Which documents the question is asked about. Select documents in the library "
                                  "to narrow it down.")
        self.scope_detail = QLabel("", self)
        self.scope_detail.setObjectName("scopeDetail")
        self.scope_detail.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.question = QLineEdit(self)
        self.question.setPlaceholderText("Ask a question about your documents (Ctrl+L)")
        self.question.returnPressed.connect(self._submit)
        self.ask_button = QPushButton("Ask", self)
        self.ask_button.setDefault(True)
        self.ask_button.clicked.connect(self._submit)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("Stop generating (Esc)")
        self.stop_button.clicked.connect(self.cancel_requested)
        self.stop_button.setEnabled(False)
        self.browser = QTextBrowser(self)
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._anchor_clicked)
        self.browser.highlighted.connect(self._anchor_hovered)
        self.evidence = QTextBrowser(self)
        self.evidence.setOpenLinks(False)
        self.evidence.anchorClicked.connect(self._evidence_clicked)
        self._build_layout()
        self.set_scope([])
        self._render_intro()
        self._evidence_hint()

    def _build_layout(self) -> None:
        scope = QHBoxLayout()
        scope.addWidget(QLabel("Ask about"))
        scope.addWidget(self.scope_box)
        scope.addWidget(self.scope_detail, 1)
        row = QHBoxLayout()
        row.addWidget(self.question, 1)
        row.addWidget(self.ask_button)
        row.addWidget(self.stop_button)
        tools = QHBoxLayout()
        self.copy_button = QPushButton("Copy answer", self)
        self.copy_button.setToolTip("Copy the last answer with its [n] markers and the list of sources")
        self.copy_button.clicked.connect(self.copy_answer)
        self.new_button = QPushButton("New conversation", self)
        self.new_button.setToolTip("Forget the earlier questions (follow-ups use them as context)")
        self.new_button.clicked.connect(self._new_conversation)
        tools.addWidget(self.copy_button)
        tools.addWidget(self.new_button)
        tools.addStretch(1)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.browser)
        holder = QWidget(self)
        hl = QVBoxLayout(holder)
        hl.setContentsMargins(0, 4, 0, 0)
        self.evidence_label = QLabel("<b>Evidence</b> — the passages found, best first (click one to see it)")
        hl.addWidget(self.evidence_label)
        hl.addWidget(self.evidence)
        split.addWidget(holder)
        split.setSizes([440, 260])
        split.setChildrenCollapsible(False)
        self.splitter = split
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(scope)
        layout.addLayout(row)
        layout.addWidget(split, 1)
        layout.addLayout(tools)

    def colors(self) -> Colors:
        return Colors.from_palette(self.palette())

    # -- input ------------------------------------------------------------------------
    def focus_question(self) -> None:
        self.question.setFocus()
        self.question.selectAll()

    def set_scope(self, titles: list[str]) -> None:
        """The library's selection changed: offer it as the scope (and pick it when non-empty)."""
        self._selected = list(titles)
        box = self.scope_box
        box.blockSignals(True)
        if box.count() > 1:
            box.removeItem(0)
        if titles:
            box.insertItem(0, "Selected document" if len(titles) == 1 else f"{len(titles)} selected documents",
                           "selected")
            box.setCurrentIndex(0)
        box.blockSignals(False)
        self._update_scope_detail()
        box.currentIndexChanged.connect(self._update_scope_detail, Qt.ConnectionType.UniqueConnection)

    def _update_scope_detail(self, *_args: object) -> None:
        if self.scope_mode() == "selected" and self._selected:
            text = self._selected[0] if len(self._selected) == 1 else ", ".join(self._selected[:3]) + (
                "…" if len(self._selected) > 3 else "")
        else:
            text = "every indexed document in this workspace"
        metrics = self.scope_detail.fontMetrics()
        self.scope_detail.setText(metrics.elidedText(text, Qt.TextElideMode.ElideRight, max(80, self.scope_detail.width())))
        self.scope_detail.setToolTip(text)

    def scope_mode(self) -> str:
        """"selected" (the library's selection) or "workspace"."""
        return str(self.scope_box.currentData() or "workspace")

    def _submit(self) -> None:
        q = self.question.text().strip()
        if q and self.ask_button.isEnabled():
            self.ask_requested.emit(q)

    def _new_conversation(self) -> None:
        self._turns = []
        self.answer = None
        self._evidence = []
        self._streamed = ""
        self._evidence_hint()
        self._render_intro()
        self.new_conversation_requested.emit()

    def _evidence_hint(self, text: str = "The passages an answer is based on appear here, best first.") -> None:
        self.evidence.setHtml(f"<p style='color:{self.colors().muted}'><i>{html.escape(text)}</i></p>")

    def _render_intro(self) -> None:
        self.browser.setHtml(intro_html(self.colors()))

    # -- streaming --------------------------------------------------------------------
    def begin(self, question: str) -> None:
        self._question, self._streamed, self.answer, self._evidence = question, "", None, []
        self.question.clear()
        self.ask_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self._evidence_hint("Searching…")
        c = self.colors()
        self._render(f"<p style='color:{c.muted}'><i>Searching the documents and writing the answer…</i></p>")

    def show_evidence(self, evidence: list[Any]) -> None:
        """The passages found, before the answer: listed and clickable while the model writes."""
        if self.answer is not None or not self.stop_button.isEnabled():  # late: the answer is already shown
            return
        self._show_evidence_list(list(evidence))
        if not self._streamed:
            self._render(f"<p style='color:{self.colors().muted}'><i>{_passages(len(evidence))} found (listed under "
                         "Evidence). Writing the answer…</i></p>")

    def _show_evidence_list(self, evidence: list[Any], label: str = "found, best first (click one to see it)") -> None:
        self._evidence = evidence
        self.evidence.setHtml(evidence_html(evidence, self.colors()))
        self.evidence_label.setText(f"<b>Evidence</b> — {_passages(len(evidence))} {label}")

    def append_text(self, text: str) -> None:
        self._streamed += text
        self._render(f"<p>{html.escape(self._streamed)}<span style='color:{self.colors().link}'>▍</span></p>")

    def end(self) -> None:
        self.ask_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def show_error(self, message: str) -> None:
        self._turns.append((self._question, message, self._streamed))
        self._render_turns()
        if self._evidence:  # found before the stop or error: still worth reading
            self._show_evidence_list(self._evidence, "found, best first (the answer did not finish)")
        else:
            self._evidence_hint("No passages: the question did not finish.")
        self.end()

    def show_answer(self, answer: Any) -> None:
        self.answer = answer
        self._turns.append((self._question, answer, ""))
        self._render_turns()
        self._show_evidence_list(list(getattr(answer, "evidence", [])))
        self.end()

    def _turn_html(self, question: str, body: str) -> str:
        c = self.colors()
        return (f"<table width='100%' cellpadding='6' style='margin-top:4px; background-color:{c.bubble}'>"
                f"<tr><td><b>{html.escape(question)}</b></td></tr></table>{body}")

    def _finished_html(self) -> str:
        c, out = self.colors(), []
        for turn, (question, result, partial) in enumerate(self._turns):
            if isinstance(result, str):  # an error or "Stopped."
                body = (f"<p>{html.escape(partial)}</p>" if partial else "") + \
                    f"<p style='color:{c.warn}'>{html.escape(result)}</p>"
            else:
                body = answer_html(result, c, turn)
            out.append(self._turn_html(question, body))
        return "".join(out)

    def _render_turns(self) -> None:
        self.browser.setHtml(self._finished_html())
        self._scroll_to_end()

    def _render(self, current: str) -> None:
        self.browser.setHtml(self._finished_html() + self._turn_html(self._question, current))
        self._scroll_to_end()

    def _scroll_to_end(self) -> None:
        bar = self.browser.verticalScrollBar()
        bar.setValue(bar.maximum())

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
        elif s.startswith("closest:") and s[8:].isdigit():
            self.click_closest(int(s[8:]))
        elif s.startswith("ask:"):
            self.question.setText(QUrl.fromPercentEncoding(s[4:].encode()))
            self._submit()

    def citation_tooltip(self, number: int) -> str:
        c = self.citation(number)
        if c is None:
            return ""
        how = "\n(added by the checker: the model did not cite it)" if getattr(c, "inferred", False) else ""
        return f"[{c.number}] {c.doc_title}, page {c.page + 1}\n“{' '.join(c.quote.split())}”{how}"

    def _anchor_hovered(self, url: QUrl) -> None:
        s = url.toString()
        tip = ""
        if s.startswith("cite:"):
            tip = self.citation_tooltip(int(s[5:]))
        elif s.startswith("unsup:") and self.answer is not None:
            tip = sentence_reason(self.answer, int(s[6:]))
        if tip:
            QToolTip.showText(QCursor.pos(), tip, self.browser)
        else:
            QToolTip.hideText()

    def _evidence_clicked(self, url: QUrl) -> None:
        s = url.toString()
        i = int(s[3:]) if s[3:].isdigit() else -1
        if not s.startswith("ev:") or not 0 <= i < len(self._evidence):
            return
        self._show_passage(self._evidence[i])

    def click_closest(self, turn: int) -> bool:
        """Show the closest passage of the abstention in conversation turn ``turn`` on its page."""
        ev = closest_passage(self._turns[turn][1]) if 0 <= turn < len(self._turns) else None
        if ev is None:
            return False
        self._show_passage(ev)
        return True

    def _show_passage(self, ev: Any) -> None:
        """Ask the window to show an evidence passage's best sentence (else its first page)."""
        from app.types import Span

        spans = list(getattr(ev, "best_sentence_spans", []) or [Span(ev.page_start, 0, 0)])
        self.show_requested.emit(ev.doc_id, spans, "evidence")

    def click_evidence(self, index: int) -> None:
        self._evidence_clicked(QUrl(f"ev:{index}"))

    def copy_answer(self) -> str:
        text = answer_plain_text(self.answer) if self.answer is not None else self._streamed
        QGuiApplication.clipboard().setText(text)
        return text

    def changeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:  # the theme changed: redraw with its colours
            if self._turns:
                self._render_turns()
                if self._evidence:
                    self.evidence.setHtml(evidence_html(self._evidence, self.colors()))
            elif self.ask_button.isEnabled():
                self._render_intro()

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().resizeEvent(event)
        self._update_scope_detail()

