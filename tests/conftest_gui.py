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


def make_window(qtbot: Any, data_dir: Path, *, llm: Any = None, embedder: Any = "fake", sample: bool = False) -> Any:
    from app.gui.main import create_window

    if embedder == "fake":
        from app.embed.fake import FakeEmbedder

        embedder = FakeEmbedder()
    window = create_window(str(data_dir), sample=sample, embedder=embedder, llm=llm, preload_model=False)
    fill_missing_service_api(window.service)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def add_and_wait(window: Any, paths: list[Path], timeout_s: float = 120) -> None:
    window.add_files([str(p) for p in paths])
    assert window.runner.wait_idle(timeout_s), "ingest did not finish in time"


def require_service_method(service: Any, name: str) -> None:
    if not hasattr(service, name):
        pytest.skip(f"Service.{name} has not landed yet")


def fill_missing_service_api(service: Any) -> Any:
    """Bind thin stand-ins for Service methods that have not landed yet (ask, summarize,
    review, export_register), built on the real analysis/risk modules, so the GUI is tested
    against real result objects. A method the Service already has is never replaced."""
    import types

    if not hasattr(service, "new_conversation"):
        from app.analysis.conversation import Conversation

        service.new_conversation = lambda: Conversation()
    if not hasattr(service, "ask"):
        def ask(self, question, doc_ids=None, conversation=None, on_token=None, on_progress=None, cancel=None):  # type: ignore[no-untyped-def]
            from app.analysis.qa import answer_question

            lib = self.library
            return answer_question(question, self.retriever, lib.catalog, self.workspace, self.llm, lib.embedder,
                                   doc_ids=doc_ids, history=conversation, on_token=on_token,
                                   on_progress=on_progress, cancel=cancel)

        service.ask = types.MethodType(ask, service)
    if not hasattr(service, "review"):
        def review(self, doc_id, force=False, on_progress=None, cancel=None):  # type: ignore[no-untyped-def]
            from app.risks.detect import review_document
            from app.risks.taxonomy import load_taxonomy

            lib, doc = self.library, self.document(doc_id)
            return review_document(doc.id, doc.doc_type, self.page_texts(doc.id), lib.catalog.chunks(self.workspace, doc.id),
                                   None, load_taxonomy(), embedder=lib.embedder, on_progress=on_progress,
                                   cancel=cancel, model=None)

        service.review = types.MethodType(review, service)
    if not hasattr(service, "summarize"):
        def summarize(self, doc_id, force=False, on_token=None, on_progress=None, cancel=None):  # type: ignore[no-untyped-def]
            from app.analysis.summarize import summarize_document

            doc = self.document(doc_id)
            return summarize_document(doc, self.page_texts(doc.id), self.library.catalog.chunks(self.workspace, doc.id),
                                      self.llm, on_token=on_token, on_progress=on_progress, cancel=cancel)

        service.summarize = types.MethodType(summarize, service)
    if not hasattr(service, "export_register"):
        def export_register(self, doc_ids, path, fmt):  # type: ignore[no-untyped-def]
            from app.risks.export import register

            return register([self.review(d) for d in doc_ids], None, path, fmt)

        service.export_register = types.MethodType(export_register, service)
    return service
