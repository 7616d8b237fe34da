"""The one window: library (left), viewer (centre), Ask / Summary / Risks (right).

Layout, persistence (geometry, splitter sizes, last workspace in an INI file under the data
folder), drag and drop, errors, settings and workspaces live here; calls into the service
are in :class:`app.gui.actions.ServiceActions`.

The GUI thread never reads the catalog: the library is read in a (quiet) job and the panel
keeps the records, and a document's page texts are read in a job after the PDF is shown.
During an ingest the catalog's lock may be held by a long commit, and in team mode a read
may talk to a server; either would freeze the window.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QSettings, Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QDragEnterEvent, QDropEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow, QMessageBox, QSplitter, QStackedWidget, QTabWidget, QWidget

from app.gui.actions import ServiceActions
from app.gui.jobs import Job, JobRunner
from app.gui.widgets.ask_panel import AskPanel
from app.gui.widgets.drop_overlay import DropOverlay
from app.gui.widgets.empty_state import EmptyState
from app.gui.widgets.library_panel import LibraryPanel
from app.gui.widgets.risk_panel import RiskPanel
from app.gui.widgets.status_bar import StatusBar
from app.gui.widgets.summary_panel import SummaryPanel
from app.gui.widgets.viewer import Viewer

log = logging.getLogger(__name__)

ServiceFactory = Callable[[str], Any]  # workspace name -> Service


class MainWindow(QMainWindow, ServiceActions):
    def __init__(self, service: Any, service_factory: ServiceFactory | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.service_factory = service_factory
        self.runner = JobRunner(parent=self)
        self.errors: list[str] = []  # every message shown (tests read it)
        self.on_closed: list[Callable[[], None]] = []  # run after the service is closed
        #: set by create_window: add the bundled sample when the first library read finds nothing
        self.sample_on_first_run = False
        self.select_after_refresh: str | None = None  # a document to select once the library is re-read
        self._error_box: QMessageBox | None = None
        self._conversation: Any = None
        self._ask_job: Job | None = None
        self._summary_job: Job | None = None
        self._last_doc_progress = -1
        self._model_name = "not loaded"
        self.settings_dialog: Any = None
        self.password_dialog: Any = None
        self.setWindowTitle("Dossier")
        self.setAcceptDrops(True)
        self.ui_state = QSettings(str(Path(service.data_dir) / "gui.ini"), QSettings.Format.IniFormat)
        self._build()
        self._menus()
        self.restore_state()
        self.refresh_documents()
        from app.gui.widgets import interrupted_notice

        self.interrupted_notice = interrupted_notice.attach(self)  # jobs a crash cut short: Resume / Dismiss

    # -- construction -----------------------------------------------------------------
    def _build(self) -> None:
        self.library = LibraryPanel(self)
        self.viewer = Viewer(self._resolve_doc, self)
        self.empty = EmptyState(self)
        self.empty.set_loading(True)
        self.centre = QStackedWidget(self)
        self.centre.addWidget(self.empty)
        self.centre.addWidget(self.viewer)
        self.ask_panel, self.summary_panel, self.risk_panel = AskPanel(self), SummaryPanel(self), RiskPanel(self)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.ask_panel, "Ask")
        self.tabs.addTab(self.summary_panel, "Summary")
        self.tabs.addTab(self.risk_panel, "Risks")
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        # explicit minimums (below the panels' size hints) so the window fits small screens
        for w, minimum in ((self.library, 180), (self.centre, 260), (self.tabs, 260)):
            w.setMinimumWidth(minimum)
            self.splitter.addWidget(w)
        self.splitter.setSizes([300, 600, 560])
        self.splitter.setStretchFactor(1, 1)
        self.setCentralWidget(self.splitter)
        self.status = StatusBar(self.runner, self)
        self.setStatusBar(self.status)
        self.drop_overlay = DropOverlay(self)
        self._connect()

    def _connect(self) -> None:
        lib = self.library
        lib.add_requested.connect(self.choose_files)
        self.empty.add_requested.connect(self.choose_files)
        self.empty.sample_requested.connect(self.add_sample)
        lib.remove_requested.connect(self.confirm_remove)
        lib.reindex_requested.connect(self.reindex_documents)
        lib.open_requested.connect(self.open_document)
        lib.password_requested.connect(self.ask_password)
        lib.selection_changed.connect(self._selection_changed)
        lib.workspace_changed.connect(self.switch_workspace)
        self.ask_panel.ask_requested.connect(self.ask)
        self.ask_panel.cancel_requested.connect(self.cancel_ask)
        self.ask_panel.new_conversation_requested.connect(self.new_conversation)
        self.summary_panel.generate_requested.connect(self.summarize)
        self.summary_panel.cancel_requested.connect(lambda: self._summary_job and self.runner.cancel(self._summary_job))
        self.risk_panel.review_requested.connect(self.review)
        self.risk_panel.export_requested.connect(self.export_register)
        for panel in (self.ask_panel, self.summary_panel, self.risk_panel):
            panel.show_requested.connect(self.show_span)

    def _menus(self) -> None:
        def action(menu: Any, text: str, slot: Callable[[], Any], shortcut: Any = None) -> QAction:
            a = QAction(text, self)
            if shortcut is not None:
                a.setShortcut(shortcut)
            a.triggered.connect(slot)
            menu.addAction(a)
            return a

        file_menu = self.menuBar().addMenu("&File")
        self.add_action = action(file_menu, "&Add documents…", self.choose_files, QKeySequence.StandardKey.Open)
        action(file_menu, "Add a &folder…", self.choose_folder)
        file_menu.addSeparator()
        action(file_menu, "&Settings…", self.open_settings, QKeySequence("Ctrl+,"))
        file_menu.addSeparator()
        action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        edit = self.menuBar().addMenu("&Edit")
        action(edit, "&Find in document\tCtrl+F", self.viewer.start_find)  # the viewer owns the shortcut
        action(edit, "Ask a &question\tCtrl+L", self.focus_ask)
        action(edit, "&Stop generating\tEsc", self.cancel_generation)
        help_menu = self.menuBar().addMenu("&Help")
        action(help_menu, "Open the &log folder", lambda: QDesktopServices.openUrl(
            QUrl.fromLocalFile(str(Path(self.service.data_dir) / "logs"))))
        QShortcut(QKeySequence("Ctrl+L"), self, activated=self.focus_ask)
        # the one Esc binding (a second one on a child would make Esc ambiguous and do nothing)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, activated=self.cancel_generation)

    # -- documents --------------------------------------------------------------------
    def refresh_documents(self) -> Job:
        """Re-read the library in a quiet job; the panel shows the result when it arrives. Reads
        run one at a time, in order, and a read still waiting to start already covers this one."""
        queued = [j for j in self.runner.jobs() if j.resource == "library-read" and j.state == "queued"]
        if queued:
            return queued[0]
        return self.runner.submit("Reading the library", lambda _ctx: self._read_library(), resource="library-read",
                                  on_result=self._show_library, on_error=self._library_failed, quiet=True)

    def _read_library(self) -> tuple[list, list[str]]:
        return self.service.documents(), list(self.service.library.catalog.workspaces())

    def _library_failed(self, err: BaseException) -> None:
        self.empty.set_loading(False)
        self.show_error(err)

    def _show_library(self, data: tuple[list, list[str]]) -> None:
        docs, workspaces = data
        first = not self.library.loaded
        self.library.set_documents(docs)
        self.library.set_workspaces(workspaces, self.service.workspace)
        indexed = [d for d in docs if d.status == "indexed"]
        self.status.set_index(len(indexed), sum(d.page_count for d in indexed), sum(d.chunk_count for d in indexed))
        self.empty.set_loading(False)
        self.centre.setCurrentWidget(self.viewer if docs else self.empty)
        if self.select_after_refresh and self.library.record(self.select_after_refresh) is not None:
            self.library.select(self.select_after_refresh)
            self.select_after_refresh = None
        if first and not docs and self.sample_on_first_run:
            self.add_sample(first_run=True)

    def add_sample(self, first_run: bool = False) -> Any:
        """Add the bundled sample agreement (on a first run only once, ever)."""
        from app.samples.sample_docs import sample_agreement

        if first_run and (self.ui_state.value("sample_added") in (True, "true") or self.service.read_only):
            return None
        self.ui_state.setValue("sample_added", True)
        path = sample_agreement(Path(self.service.data_dir) / "samples")
        return self.add_files([str(path)])

    def _resolve_doc(self, doc_id: str) -> tuple[str, list] | None:
        """The viewer's resolver: the file from the library's records; page texts follow in a job."""
        doc = self.library.record(doc_id)
        if doc is None:
            return None
        self._load_page_texts(doc.id)
        return doc.path, []

    def _load_page_texts(self, doc_id: str) -> None:
        # PageTexts, not strings: OCR'd pages carry their boxes, which the canvas highlights on
        self.runner.submit("Reading page text", lambda _ctx: self.service.page_texts(doc_id), quiet=True,
                           on_result=lambda texts: self.viewer.set_page_texts(doc_id, texts),
                           on_error=lambda e: log.warning("page texts of %s: %s", doc_id, e))

    def open_document(self, doc_id: str) -> bool:
        doc = self.library.record(doc_id)
        if doc is None:
            return False
        if self.viewer.doc_id == doc.id:
            return True
        ok = self.viewer.open_document(doc.id, doc.path, doc.title)
        if not ok:
            self.show_error(f"Cannot display {doc.title or doc.path}: the file was moved or deleted. "
                            "Remove it from the library or add it again from its new place.")
            return False
        self._load_page_texts(doc.id)
        return True

    def _selection_changed(self, ids: list[str]) -> None:
        docs = self.library.records(ids)
        self.ask_panel.set_scope([d.title or Path(d.path).name for d in docs])
        first = docs[0] if docs else None
        target = first.id if first and first.status == "indexed" else None
        self.summary_panel.set_document(target, first.title if first else "")
        self.risk_panel.set_document(target, first.title if first else "")
        if target:
            self.open_document(target)

    def show_span(self, doc_id: str, spans: list, kind: str = "citation") -> bool:
        self.centre.setCurrentWidget(self.viewer)
        if self.viewer.doc_id != doc_id and not self.open_document(doc_id):
            return False
        return self.viewer.show_span(doc_id, spans, kind)

    def choose_files(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        paths, _ = QFileDialog.getOpenFileNames(self, "Add documents", "", "PDF documents (*.pdf);;All files (*)")
        self.add_files(paths)

    def choose_folder(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        folder = QFileDialog.getExistingDirectory(self, "Add every PDF in a folder")
        if folder:
            self.add_files([folder])

    def confirm_remove(self, doc_ids: list[str]) -> Any:
        """Ask first: removing drops the document's index, summaries and reviews (not the file)."""
        docs = self.library.records(doc_ids)
        if not docs:
            return None
        what = f"“{docs[0].title or Path(docs[0].path).name}”" if len(docs) == 1 else f"{len(docs)} documents"
        answer = QMessageBox.question(
            self, "Remove documents", f"Remove {what} from this workspace?\n\nThe files themselves stay where they "
            "are; you can add them again later.", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            return None
        return self.remove_documents([d.id for d in docs])

    def focus_ask(self) -> None:
        self.tabs.setCurrentWidget(self.ask_panel)
        self.ask_panel.focus_question()

    def cancel_generation(self) -> None:
        """Esc: stop the answer being written, else the summary being written."""
        for job in (self._ask_job, self._summary_job):
            if job is not None and not job.is_finished:
                self.runner.cancel(job)
                return

    # -- drag and drop ----------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
            self.drop_overlay.show_over(self)

    def dragLeaveEvent(self, event: Any) -> None:
        self.drop_overlay.hide()
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self.drop_overlay.hide()
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.add_files(paths)

    # -- errors -----------------------------------------------------------------------
    def show_error(self, err: BaseException | str) -> None:
        """Show a message once (non-blocking); details go to the log file."""
        text = self.error_text(err)
        if isinstance(err, BaseException):
            log.error("shown to the user: %s", text, exc_info=err)
        else:
            log.warning("shown to the user: %s", text)
        if self._error_box is not None and self._error_box.isVisible() and self._error_box.text() == text:
            return
        self.errors.append(text)
        box = QMessageBox(QMessageBox.Icon.Warning, "Dossier", text, QMessageBox.StandardButton.Ok, self)
        box.setInformativeText(f"Details are in {Path(self.service.data_dir) / 'logs' / 'dossier.log'}")
        self._error_box = box
        box.open()

    # -- settings and workspaces ------------------------------------------------------
    def open_settings(self) -> Any:
        from app.gui.widgets.settings_dialog import SettingsDialog

        inspector = getattr(self.service, "inspect_model", None)
        dlg = SettingsDialog(self.service.settings, str(self.service.data_dir), inspector, self)
        dlg.accepted.connect(lambda: self.apply_settings(dlg))
        self.settings_dialog = dlg
        dlg.open()
        return dlg

    def apply_settings(self, dlg: Any) -> None:
        from app.gui.theme import apply_theme

        old, new = self.service.settings, dlg.settings
        if new.embedder != old.embedder:
            self.statusBar().showMessage("The new embedding model is used after a restart; then re-index your documents.",
                                         15000)
        model_changed = (old.llm_model, old.llm_n_ctx, old.llm_gpu_layers, old.llm_threads, old.llm_remote_url) != (
            new.llm_model, new.llm_n_ctx, new.llm_gpu_layers, new.llm_threads, new.llm_remote_url)
        index_changed = new.index_server_url != old.index_server_url
        for field in ("llm_model", "llm_n_ctx", "llm_gpu_layers", "llm_threads", "llm_remote_url", "embedder", "theme",
                      "ocr"):
            setattr(old, field, getattr(new, field))
        old.save(Path(self.service.data_dir))
        if index_changed:
            self.switch_index_server(new.index_server_url)
        apply_theme(old.theme)
        if dlg.new_data_dir() and Path(dlg.new_data_dir()) != Path(self.service.data_dir):
            from app.gui.main import remember_data_dir

            remember_data_dir(dlg.new_data_dir())
            self.statusBar().showMessage("The new data folder is used from the next start.", 10000)
        if model_changed:
            self.load_model(old.llm_model)

    def switch_index_server(self, url: str) -> None:
        """Local index <-> a team's index server (Settings -> Team): the library is reopened on
        the other index once running jobs have stopped."""
        self.runner.cancel_all()
        self.runner.wait_idle(10)
        self.viewer.close_document()
        self._conversation = None
        try:
            self.service.set_index_server(url)
        except Exception as err:  # noqa: BLE001 - an unreachable server must not take the window down
            self.show_error(err)
        self.library.set_documents([])
        self.refresh_documents()
        self.statusBar().showMessage(f"Using the team index at {url}." if url else "Using the index on this computer.",
                                     10000)

    def switch_workspace(self, name: str) -> None:
        if name == self.service.workspace or self.service_factory is None:
            return
        self.runner.cancel_all()
        self.runner.wait_idle(10)
        self.viewer.close_document()
        self.service.close()
        self.service = self.service_factory(name)
        self._conversation = None
        self.ui_state.setValue("workspace", name)
        self.library.set_documents([])
        self.empty.set_loading(True)
        self.centre.setCurrentWidget(self.empty)
        self.refresh_documents()

    # -- persistence ------------------------------------------------------------------
    def restore_state(self) -> None:
        geometry = self.ui_state.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1440, 880)
        splitter = self.ui_state.value("splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)
        tab = self.ui_state.value("tab")
        if tab is not None and str(tab).isdigit():
            self.tabs.setCurrentIndex(int(tab))

    def save_state(self) -> None:
        self.ui_state.setValue("geometry", self.saveGeometry())
        self.ui_state.setValue("splitter", self.splitter.saveState())
        self.ui_state.setValue("tab", self.tabs.currentIndex())
        self.ui_state.setValue("workspace", self.service.workspace)
        self.ui_state.sync()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if self.drop_overlay.isVisible():
            self.drop_overlay.setGeometry(self.rect())

    def closeEvent(self, event: Any) -> None:
        self.save_state()
        self.runner.cancel_all()
        self.runner.wait_idle(10)
        self.service.close()
        for fn in self.on_closed:
            try:
                fn()
            except Exception:  # noqa: BLE001 - closing must finish
                log.warning("cleanup after close failed", exc_info=True)
        self.on_closed.clear()
        super().closeEvent(event)
