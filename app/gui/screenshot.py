"""Drive the real window for screenshots (run by ``packaging/screenshot.sh`` under Xvfb).

Why a module, not a heredoc: the PDF parser runs in a spawned child process, which must be
able to import ``__main__`` from a real file.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

QUESTION = "Is the customer's indemnity capped, and which law governs the agreement?"


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

    def shot(self, name: str) -> None:
        self.wait(0.5)
        path = self.out / name
        self.window.grab().save(str(path))
        print(path, flush=True)

    def ask(self) -> None:
        w = self.window
        w.focus_ask()
        w.ask_panel.question.setText(QUESTION)
        w.ask_panel.ask_button.click()
        self.wait(0.3)
        self.shot("2-asking.png")
        self.wait(0.5, idle=True)
        answer = w.ask_panel.answer
        if answer is not None and answer.citations:
            w.ask_panel.click_citation(answer.citations[0].number)
        self.shot("3-answer-with-citation.png")

    def risks(self) -> None:
        w = self.window
        w.tabs.setCurrentWidget(w.risk_panel)
        if w.risk_panel.doc_id and hasattr(w.service, "review"):
            w.review(w.risk_panel.doc_id)
            self.wait(0.5, idle=True)
            if w.risk_panel.proxy.rowCount():
                w.risk_panel.table.selectRow(0)
                w.risk_panel.activate_row(0)
        self.shot("4-risks.png")

    def summary(self, doc_id: str) -> None:
        w = self.window
        w.tabs.setCurrentWidget(w.summary_panel)
        if hasattr(w.service, "summarize"):
            w.summarize(doc_id)
            self.wait(0.5, idle=True)
        self.shot("5-summary.png")


def main(out: Path, data: str) -> int:
    from app.gui.main import _app, create_window

    app = _app()
    window = create_window(data, sample=True, preload_model=True)
    window.resize(1500, 920)
    window.show()
    d = Driver(app, window, out)
    d.wait(1.0, idle=True)
    docs = window.service.documents()
    if docs:
        window.library.select(docs[0].id)
    d.shot("1-library-and-viewer.png")
    d.ask()
    d.risks()
    if docs:
        d.summary(docs[0].id)
    print("errors shown:", window.errors, flush=True)
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1]), sys.argv[2]))
