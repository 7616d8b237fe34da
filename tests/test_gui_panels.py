"""The window's panels with a real Service (FakeEmbedder / FakeLLM): ask scope, keyboard,
folder drops, library status lines, evidence clicks, page texts, theme, empty state."""

from __future__ import annotations

from pathlib import Path

import conftest_gui
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QPalette
from PySide6.QtWidgets import QApplication

from app.llm.fake import FakeLLM
from app.samples.pdf_writer import write_text_pdf
from app.types import DocumentRecord

pytestmark = pytest.mark.gui

TEXAS_PAGES = ["SUPPLY AGREEMENT\nGamma Inc supplies widgets to Delta Co.\n1. Price\nDelta Co pays $3 per widget.",
               "2. Governing Law\nThis agreement is governed by the laws of the State of Texas."]


def _two_docs(qtbot, tmp_path: Path, llm=None):  # type: ignore[no-untyped-def]
    w = conftest_gui.make_window(qtbot, tmp_path / "data", llm=llm or FakeLLM(["The law is stated [1]."]))
    a = conftest_gui.write_contract(tmp_path / "in" / "acme.pdf")
    b = write_text_pdf(tmp_path / "in" / "texas.pdf", TEXAS_PAGES, title="Gamma Delta Supply Agreement")
    conftest_gui.add_and_wait(w, [a, b])
    qtbot.waitUntil(lambda: len(w.library.model.rows) == 2, timeout=10000)
    by_title = {d.title: d for d in w.library.model.rows}
    return w, by_title["Acme Beta Services Agreement"], by_title["Gamma Delta Supply Agreement"]


def test_ask_scope_selected_or_whole_workspace(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    w, acme, texas = _two_docs(qtbot, tmp_path)
    w.library.select(acme.id)
    assert w.ask_panel.scope_mode() == "selected"  # selecting a document narrows the question to it
    w.ask("Which law governs the agreement?")
    assert w.runner.wait_idle(60)
    assert {e.doc_id for e in w.ask_panel.answer.evidence} == {acme.id}
    w.ask_panel.scope_box.setCurrentIndex(w.ask_panel.scope_box.findData("workspace"))
    assert "every indexed document" in w.ask_panel.scope_detail.toolTip()
    w.ask("Which law governs the agreement?")
    assert w.runner.wait_idle(60)
    assert {e.doc_id for e in w.ask_panel.answer.evidence} == {acme.id, texas.id}


def test_evidence_click_shows_the_passage(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    w, acme, _ = _two_docs(qtbot, tmp_path)
    w.library.select(acme.id)
    w.ask("Who pays the monthly fee?")
    assert w.runner.wait_idle(60)
    ev = w.ask_panel.answer.evidence[0]
    assert "ev:0" in w.ask_panel.evidence.toHtml() and ev.doc_title in w.ask_panel.evidence.toPlainText()
    w.ask_panel.click_evidence(0)
    assert w.viewer.doc_id == ev.doc_id and w.viewer.current_page() == ev.page
    rects = w.viewer.canvas.highlight_viewport_rects("evidence")
    assert rects and all(w.viewer.canvas.page_rect(p).contains(r) for p, r in rects)


def test_escape_in_the_question_box_stops_the_answer(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    w = conftest_gui.make_window(qtbot, tmp_path / "data", llm=FakeLLM(["word " * 400 + "[1]"], delay_s=0.02))
    conftest_gui.add_and_wait(w, [conftest_gui.write_contract(tmp_path / "in" / "c.pdf")])
    w.focus_ask()
    w.ask_panel.question.setText("What are the fees?")
    qtbot.keyClick(w.ask_panel.question, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(w.ask_panel._streamed) > 0, timeout=20000)
    w.ask_panel.question.setFocus()
    qtbot.keyClick(w.ask_panel.question, Qt.Key.Key_Escape)  # focus inside the Ask tab: must not be ambiguous
    assert w.runner.wait_idle(20)
    assert w._ask_job.state == "cancelled" or w._ask_job.result.cancelled
    assert w.ask_panel.ask_button.isEnabled()


def test_keyboard_shortcuts(qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QFileDialog

    pdf = conftest_gui.write_contract(tmp_path / "in" / "c.pdf")
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(pdf)], ""))
    w = conftest_gui.make_window(qtbot, tmp_path / "data")
    w.activateWindow()
    qtbot.keyClick(w, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)  # Ctrl+O: add files
    assert w.runner.wait_idle(60)
    assert [d.title for d in w.service.documents()] == ["Acme Beta Services Agreement"]
    qtbot.waitUntil(lambda: w.viewer.doc_id is not None, timeout=10000)
    qtbot.keyClick(w, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)  # Ctrl+F: find in document
    assert QApplication.focusWidget() is w.viewer.find_box
    qtbot.keyClicks(w.viewer.find_box, "indemnify")
    assert w.viewer.find_status.text() == "1 found"
    qtbot.keyClick(w, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)  # Ctrl+L: the question box
    assert QApplication.focusWidget() is w.ask_panel.question and w.tabs.currentWidget() is w.ask_panel


def test_drop_a_folder_adds_its_pdfs(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "deal" / "nested"
    conftest_gui.write_contract(folder / "a.pdf")
    write_text_pdf(folder.parent / "b.pdf", TEXAS_PAGES, title="Gamma Delta Supply Agreement")
    (folder.parent / "notes.txt").write_text("not a pdf")
    w = conftest_gui.make_window(qtbot, tmp_path / "data")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder.parent))])
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    w.dropEvent(event)
    assert w.runner.wait_idle(60)
    assert sorted(d.title for d in w.service.documents()) == ["Acme Beta Services Agreement",
                                                              "Gamma Delta Supply Agreement"]
    assert not w.drop_overlay.isVisible() and w.errors == []
    qtbot.waitUntil(lambda: len(w.library.model.rows) == 2, timeout=10000)
    assert w.viewer.doc_id is not None  # the first added document is opened


def _record(doc_id: str, status: str, **kw) -> DocumentRecord:  # type: ignore[no-untyped-def]
    return DocumentRecord(id=doc_id, path=f"/docs/{doc_id}.pdf", title=f"Doc {doc_id}", page_count=kw.pop("pages", 3),
                          doc_type="annual_report", status=status, **kw)  # type: ignore[arg-type]


def test_library_shows_status_with_reason(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from app.gui.models.documents import detail_line, status_text, status_tip

    w = conftest_gui.make_window(qtbot, tmp_path / "data")
    docs = [_record("a", "indexed"), _record("b", "indexed", textless_pages=[0, 4]),
            _record("c", "failed", error="c.pdf is damaged: no page tree. Re-save it and add it again."),
            _record("d", "needs_password")]
    w.library.set_documents(docs)
    assert [status_text(d) for d in docs] == ["Indexed", "Indexed, 2 scanned", "Failed", "Needs password"]
    assert detail_line(docs[0]) == "Annual report · 3 pages"
    assert detail_line(docs[1]) == "Annual report · 3 pages · 2 scanned" and "1, 5" in status_tip(docs[1])
    assert detail_line(docs[2]) == "Failed: c.pdf is damaged: no page tree. Re-save it and add it again."
    assert "password" in detail_line(docs[3]) and "Double-click" in status_tip(docs[3])
    assert w.library.summary.text() == "4 documents, 6 pages indexed — 2 need attention"
    w.library.filter.setText("needs pass")
    assert w.library.proxy.rowCount() == 1 and w.library.doc_at(0).id == "d"
    w.library.filter.clear()
    image = w.library.table.viewport().grab().toImage()  # the two-line rows paint
    assert not image.isNull() and w.library.table.rowHeight(0) >= 2 * w.library.fontMetrics().height()
    menu = w.library.context_menu(docs[3])
    assert [a.text() for a in menu.actions() if a.text()][0] == "Enter password…"
    seen: list[str] = []
    w.library.password_requested.connect(seen.append)
    w.library._double_clicked(w.library.proxy.index(3, 0))
    assert seen == ["d"]


def test_page_texts_arrive_in_a_job_and_theme_switches(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from app.gui.theme import apply_theme

    w = conftest_gui.make_window(qtbot, tmp_path / "data")
    conftest_gui.add_and_wait(w, [conftest_gui.write_contract(tmp_path / "in" / "c.pdf")])
    qtbot.waitUntil(lambda: w.viewer.doc_id is not None, timeout=10000)
    assert w.runner.wait_idle(30)
    stored = [p.text for p in w.service.page_texts(w.viewer.doc_id)]
    assert w.viewer._page_texts == stored  # delivered by the job, not read by the GUI thread
    app = QApplication.instance()
    try:
        apply_theme("dark")
        qtbot.wait(50)  # palette change events reach the widgets
        assert app.palette().color(QPalette.ColorRole.Window).lightness() < 128
        assert w.ask_panel.colors().chip_bg == "#243656"  # the answer HTML follows the palette
        apply_theme("light")
        assert app.palette().color(QPalette.ColorRole.Window).lightness() >= 128
    finally:
        apply_theme("system")


def test_empty_state_offers_the_sample(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    w = conftest_gui.make_window(qtbot, tmp_path / "data")
    assert w.centre.currentWidget() is w.empty and w.empty.sample_button.isVisible()
    w.empty.sample_button.click()
    assert w.runner.wait_idle(120)
    docs = w.service.documents()
    assert len(docs) == 1 and docs[0].title.startswith("Master Services Agreement") and docs[0].status == "indexed"
    qtbot.waitUntil(lambda: w.centre.currentWidget() is w.viewer, timeout=10000)
    assert "Index: 1 document, 4 pages" in w.status.index_label.text()
    assert w.status.currentMessage().startswith("Added 1 document")
    assert w.status.model_label.isVisible() and w.status.index_label.isVisible()  # a message hides nothing


def test_model_status_after_loading(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    w = conftest_gui.make_window(qtbot, tmp_path / "data", llm=FakeLLM())
    job = w.load_model()
    assert w.status.model_state == "loading"
    assert w.runner.wait_idle(30) and job.state == "done"
    assert w.status.model_state == "ready" and w.status.model_label.text() == "Model: fake (bundled)"


def test_ingest_progress_is_one_bar_over_all_documents() -> None:
    from app.gui.actions import _PER_DOC, overall_progress
    from app.types import Progress

    seen: list[Progress] = []
    fn = overall_progress(seen.append)
    for p in (Progress("document", 0, 2, "documents", "Indexing a.pdf", "/x/a.pdf"),
              Progress("embed", 16, 32, "chunks", "", "/x/a.pdf"), Progress("embed", 32, 32, "chunks", "", "/x/a.pdf"),
              Progress("document", 1, 2, "documents", "Indexing b.pdf", "/x/b.pdf"),
              Progress("parse", 3, 10, "pages", "", "/x/b.pdf"), Progress("document", 2, 2, "documents", "Done")):
        fn(p)
    done = [p.done for p in seen]
    assert done == sorted(done) and seen[-1].done == seen[-1].total == 2 * _PER_DOC  # one bar, never backwards
    assert seen[1].message == "a.pdf (1 of 2): 16/32 chunks" and seen[4].message.startswith("b.pdf (2 of 2)")
    assert [p.done // _PER_DOC for p in seen] == [0, 0, 0, 1, 1, 2]  # how the window notices each commit


def test_ingest_progress_of_a_scanned_document_never_goes_backwards() -> None:
    """Reading, OCR and embedding of one document share its part of the bar; the next
    document's read-ahead is not drawn."""
    from app.gui.actions import overall_progress
    from app.types import Progress

    seen: list[Progress] = []
    fn = overall_progress(seen.append)
    for p in (Progress("document", 0, 2, "documents", "Indexing scan.pdf", "/x/scan.pdf"),
              Progress("parse", 10, 10, "pages", "", "scan.pdf"),
              Progress("ocr", 0, 10, "pages", "OCR page 1/10", "scan.pdf"),
              Progress("parse", 4, 30, "pages", "", "next.pdf"),  # read ahead while this one is OCR'd
              Progress("ocr", 9, 10, "pages", "OCR page 10/10", "scan.pdf"),
              Progress("embed", 1, 40, "chunks", "", "/x/scan.pdf"), Progress("embed", 40, 40, "chunks", "", "/x/scan.pdf")):
        fn(p)
    done = [p.done for p in seen]
    assert done == sorted(done) and len(seen) == 6  # the read-ahead event was dropped
    assert seen[2].message == "scan.pdf (1 of 2): OCR page 1/10" and seen[-1].done < 1000


def test_ask_panel_keeps_early_evidence_when_the_answer_fails(qtbot) -> None:  # type: ignore[no-untyped-def]
    from app.analysis.types import Answer, Evidence
    from app.gui.widgets.ask_panel import AskPanel
    from app.types import Span

    panel = AskPanel()
    qtbot.addWidget(panel)
    ev = Evidence(rank=1, chunk_id="c1", doc_id="d1", doc_title="Gamma Delta Supply Agreement", section="", page_start=1,
                  page_end=1, char_start=0, char_end=60, score=1.0,
                  text="This agreement is governed by the laws of the State of Texas.",
                  best_sentence="This agreement is governed by the laws of the State of Texas.",
                  best_sentence_spans=[Span(1, 17, 77)])
    shown: list[tuple] = []
    panel.show_requested.connect(lambda *a: shown.append(a))
    panel.begin("Which law governs?")
    panel.show_evidence([ev])
    assert "1 passage found" in panel.evidence_label.text() and "State of Texas" in panel.evidence.toPlainText()
    assert "1 passage found (listed under Evidence). Writing the answer" in panel.browser.toPlainText()
    panel.show_error("The model stopped unexpectedly.")
    assert "did not finish" in panel.evidence_label.text() and "State of Texas" in panel.evidence.toPlainText()
    panel.click_evidence(0)
    assert shown == [("d1", [Span(1, 17, 77)], "evidence")]
    panel.begin("Again?")  # a new question starts with an empty list
    panel.click_evidence(0)
    assert len(shown) == 1 and "Searching" in panel.evidence.toPlainText()
    panel.show_answer(Answer(question="Again?", text="Texas.", evidence=[]))
    panel.show_evidence([ev])  # late (the answer is already shown): ignored
    assert "State of Texas" not in panel.evidence.toPlainText()
