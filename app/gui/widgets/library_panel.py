"""The left pane: workspace, filterable document list, Add / Remove / Re-index.

The panel keeps the records it shows, so the window can answer "which file, what status"
for a selection without touching the catalog on the GUI thread (during an ingest the
catalog's lock may be held by a long commit, and in team mode a read may sync with a server).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, QRect, QSize, QSortFilterProxyModel, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFont, QFontMetrics, QPalette
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMenu,
                               QPushButton, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QTableView,
                               QVBoxLayout, QWidget)

from app.gui.models.documents import detail_line, documents_model, status_color
from app.gui.models.list_table import ROW_ROLE, SORT_ROLE
from app.types import DocumentRecord

NEW_WORKSPACE = "New workspace…"


class _DocumentDelegate(QStyledItemDelegate):
    """Title on the first line; type and pages (or what went wrong) on a smaller second line."""

    def __init__(self, panel: "LibraryPanel") -> None:
        super().__init__(panel)
        self.panel = panel

    def paint(self, painter, option, index) -> None:  # type: ignore[no-untyped-def]
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        doc = self.panel.model.row(index.data(ROW_ROLE))
        opt.text = ""
        widget = opt.widget
        widget.style().drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        r = opt.rect.adjusted(6, 3, -6, -3)
        title_font = QFont(opt.font)
        title_font.setWeight(QFont.Weight.DemiBold)
        small = QFont(opt.font)
        small.setPointSizeF(max(6.0, opt.font.pointSizeF() * 0.88))
        tf, sf = QFontMetrics(title_font), QFontMetrics(small)
        painter.save()
        painter.setFont(title_font)
        painter.setPen(opt.palette.color(text_role))
        top = QRect(r.left(), r.top(), r.width(), tf.height())
        painter.drawText(top, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         tf.elidedText(doc.title or Path(doc.path).name, Qt.TextElideMode.ElideRight, r.width()))
        color = status_color(doc) if doc.status != "indexed" else None
        if selected or color is None:
            color = opt.palette.color(text_role)
            color.setAlpha(170)
        painter.setFont(small)
        painter.setPen(color)
        bottom = QRect(r.left(), top.bottom() + 2, r.width(), sf.height())
        painter.drawText(bottom, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         sf.elidedText(detail_line(doc), Qt.TextElideMode.ElideRight, r.width()))
        painter.restore()

    def sizeHint(self, option, index) -> QSize:  # type: ignore[no-untyped-def]
        return QSize(160, self.panel.row_height())


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
        self.loaded = False  # becomes True with the first set_documents (the library is read in a job)
        self.model = documents_model(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)
        self.workspace = QComboBox(self)
        self.workspace.setToolTip("A workspace is a separate collection of documents with its own index "
                                  "(e.g. one per company or deal)")
        self.workspace.activated.connect(self._workspace_activated)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter by title, status or type")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = self._make_table()
        self.summary = QLabel("Opening the library…")
        self.summary.setObjectName("librarySummary")
        ws_row = QHBoxLayout()
        ws_row.addWidget(QLabel("Workspace"))
        ws_row.addWidget(self.workspace, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 4, 6)
        layout.addLayout(ws_row)
        layout.addWidget(self.filter)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addLayout(self._buttons())

    def row_height(self) -> int:
        fm = self.fontMetrics()
        return int(fm.height() * 2.2) + 10

    def _make_table(self) -> QTableView:
        t = QTableView(self)
        t.setModel(self.proxy)
        t.setSortingEnabled(True)
        t.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setItemDelegateForColumn(0, _DocumentDelegate(self))
        t.verticalHeader().hide()
        t.verticalHeader().setDefaultSectionSize(self.row_height())
        t.setShowGrid(False)
        t.setAlternatingRowColors(True)
        t.setWordWrap(False)
        h = t.horizontalHeader()
        h.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        h.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        for c in (2, 3):  # pages and type are on the delegate's second line
            t.setColumnHidden(c, True)
        t.doubleClicked.connect(self._double_clicked)
        t.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        t.customContextMenuRequested.connect(self._context_menu)
        t.selectionModel().selectionChanged.connect(lambda *_: self.selection_changed.emit(self.selected_ids()))
        return t

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.add_button = QPushButton("Add…", self)
        self.add_button.setToolTip("Add PDF files (Ctrl+O). You can also drop files or folders on the window.")
        self.add_button.clicked.connect(self.add_requested)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setToolTip("Remove the selected documents from this workspace (the files stay on disk)")
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self.selected_ids()))
        self.reindex_button = QPushButton("Re-index", self)
        self.reindex_button.setToolTip("Read the selected documents again from their files")
        self.reindex_button.clicked.connect(lambda: self.reindex_requested.emit(self.selected_ids()))
        for b in (self.add_button, self.remove_button, self.reindex_button):
            row.addWidget(b)
        self._update_buttons()
        self.selection_changed.connect(lambda _ids: self._update_buttons())
        return row

    def _update_buttons(self) -> None:
        has = bool(self.selected_ids())
        self.remove_button.setEnabled(has)
        self.reindex_button.setEnabled(has)

    # -- data -------------------------------------------------------------------------
    def set_documents(self, docs: list[DocumentRecord]) -> None:
        self.loaded = True
        keep = set(self.selected_ids())
        self.table.selectionModel().blockSignals(True)
        self.model.set_rows(docs)
        sel = self.table.selectionModel()
        for r in range(self.proxy.rowCount()):
            if self.doc_at(r).id in keep:
                sel.select(self.proxy.index(r, 0), QItemSelectionModel.SelectionFlag.Select
                           | QItemSelectionModel.SelectionFlag.Rows)
        self.table.selectionModel().blockSignals(False)
        if keep != set(self.selected_ids()):
            self.selection_changed.emit(self.selected_ids())
        self._update_buttons()
        pages = sum(d.page_count for d in docs if d.status == "indexed")
        bad = sum(1 for d in docs if d.status not in ("indexed", "indexing"))
        s = "s" if len(docs) != 1 else ""
        self.summary.setText(f"{len(docs)} document{s}, {pages:,} pages indexed"
                             + (f" — {bad} need{'s' if bad == 1 else ''} attention" if bad else ""))

    def set_workspaces(self, names: list[str], current: str) -> None:
        self.workspace.blockSignals(True)
        self.workspace.clear()
        for n in sorted(set(names) | {current}):
            self.workspace.addItem(n)
        self.workspace.insertSeparator(self.workspace.count())
        self.workspace.addItem(NEW_WORKSPACE)
        self.workspace.setCurrentText(current)
        self.workspace.blockSignals(False)
        self._current_workspace = current

    def doc_at(self, proxy_row: int) -> DocumentRecord:
        return self.model.row(self.proxy.index(proxy_row, 0).data(ROW_ROLE))

    def record(self, doc_id: str) -> DocumentRecord | None:
        """The record shown for ``doc_id`` (no catalog access)."""
        return next((d for d in self.model.rows if d.id == doc_id), None)

    def records(self, doc_ids: list[str]) -> list[DocumentRecord]:
        return [d for d in (self.record(i) for i in doc_ids) if d is not None]

    def selected_ids(self) -> list[str]:
        rows = {i.row() for i in self.table.selectionModel().selectedRows()}
        return [self.doc_at(r).id for r in sorted(rows)]

    def select(self, doc_id: str) -> None:
        for r in range(self.proxy.rowCount()):
            if self.doc_at(r).id == doc_id:
                self.table.selectRow(r)
                return

    def _double_clicked(self, index: QModelIndex) -> None:
        doc = self.doc_at(index.row())
        if doc.status == "needs_password":
            self.password_requested.emit(doc.id)
        else:
            self.open_requested.emit(doc.id)

    def _context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        self.context_menu(self.doc_at(index.row())).popup(self.table.viewport().mapToGlobal(pos))

    def context_menu(self, doc: DocumentRecord) -> QMenu:
        """Open / Enter password / Re-index / Show the file / Remove, for ``doc`` and the selection."""
        ids = self.selected_ids() if doc.id in self.selected_ids() else [doc.id]
        menu = QMenu(self)
        if doc.status == "needs_password":
            menu.addAction("Enter password…", lambda: self.password_requested.emit(doc.id))
        else:
            menu.addAction("Open", lambda: self.open_requested.emit(doc.id))
        menu.addAction("Re-index", lambda: self.reindex_requested.emit(ids))
        menu.addAction("Show the file in its folder", lambda: QDesktopServices.openUrl(
            QUrl.fromLocalFile(str(Path(doc.path).parent))))
        menu.addSeparator()
        menu.addAction(f"Remove{' ' + str(len(ids)) + ' documents' if len(ids) > 1 else ''}…",
                       lambda: self.remove_requested.emit(ids))
        return menu

    def _workspace_activated(self, _i: int) -> None:
        name = self.workspace.currentText()
        if name == NEW_WORKSPACE:
            from PySide6.QtWidgets import QInputDialog

            name, ok = QInputDialog.getText(self, "New workspace", "Name of the new workspace:")
            name = name.strip()
            if not ok or not name:
                self.workspace.setCurrentText(getattr(self, "_current_workspace", ""))
                return
        self.workspace_changed.emit(name)
