"""Helpers for the GUI tests (imported by tests/test_gui_*.py; not a pytest conftest, so
non-GUI test runs never import Qt). Sets the offscreen platform before Qt loads."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from app.samples.pdf_writer import write_text_pdf  # noqa: E402

CONTRACT_PAGES = [
    "SERVICES AGREEMENT\nThis agreement is between Acme Corp and Beta LLC.\n1. Fees\nBeta LLC pays a monthly fee of $12,000.",
    "2. Term\nThe agreement renews automatically for one year unless terminated with ninety days notice.\n"
    "3. Indemnity\nBeta LLC shall indemnify Acme Corp against all losses without limitation as to amount.",
    "4. Governing Law\nThis agreement is governed by the laws of the State of New York.",
]


def write_contract(path: Path) -> Path:
    return write_text_pdf(path, CONTRACT_PAGES, title="Acme Beta Services Agreement")


def citing_responder(keyword: str, sentence: str):  # type: ignore[no-untyped-def]
    """A FakeLLM responder that cites the source whose text contains ``keyword``."""

    def respond(messages: list[dict[str, str]]) -> str:
        prompt = "\n".join(m["content"] for m in messages)
        blocks = re.findall(r"<<<SOURCE (\d+)>>>(.*?)<<<END SOURCE \1>>>", prompt, re.S)
        n = next((num for num, body in blocks if keyword.lower() in body.lower()), "1")
        return f"{sentence} [{n}]"

    return respond


def make_window(qtbot: Any, data_dir: Path, *, llm: Any = None, embedder: Any = "fake", sample: bool = False,
                isolate_index: bool | None = None) -> Any:
    """The real window on ``data_dir``. ``embedder="fake"`` (default) keeps Chroma and the fake
    embedder in this process (fast); ``embedder=None`` is the app as shipped: the real embedder
    and Chroma in the helper process."""
    from app.gui.main import create_window

    if isolate_index is None:
        isolate_index = embedder is None
    if embedder == "fake":
        from app.embed.fake import FakeEmbedder

        embedder = FakeEmbedder()
    window = create_window(str(data_dir), sample=sample, embedder=embedder, llm=llm, preload_model=False,
                           isolate_index=isolate_index)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.library.loaded, timeout=30000)  # the first library read (a job)
    return window


def add_and_wait(window: Any, paths: list[Path], timeout_s: float = 120) -> None:
    window.add_files([str(p) for p in paths])
    assert window.runner.wait_idle(timeout_s), "ingest did not finish in time"

