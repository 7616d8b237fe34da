"""The one window: library (left), viewer (centre), Ask / Summary / Risks (right).

Layout, persistence (geometry, splitter sizes, last workspace in an INI file under the data
folder), drag and drop, errors, settings and workspaces live here; calls into the service
are in :class:`app.gui.actions.ServiceActions`.
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

    # -- construction -----------------------------------------------------------------
    def _build(self) -> None:
        self.library = LibraryPanel(self)
        self.viewer = Viewer(self._resolve_doc, self)
        self.empty = EmptyState(self)
        self.centre = QStackedWidget(self)
        self.centre.addWidget(self.empty)
        self.centre.addWidget(self.viewer)
        self.ask_panel, self.summary_panel, self.risk_panel = AskPanel(self), SummaryPanel(self), RiskPanel(self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.ask_panel, "Ask")
        self.tabs.addTab(self.summary_panel, "Summary")
        self.tabs.addTab(self.risk_panel, "Risks")
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        # explicit minimums (below the panels' size hints) so the window fits small screens
        for w, minimum in ((self.library, 180), (self.centre, 260), (self.tabs, 240)):
            w.setMinimumWidth(minimum)
            self.splitter.addWidget(w)
        self.splitter.setSizes([320, 660, 480])
        self.splitter.setStretchFactor(1, 1)
        self.setCentralWidget(self.splitter)
        self.status = StatusBar(self.runner, self)
        self.setStatusBar(self.status)
        self._connect()

    def _connect(self) -> None:
        lib = self.library
        lib.add_requested.connect(self.choose_files)
        self.empty.add_requested.connect(self.choose_files)
        lib.remove_requested.connect(self.remove_documents)
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
        file_menu = self.menuBar().addMenu("&File")
        add = QAction("&Add documents…", self, shortcut=QKeySequence.StandardKey.Open, triggered=self.choose_files)
        settings = QAction("&Settings…", self, shortcut=QKeySequence("Ctrl+,"), triggered=self.open_settings)
        quit_ = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit, triggered=self.close)
        for a in (add, settings, quit_):
            file_menu.addAction(a)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(QAction("Open &log folder", self, triggered=lambda: QDesktopServices.openUrl(
            QUrl.fromLocalFile(str(Path(self.service.data_dir) / "logs")))))
        QShortcut(QKeySequence("Ctrl+L"), self, activated=self.focus_ask)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, activated=self.cancel_ask)

    # -- documents --------------------------------------------------------------------
    def refresh_documents(self, background: bool = False) -> None:
        """Re-read the library. ``background=True`` reads it in a job: while an ingest commits a
        large document the catalog is locked, and the GUI thread must not wait for it."""
        if background:
            self.runner.submit("Refreshing the library", lambda _ctx: self._read_library(),
                               on_result=self._show_library, on_error=lambda e: log.warning("refresh failed: %s", e),
                               quiet=True)
            return
        try:
            self._show_library(self._read_library())
        except Exception as err:  # noqa: BLE001 - a damaged catalog must not kill the window
            self.show_error(err)

    def _read_library(self) -> tuple[list, list[str]]:
        return self.service.documents(), list(self.service.library.catalog.workspaces())

    def _show_library(self, data: tuple[list, list[str]]) -> None:
        docs, workspaces = data
        self.library.set_documents(docs)
        self.library.set_workspaces(workspaces, self.service.workspace)
        indexed = [d for d in docs if d.status == "indexed"]
        self.status.set_index(len(indexed), sum(d.page_count for d in indexed), sum(d.chunk_count for d in indexed))
        self.centre.setCurrentWidget(self.viewer if docs else self.empty)

    def _resolve_doc(self, doc_id: str) -> tuple[str, list[str]] | None:
        doc = self.service.document(doc_id)
        if doc is None:
            return None
        return doc.path, [p.text for p in self.service.page_texts(doc.id)]

    def open_document(self, doc_id: str) -> bool:
        doc = self.service.document(doc_id)
        if doc is None:
            return False
        texts = [p.text for p in self.service.page_texts(doc.id)] or None
        ok = self.viewer.open_document(doc.id, doc.path, doc.title, texts)
        if not ok:
            self.show_error(f"Cannot display {doc.title or doc.path}: the file was moved or deleted. "
                            "Remove it from the library or add it again from its new place.")
        return ok

    def _selection_changed(self, ids: list[str]) -> None:
        docs = [d for d in (self.service.document(i) for i in ids) if d is not None]
        self.ask_panel.set_scope([d.title for d in docs])
        first = docs[0] if docs else None
        target = first.id if first and first.status == "indexed" else None
        self.summary_panel.set_document(target, first.title if first else "")
        self.risk_panel.set_document(target, first.title if first else "")
        if target:
            self.open_document(target)

    def show_span(self, doc_id: str, spans: list, kind: str = "citation") -> bool:
        self.centre.setCurrentWidget(self.viewer)
        return self.viewer.show_span(doc_id, spans, kind)

    def choose_files(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        paths, _ = QFileDialog.getOpenFileNames(self, "Add documents", "", "PDF documents (*.pdf);;All files (*)")
        self.add_files(paths)

    def focus_ask(self) -> None:
        self.tabs.setCurrentWidget(self.ask_panel)
        self.ask_panel.focus_question()

    # -- drag and drop ----------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
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
        for field in ("llm_model", "llm_n_ctx", "llm_gpu_layers", "llm_threads", "llm_remote_url", "embedder", "theme"):
            setattr(old, field, getattr(new, field))
        old.save(Path(self.service.data_dir))
        apply_theme(old.theme)
        if dlg.new_data_dir() and Path(dlg.new_data_dir()) != Path(self.service.data_dir):
            from app.gui.main import remember_data_dir

            remember_data_dir(dlg.new_data_dir())
            self.statusBar().showMessage("The new data folder is used from the next start.", 10000)
        if model_changed:
            self.load_model(old.llm_model)

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
        self.refresh_documents()

    # -- persistence ------------------------------------------------------------------
    def restore_state(self) -> None:
        geometry = self.ui_state.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1360, 840)
        splitter = self.ui_state.value("splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def save_state(self) -> None:
        self.ui_state.setValue("geometry", self.saveGeometry())
        self.ui_state.setValue("splitter", self.splitter.saveState())
        self.ui_state.setValue("workspace", self.service.workspace)
        self.ui_state.sync()

    def closeEvent(self, event: Any) -> None:
        self.save_state()
        self.runner.cancel_all()
        self.runner.wait_idle(10)
        self.service.close()
        super().closeEvent(event)
