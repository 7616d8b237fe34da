"""The window with the real parts: the default (MiniLM) embedder and the bundled model.

Slow-ish (loads the embedding model and starts llama.cpp), so marked ``slow``.
"""

from __future__ import annotations

import os
from pathlib import Path

import conftest_gui
import pytest

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def test_sample_with_real_embedder_and_bundled_model(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # as shipped: the real default embedder and Chroma, both in the index helper process
    w = conftest_gui.make_window(qtbot, tmp_path / "data", embedder=None, sample=True)
    qtbot.waitUntil(lambda: bool(w.runner.jobs()) or bool(w.service.documents()), timeout=30000)
    assert w.runner.wait_idle(300), "ingest with the real embedder did not finish"
    docs = w.service.documents()
    assert [d.status for d in docs] == ["indexed"], w.errors
    from app.store import index_process

    assert type(w.service.library.vectors).__name__ == "ProcessVectorIndex"
    assert index_process.helper().pid not in (None, os.getpid())
    assert w.service.library.embedder.identity.startswith("all-MiniLM-L6-v2")
    hits = w.service.search("governing law Delaware", k=3)
    assert hits and any(h.page_start <= 3 <= h.page_end for h in hits)
    w.library.select(docs[0].id)
    job = w.ask("Which state's law governs this agreement?")
    early: list[tuple[list, bool]] = []  # (evidence, was an answer already shown?)
    job.partial.connect(lambda ev: early.append((ev, w.ask_panel.answer is not None)))
    assert w.runner.wait_idle(600), "the bundled model did not answer in time"
    assert job.state == "done", w.ask_panel.browser.toPlainText()
    answer = w.ask_panel.answer
    assert answer is not None and answer.text.strip()
    # the evidence was listed before the answer, and is the answer's evidence
    assert len(early) == 1 and not early[0][1]
    assert [e.chunk_id for e in early[0][0]] == [e.chunk_id for e in answer.evidence]
    assert answer.stats["evidence_s"] < answer.stats["total_s"]
    if answer.abstained:  # the closest passage is quoted at the answer and opens on its page
        assert "Closest passage" in w.ask_panel.browser.toPlainText()
        assert w.ask_panel.click_closest(0) and w.viewer.current_page() == answer.evidence[0].page
    assert w.ask_panel.browser.toPlainText().strip()
    assert answer.evidence, "the evidence is returned also when the small model abstains"
    w.ask_panel.click_evidence(0)
    ev = answer.evidence[0]
    assert w.viewer.current_page() == ev.page
    rects = w.viewer.canvas.highlight_viewport_rects("evidence")
    assert rects and all(w.viewer.canvas.page_rect(p).contains(r) for p, r in rects)
    if answer.citations:  # a small model may abstain; when it cites, the click must land
        c = answer.citations[0]
        assert w.ask_panel.click_citation(c.number)
        assert w.viewer.current_page() == c.page
        assert all(w.viewer.canvas.page_rect(p).contains(r) for p, r in w.viewer.canvas.highlight_viewport_rects())
    assert "tokens/s" in w.status.model_label.text() or answer.abstained
