"""Drive the real window for screenshots (run by ``packaging/screenshot.sh`` under Xvfb).

Shots: the first-run empty state; the sample document in the library and viewer; a question
being answered by the real bundled model (a follow-up if it abstains), with a citation clicked
(its highlight caught mid-flash) and the chip's hover quote when it cites; the Summary tab
with a page link followed; the Risks tab with a finding shown on its page; the Settings
dialog; the dark theme; and, named "scripted-model", the same question answered through the
real retrieval and verification by a scripted model that cites its sources and makes one
unsupported claim (the tiny bundled model often abstains, so chips, the ⚠ mark, the hover
quote and the flash are always shown).

Why a module, not a heredoc: the PDF parser runs in a spawned child process, which must be
able to import ``__main__`` from a real file.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

QUESTION = "Is the customer's indemnity capped, and which law governs the agreement?"
FOLLOW_UP = "Which state's law governs this agreement?"


class Driver:
    def __init__(self, app: Any, window: Any, out: Path) -> None:
        self.app, self.window, self.out = app, window, out

    def wait(self, seconds: float = 0.0, idle: bool = False, timeout: float = 900) -> None:
        start = time.time()
        while time.time() < start + seconds or (idle and self.window.runner.jobs()):
            self.app.processEvents()
            time.sleep(0.01)
            if time.time() - start > timeout:
                raise SystemExit("timed out waiting for the app")

    def shot(self, name: str, settle: float = 0.5, screen: bool = False) -> None:
        """Save the window (or, with ``screen``, the whole screen: dialogs and tooltips are
        windows of their own)."""
        self.wait(settle)
        path = self.out / name
        if screen:
            self.app.primaryScreen().grabWindow(0).save(str(path))
        else:
            self.window.grab().save(str(path))
        print(path, flush=True)

    def ask(self) -> None:
        w = self.window
        w.focus_ask()
        w.ask_panel.question.setText(QUESTION)
        w.ask_panel.ask_button.click()
        self.wait(2.0)
        self.shot("3-asking.png", settle=0.0)
        self.wait(0.5, idle=True)
        answer = w.ask_panel.answer
        if answer is None or not answer.citations:  # the tiny model abstained: a follow-up, as a user would
            w.ask_panel.question.setText(FOLLOW_UP)
            w.ask_panel.ask_button.click()
            self.wait(0.5, idle=True)
            answer = w.ask_panel.answer
        if answer is not None and answer.citations:
            w.ask_panel.click_citation(answer.citations[0].number)
            self.shot("4-citation-flash.png", settle=0.05)  # the first, strong phase of the flash
            self.wait(1.5)
            self.hover_chip(answer.citations[0].number)
        else:
            self.shot("4-answer.png")

    def hover_chip(self, number: int, name: str = "5-citation-hover.png") -> None:
        """Point at the chip [number] in the answer and show what hovering it shows."""
        from PySide6.QtCore import QRect
        from PySide6.QtGui import QCursor
        from PySide6.QtWidgets import QToolTip

        from PySide6.QtGui import QTextCursor

        browser = self.window.ask_panel.browser
        found = browser.document().find(f"[{number}]")
        inside = QTextCursor(browser.document())
        inside.setPosition(found.selectionStart() + 2 if not found.isNull() else 0)  # within the chip's link
        rect = browser.cursorRect(inside)
        pos = browser.viewport().mapToGlobal(rect.center())
        QCursor.setPos(pos)  # the browser reports the link under the mouse; the panel shows the quote
        self.wait(0.3)
        if not QToolTip.isVisible():
            QToolTip.showText(pos, self.window.ask_panel.citation_tooltip(number), browser, QRect(), 15000)
        self.shot(name, settle=0.6, screen=True)
        QToolTip.hideText()

    def scripted_answer(self) -> None:
        """The same question through the real retrieval and verification, with a scripted model
        (clearly named in the file names) whose answer cites its sources and includes one claim
        the sources do not support: chips, the ⚠ mark, the hover quote and the click."""
        from app.llm.fake import FakeLLM

        w = self.window
        w.service.set_llm(FakeLLM(_scripted_responder))
        w._model_name = "scripted test model (not a language model)"
        w.status.set_model(w._model_name, state="ready")
        w.new_conversation()
        w.ask_panel._new_conversation()
        w.ask_panel.question.setText(QUESTION)
        w.ask_panel.ask_button.click()
        self.wait(0.5, idle=True)
        answer = w.ask_panel.answer
        if answer is not None and answer.citations:
            w.ask_panel.click_citation(answer.citations[-1].number)
            self.shot("10-scripted-model-citation-flash.png", settle=0.05)
            self.wait(1.5)
            self.hover_chip(answer.citations[0].number, "11-scripted-model-citation-hover.png")

    def summary(self, doc_id: str) -> None:
        w = self.window
        w.tabs.setCurrentWidget(w.summary_panel)
        w.summarize(doc_id)
        self.wait(0.5, idle=True)
        if w.summary_panel.summary is not None:
            sections = w.summary_panel.summary.sections
            si = next((i for i, s in enumerate(sections) if s.bullets and s.bullets[0].pages), None)
            if si is not None:
                w.summary_panel.click_bullet(si, 0)
        self.shot("6-summary.png")

    def risks(self) -> None:
        w = self.window
        w.tabs.setCurrentWidget(w.risk_panel)
        if w.risk_panel.doc_id:
            w.review(w.risk_panel.doc_id)
            self.wait(0.5, idle=True)
            if w.risk_panel.proxy.rowCount():
                w.risk_panel.table.selectRow(0)
                w.risk_panel.activate_row(0)
        self.shot("7-risks.png", settle=1.5)

    def settings(self) -> None:
        dlg = self.window.open_settings()
        dlg.adjustSize()
        self.shot("8-settings.png", screen=True)
        dlg.reject()

    def dark(self) -> None:
        from app.gui.theme import apply_theme

        w = self.window
        apply_theme("dark")
        w.tabs.setCurrentWidget(w.ask_panel)
        self.shot("9-dark-theme.png", settle=1.0)  # the panels redraw their HTML with the dark palette
        apply_theme("system")


def _scripted_responder(messages: list[dict[str, str]]) -> str:
    """Cite the source holding each fact; the last claim is in no source (it must be marked)."""
    import re

    prompt = "\n".join(m["content"] for m in messages)
    blocks = re.findall(r"<<<SOURCE (\d+)>>>(.*?)<<<END SOURCE \1>>>", prompt, re.S)

    def cite(word: str) -> str:
        return next((n for n, body in blocks if word.lower() in body.lower()), "1")

    return (f"No: the customer indemnifies the provider without limitation as to amount [{cite('indemnify')}]. "
            f"The agreement is governed by the laws of the State of Delaware [{cite('Delaware')}]. "
            f"The provider also carries insurance of ten million dollars for all claims [{cite('indemnify')}].")


def empty_state(app: Any, out: Path, data: str) -> None:
    """A first start with nothing added yet (the sample is not added here)."""
    from app.gui.main import create_window

    window = create_window(data + "-empty", sample=False, preload_model=False)
    window.resize(1500, 920)
    window.show()
    d = Driver(app, window, out)
    d.wait(1.0, idle=True)
    d.shot("1-empty-state.png")
    window.close()


def main(out: Path, data: str) -> int:
    from app.gui.main import _app, create_window

    app = _app()
    empty_state(app, out, data)
    window = create_window(data, sample=True, preload_model=True)
    window.resize(1500, 920)
    window.show()
    d = Driver(app, window, out)
    d.wait(1.0, idle=True)
    docs = [x for x in window.library.model.rows if x.status == "indexed"]
    if docs:
        window.library.select(docs[0].id)
    d.shot("2-library-and-viewer.png", settle=1.0)
    d.ask()
    if docs:
        d.summary(docs[0].id)
    d.risks()
    d.settings()
    d.dark()
    d.scripted_answer()
    print("errors shown:", window.errors, flush=True)
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1]), sys.argv[2]))
