"""The main window with a real Service in tmp_path (FakeEmbedder / FakeLLM to keep CPU low)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import conftest_gui
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from app.embed.fake import FakeEmbedder
from app.gui.models.findings import finding_name
from app.llm.fake import FakeLLM

pytestmark = pytest.mark.gui
REPO = Path(__file__).resolve().parents[1]


def _drop(window, paths: list[Path]) -> None:  # type: ignore[no-untyped-def]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)


def test_startup_imports_no_heavy_library(tmp_path: Path) -> None:
    code = (
        "import os, sys, time; os.environ['QT_QPA_PLATFORM']='offscreen'; t=time.perf_counter()\n"
        "from app.gui.main import _app, create_window\n"
        f"app=_app(); w=create_window({str(tmp_path / 'd')!r}, sample=False, preload_model=False); w.show(); app.processEvents()\n"
        "import json; print(json.dumps({'s': time.perf_counter()-t, 'heavy': [m for m in "
        "('torch','chromadb','llama_cpp','transformers','pypdf','numpy') if m in sys.modules]}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["heavy"] == []  # numpy too: it costs ~0.3 s of a ≤ 2 s start (bench/gui_startup.py)
    print(f"window usable after {result['s']:.2f} s")


def test_drop_files_corrupt_one_reported_others_added(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    w = conftest_gui.make_window(qtbot, tmp_path / "data")
    assert w.centre.currentWidget() is w.empty  # empty state before any document
    good = conftest_gui.write_contract(tmp_path / "in" / "contract.pdf")
    bad = tmp_path / "in" / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4\nthis is not really a pdf\n")
    _drop(w, [good, bad])
    assert w.runner.wait_idle(120)
    docs = {Path(d.path).name: d for d in w.service.documents()}
    assert docs["contract.pdf"].status == "indexed"
    assert len(w.errors) == 1 and "broken.pdf" in w.errors[0]  # shown once, in plain words
    assert w.centre.currentWidget() is w.viewer
    rows = {w.library.model.row(r).title: r for r in range(w.library.model.rowCount())}
    assert "Acme Beta Services Agreement" in rows
    # the failure is listed with its reason (second line under the title, and the tooltip)
    from app.gui.models.documents import detail_line, status_tip

    broken = w.library.record(docs["broken.pdf"].id)
    assert broken is not None and broken.status == "failed"
    assert detail_line(broken).startswith("Failed: ") and broken.error and broken.error in status_tip(broken)
    assert "Index: 1 document, 3 pages" in w.status.index_label.text()
    log = (tmp_path / "data" / "logs" / "dossier.log").read_text()
    assert "broken.pdf" in log  # details in the log file


class _SlowEmbedder(FakeEmbedder):
    def embed(self, texts, on_progress=None, cancel=None):  # type: ignore[no-untyped-def]
        time.sleep(0.4)
        return super().embed(texts, on_progress, cancel)


def test_cancel_ingest_from_status_bar(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    w = conftest_gui.make_window(qtbot, tmp_path / "data", embedder=_SlowEmbedder())
    pdfs = [conftest_gui.write_contract(tmp_path / "in" / f"c{i}.pdf") for i in range(6)]
    for i, p in enumerate(pdfs):  # distinct content: distinct documents
        from app.samples.pdf_writer import write_text_pdf

        write_text_pdf(p, [f"Contract number {i}.\n" + t for t in conftest_gui.CONTRACT_PAGES])
    job = w.add_files([str(tmp_path / "in")])
    qtbot.waitUntil(lambda: w.status.cancel_button.isVisible() and job.state == "running", timeout=10000)
    # a running job and a big index fit a narrow window: the bar elides instead of widening it
    w.status.set_index(12_345, 1_234_567, 9_876_543)
    assert w.status.minimumSizeHint().width() <= 640 and w.minimumSizeHint().width() <= 760
    w.status.cancel_button.click()
    assert w.runner.wait_idle(60)
    assert job.state in ("cancelled", "done")
    assert job.state == "cancelled" or job.result.cancelled
    assert len(w.service.documents()) < 6
    assert not w.status.cancel_button.isVisible()


def _indexed_window(qtbot, tmp_path: Path, llm=None):  # type: ignore[no-untyped-def]
    w = conftest_gui.make_window(qtbot, tmp_path / "data", llm=llm)
    pdf = conftest_gui.write_contract(tmp_path / "in" / "contract.pdf")
    conftest_gui.add_and_wait(w, [pdf])
    return w


def test_ask_citation_click_highlights_in_viewer(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    llm = FakeLLM(conftest_gui.citing_responder(
        "indemnify", "Beta LLC shall indemnify Acme Corp against all losses without limitation as to amount."))
    w = _indexed_window(qtbot, tmp_path, llm)
    w.focus_ask()
    w.ask_panel.question.setText("Is the indemnity capped?")
    w.ask_panel.ask_button.click()
    assert w.runner.wait_idle(60)
    answer = w.ask_panel.answer
    assert answer is not None and answer.citations, w.ask_panel.browser.toPlainText()
    assert "cite:" in w.ask_panel.browser.toHtml()
    c = answer.citations[0]
    from PySide6.QtWidgets import QToolTip

    w.ask_panel.browser.highlighted.emit(QUrl(f"cite:{c.number}"))  # hovering a chip
    assert " ".join(c.quote.split())[:30] in " ".join(QToolTip.text().split())
    assert w.ask_panel.click_citation(c.number)
    assert w.viewer.doc_id == c.doc_id and w.viewer.current_page() == c.page == 1
    rects = w.viewer.canvas.highlight_viewport_rects("citation")
    assert rects
    for page, rect in rects:
        assert not rect.isEmpty() and w.viewer.canvas.page_rect(page).contains(rect)
    copied = w.ask_panel.copy_answer()
    assert f"[{c.number}]" in copied and "Sources:" in copied
    # a follow-up keeps the conversation: the model sees the first turn
    w.ask_panel.question.setText("And who pays?")
    w.ask_panel.ask_button.click()
    assert w.runner.wait_idle(60)
    assert "Is the indemnity capped?" in json.dumps(llm.history[-1])


def test_escape_cancels_generation(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    llm = FakeLLM(["word " * 400 + "[1]"], delay_s=0.02)
    w = _indexed_window(qtbot, tmp_path, llm)
    job = w.ask("What are the fees?")
    qtbot.waitUntil(lambda: len(w.ask_panel._streamed) > 0, timeout=20000)
    qtbot.keyClick(w, Qt.Key.Key_Escape)
    assert w.runner.wait_idle(20)
    assert job.state == "cancelled" or getattr(job.result, "cancelled", False)
    assert w.ask_panel.ask_button.isEnabled() and not w.ask_panel.stop_button.isEnabled()


def test_evidence_is_listed_and_opens_while_the_model_writes(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    llm = FakeLLM(["word " * 300 + "[1]"], delay_s=0.02)
    w = _indexed_window(qtbot, tmp_path, llm)
    job = w.ask("Is the indemnity capped?")
    qtbot.waitUntil(lambda: "Acme Beta Services Agreement" in w.ask_panel.evidence.toPlainText(), timeout=20000)
    assert not job.is_finished and w.ask_panel.answer is None  # the model is still writing
    w.ask_panel.click_evidence(0)
    rects = w.viewer.canvas.highlight_viewport_rects("evidence")
    assert w.viewer.doc_id and rects and all(not r.isEmpty() for _p, r in rects)
    assert not job.is_finished
    w.cancel_ask()
    assert w.runner.wait_idle(20)
    # stopped: the passages found stay listed and usable
    assert "Acme Beta Services Agreement" in w.ask_panel.evidence.toPlainText()
    w.ask_panel.click_evidence(0)
    assert w.viewer.canvas.highlight_viewport_rects("evidence")


def test_summary_and_risks_tabs(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    w = _indexed_window(qtbot, tmp_path, FakeLLM(["The agreement renews automatically [1]."]))
    doc = w.service.documents()[0]
    w.library.select(doc.id)
    assert w.risk_panel.doc_id == doc.id
    job = w.review(doc.id)
    assert w.runner.wait_idle(120), "review did not finish"
    assert job.state == "done", w.errors
    assert w.risk_panel.proxy.rowCount() > 0
    present = [r for r in range(w.risk_panel.proxy.rowCount())
               if w.risk_panel.model.row(w.risk_panel.proxy.index(r, 0).data(Qt.ItemDataRole.UserRole + 2)).spans]
    assert present, "some finding points at text"
    finding = w.risk_panel.model.row(w.risk_panel.proxy.index(present[0], 0).data(Qt.ItemDataRole.UserRole + 2))
    assert w.risk_panel.activate_row(present[0])  # what a click on the row does
    shown = [h for h in w.viewer.canvas.highlights if h.kind == finding.severity]  # coloured by severity
    assert shown and all(h.rects for h in shown) and w.viewer.current_page() == finding.spans[0].page
    w.risk_panel.table.selectRow(present[0])
    assert finding_name(finding) in w.risk_panel.detail.toPlainText()
    for r in present:  # Value: the extracted value, or the clause's start as a quote, never unmarked text
        f = w.risk_panel.model.row(w.risk_panel.proxy.index(r, 0).data(Qt.ItemDataRole.UserRole + 2))
        shown_value = w.risk_panel.proxy.index(r, 2).data()
        assert shown_value.startswith("\u201c") == (not f.value), (f.category_id, f.value, shown_value)
    w.risk_panel.severity.setCurrentIndex(w.risk_panel.severity.findData("missing"))
    missing = [w.risk_panel.model.row(w.risk_panel.proxy.index(r, 0).data(Qt.ItemDataRole.UserRole + 2))
               for r in range(w.risk_panel.proxy.rowCount())]
    assert missing and all(f.kind == "missing" for f in missing)  # this contract lacks standard clauses
    assert w.risk_panel.proxy.index(0, 2).data() == "Missing: not found in the document"
    assert not w.risk_panel.activate_row(0)  # nothing to show on a page
    for fmt in ("csv", "xlsx", "md"):  # the register, in each format the menu offers
        out = tmp_path / f"register.{fmt}"
        w.export_register(fmt, str(out))
        assert w.runner.wait_idle(60) and out.exists(), w.errors
        if fmt == "csv":
            header = out.read_text(encoding="utf-8").splitlines()[0]
            assert header.startswith("document,") and "Governing Law" in header
        elif fmt == "xlsx":
            from openpyxl import load_workbook

            assert load_workbook(out).sheetnames == ["Register", "Findings"]
        else:
            text = out.read_text(encoding="utf-8")
            assert text.startswith("# Risk review: Acme Beta Services Agreement") and "| Severity |" in text
    w.tabs.setCurrentWidget(w.summary_panel)
    job = w.summarize(doc.id)
    assert w.runner.wait_idle(120) and job.state == "done", w.errors
    assert w.summary_panel.summary is not None and w.summary_panel.browser.toPlainText().strip()
    # a page link shows the bullet on its page
    sections = w.summary_panel.summary.sections
    si, bi = next((i, j) for i, s in enumerate(sections) for j, b in enumerate(s.bullets) if b.spans)
    bullet = sections[si].bullets[bi]
    assert w.summary_panel.click_bullet(si, bi)
    assert w.viewer.current_page() == bullet.spans[0].page
    rects = w.viewer.canvas.highlight_viewport_rects("citation")
    assert rects and all(w.viewer.canvas.page_rect(p).contains(r) for p, r in rects)


def test_settings_dialog_model_and_token(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]
        store: dict[tuple[str, str], str] = {}

        def get_password(self, service, username):  # type: ignore[no-untyped-def]
            return self.store.get((service, username))

        def set_password(self, service, username, password):  # type: ignore[no-untyped-def]
            self.store[(service, username)] = password

        def delete_password(self, service, username):  # type: ignore[no-untyped-def]
            self.store.pop((service, username), None)

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        w = conftest_gui.make_window(qtbot, tmp_path / "data", llm=FakeLLM())
        dlg = w.open_settings()
        dlg.model_choice.setCurrentText("GGUF file…")
        dlg.model_path.setText(str(tmp_path / "missing.gguf"))
        dlg.accept()
        assert dlg.isVisible() and "does not exist" in dlg.model_info_label.text()  # clear error, stays open
        dlg.model_choice.setCurrentText("Bundled default model")
        dlg.threads.setValue(1)
        dlg.remote_url.setText("http://gpu-box:8080")
        dlg.token.setText("s3cret-token")
        dlg.accept()
        assert not dlg.isVisible()
        assert MemoryKeyring.store and "s3cret-token" in MemoryKeyring.store.values()
        saved = (tmp_path / "data" / "settings.json").read_text()
        assert '"llm_threads": 1' in saved and "s3cret-token" not in saved
        assert w.service.settings.llm_remote_url == "http://gpu-box:8080"
        w.runner.cancel_all()
        w.runner.wait_idle(30)
    finally:
        keyring.set_keyring(previous)


def test_settings_switch_ocr_and_index_server(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """OCR off is saved and used by the next ingest; pointing at a team index server that
    cannot be reached says so clearly, and clearing the address brings the local library back."""
    w = _indexed_window(qtbot, tmp_path, FakeLLM())
    local = [d.id for d in w.service.documents()]
    dlg = w.open_settings()
    assert dlg.ocr.isChecked()
    dlg.ocr.setChecked(False)
    dlg.index_url.setText("http://127.0.0.1:9")  # nothing listens on the discard port
    dlg.accept()
    assert w.service.settings.ocr is False and '"ocr": false' in (tmp_path / "data" / "settings.json").read_text()
    assert w.service.settings.index_server_url == "http://127.0.0.1:9"
    w.runner.wait_idle(60)
    qtbot.waitUntil(lambda: bool(w.errors), timeout=30000)
    assert "127.0.0.1:9" in w.errors[-1]
    dlg = w.open_settings()
    dlg.index_url.setText("")
    dlg.accept()
    w.runner.wait_idle(60)
    qtbot.waitUntil(lambda: [w.library.doc_at(r).id for r in range(w.library.proxy.rowCount())] == local, timeout=30000)
    assert w.service.settings.index_server_url == ""


def test_no_secure_store_means_token_not_saved(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        w = conftest_gui.make_window(qtbot, tmp_path / "data", llm=FakeLLM())
        dlg = w.open_settings()
        assert not dlg.token.isEnabled() and "cannot be saved" in dlg.token_note.text()
        dlg.reject()
    finally:
        keyring.set_keyring(previous)


def test_missing_model_file_gives_clear_error(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    w = conftest_gui.make_window(qtbot, tmp_path / "data")
    w.service.settings.llm_model = str(tmp_path / "nowhere.gguf")
    job = w.load_model(w.service.settings.llm_model)
    assert w.runner.wait_idle(60)
    assert job.state == "failed"
    assert w.errors and "nowhere.gguf" in w.errors[-1] and "Settings" in w.errors[-1]
    assert "not loaded" in w.status.model_label.text()


def test_password_prompt_indexes_encrypted_pdf(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from pypdf import PdfReader, PdfWriter

    plain = conftest_gui.write_contract(tmp_path / "plain.pdf")
    writer = PdfWriter()
    for page in PdfReader(plain).pages:
        writer.add_page(page)
    writer.encrypt("open-sesame-42")
    locked = tmp_path / "in" / "locked.pdf"
    locked.parent.mkdir()
    with open(locked, "wb") as fh:
        writer.write(fh)
    w = conftest_gui.make_window(qtbot, tmp_path / "data")
    conftest_gui.add_and_wait(w, [locked])
    doc = w.service.documents()[0]
    assert doc.status == "needs_password"
    w.errors.clear()
    w.ask_password(doc.id)
    w.password_dialog.edit.setText("open-sesame-42")
    w.password_dialog.accept()
    assert w.runner.wait_idle(60)
    assert [d.status for d in w.service.documents()] == ["indexed"]
    for f in (tmp_path / "data").rglob("*"):
        if f.is_file() and f.suffix in (".log", ".ini", ".json", ".txt"):
            assert "open-sesame-42" not in f.read_text(errors="ignore"), f


def test_first_run_sample_and_state_restored(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    w = conftest_gui.make_window(qtbot, data, sample=True)
    qtbot.waitUntil(lambda: bool(w.runner.jobs()) or bool(w.service.documents()), timeout=30000)
    assert w.runner.wait_idle(120)
    docs = w.service.documents()
    assert len(docs) == 1 and docs[0].status == "indexed" and docs[0].page_count == 4
    w.resize(790, 590)  # fits the offscreen screen, so restoreGeometry need not clamp it
    qtbot.waitUntil(lambda: w.width() == 790, timeout=10000)
    w.splitter.setSizes([200, 350, 240])
    size, sizes = w.size(), w.splitter.sizes()
    w.close()
    w2 = conftest_gui.make_window(qtbot, data, sample=True)
    assert w2.size() == size and w2.splitter.sizes() == sizes
    assert w2.runner.wait_idle(30) and len(w2.service.documents()) == 1  # the sample is not added twice
    w2.close()
    assert (data / "gui.ini").exists()


def test_remove_reindex_and_workspaces(qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    w = _indexed_window(qtbot, tmp_path)
    doc = w.service.documents()[0]
    w.library.select(doc.id)
    assert w.viewer.doc_id == doc.id  # selecting opens it
    w.library.reindex_button.click()
    assert w.runner.wait_idle(60)
    assert [d.status for d in w.service.documents()] == ["indexed"]
    w.switch_workspace("deals-2024")
    assert w.runner.wait_idle(30)  # the new workspace's library is read in a job
    assert w.service.workspace == "deals-2024" and w.service.documents() == []
    assert w.centre.currentWidget() is w.empty and w.viewer.doc_id is None
    w.switch_workspace("default")
    assert w.runner.wait_idle(30)
    assert [d.id for d in w.service.documents()] == [doc.id]
    w.library.select(doc.id)
    from PySide6.QtWidgets import QMessageBox

    asked: list[str] = []

    def answer(choice):  # type: ignore[no-untyped-def]
        def question(_parent, _title, text, *_args):  # type: ignore[no-untyped-def]
            asked.append(text)
            return choice
        return question

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Cancel))
    w.library.remove_button.click()  # asks first; Cancel keeps the document
    assert w.runner.wait_idle(60) and len(w.service.documents()) == 1
    assert asked and "Acme Beta Services Agreement" in asked[0] and "files themselves stay" in asked[0]
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    w.library.remove_button.click()
    assert w.runner.wait_idle(60)
    assert w.service.documents() == [] and w.viewer.doc_id is None


def test_second_window_is_read_only_with_message(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = conftest_gui.make_window(qtbot, tmp_path / "data")
    second = conftest_gui.make_window(qtbot, tmp_path / "data")
    assert not first.service.read_only and second.service.read_only
    assert second.errors and "can read but not change" in second.errors[0]
    pdf = conftest_gui.write_contract(tmp_path / "c.pdf")
    conftest_gui.add_and_wait(second, [pdf])
    assert "Close it" in second.errors[-1]  # the store's own message says what to do
