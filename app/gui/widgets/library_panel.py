"""The left pane: workspace, filterable document list, Add / Remove / Re-index."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QPushButton, QTableView, QVBoxLayout, QWidget)

from app.gui.models.documents import documents_model
from app.gui.models.list_table import ROW_ROLE, SORT_ROLE
from app.types import DocumentRecord

NEW_WORKSPACE = "New workspace…"


class LibraryPanel(QWidget):
    add_requested = Signal()
    remove_requested = Signal(list)  # doc ids
    reindex_requested = Signal(list)  # doc ids
    open_requested = Signal(str)  # doc id
    password_requested = Signal(str)  # doc id
    selection_changed = Signal(list)  # doc ids
    workspace_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = documents_model(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)
        self.workspace = QComboBox(self)
        self.workspace.setToolTip("Workspace: a separate library with its own index")
        self.workspace.activated.connect(self._workspace_activated)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter documents")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = self._make_table()
        self.summary = QLabel("")
        self.summary.setObjectName("librarySummary")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.workspace)
        layout.addWidget(self.filter)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addLayout(self._buttons())

    def _make_table(self) -> QTableView:
        t = QTableView(self)
        t.setModel(self.proxy)
        t.setSortingEnabled(True)
        t.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.verticalHeader().hide()
        t.setWordWrap(False)
        t.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        t.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in (1, 2, 3):
            t.horizontalHeader().setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        t.doubleClicked.connect(self._double_clicked)
        t.selectionModel().selectionChanged.connect(lambda *_: self.selection_changed.emit(self.selected_ids()))
        return t

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.add_button = QPushButton("Add…", self)
        self.add_button.setToolTip("Add PDF files (Ctrl+O). You can also drop files or folders on the window.")
        self.add_button.clicked.connect(self.add_requested)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self.selected_ids()))
        self.reindex_button = QPushButton("Re-index", self)
        self.reindex_button.clicked.connect(lambda: self.reindex_requested.emit(self.selected_ids()))
        for b in (self.add_button, self.remove_button, self.reindex_button):
            row.addWidget(b)
        return row

    # -- data -------------------------------------------------------------------------
    def set_documents(self, docs: list[DocumentRecord]) -> None:
        keep = set(self.selected_ids())
        self.model.set_rows(docs)
        sel = self.table.selectionModel()
        for r in range(self.proxy.rowCount()):
            if self.doc_at(r).id in keep:
                sel.select(self.proxy.index(r, 0), QItemSelectionModel.SelectionFlag.Select
                           | QItemSelectionModel.SelectionFlag.Rows)
        pages = sum(d.page_count for d in docs if d.status == "indexed")
        bad = sum(1 for d in docs if d.status != "indexed")
        self.summary.setText(f"{len(docs)} document{'s' if len(docs) != 1 else ''}, {pages} pages" + (f" — {bad} need attention" if bad else ""))

    def set_workspaces(self, names: list[str], current: str) -> None:
        self.workspace.blockSignals(True)
        self.workspace.clear()
        for n in sorted(set(names) | {current}):
            self.workspace.addItem(n)
        self.workspace.addItem(NEW_WORKSPACE)
        self.workspace.setCurrentText(current)
        self.workspace.blockSignals(False)

    def doc_at(self, proxy_row: int) -> DocumentRecord:
        return self.model.row(self.proxy.index(proxy_row, 0).data(ROW_ROLE))

    def selected_ids(self) -> list[str]:
        rows = {i.row() for i in self.table.selectionModel().selectedRows()}
        return [self.doc_at(r).id for r in sorted(rows)]

    def select(self, doc_id: str) -> None:
        for r in range(self.proxy.rowCount()):
            if self.doc_at(r).id == doc_id:
                self.table.selectRow(r)
                return

    def _double_clicked(self, index) -> None:  # type: ignore[no-untyped-def]
        doc = self.doc_at(index.row())
        if doc.status == "needs_password":
            self.password_requested.emit(doc.id)
        else:
            self.open_requested.emit(doc.id)

    def _workspace_activated(self, _i: int) -> None:
        name = self.workspace.currentText()
        if name == NEW_WORKSPACE:
            from PySide6.QtWidgets import QInputDialog

            name, ok = QInputDialog.getText(self, "New workspace", "Name of the new workspace:")
            name = name.strip()
            if not ok or not name:
                return
        self.workspace_changed.emit(name)
