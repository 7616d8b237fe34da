"""The Risks tab: findings of one document's review, sortable and filterable, with export."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt, QUrl, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QMenu, QProgressBar, QPushButton, QSplitter, QTableView, QTextBrowser, QVBoxLayout,
                               QWidget)

from app.gui.models.findings import SEVERITY_COLORS, finding_name, findings_model, format_value
from app.gui.models.list_table import ROW_ROLE, SORT_ROLE
from app.gui.widgets.answer_html import Colors
from app.types import Progress, Span

EXPORT_FORMATS = {"csv": "CSV (*.csv)", "xlsx": "Excel workbook (*.xlsx)", "md": "Markdown (*.md)"}


class _FindingFilter(QSortFilterProxyModel):
    """Text filter over all columns plus a severity filter ("" = all, "missing" = missing clauses)."""

    def __init__(self, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.severity = ""

    def set_severity(self, severity: str) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt ≥ 6.9: invalidateFilter() is deprecated
            self.beginFilterChange()
            self.severity = severity
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.severity = severity
            self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent) -> bool:  # type: ignore[no-untyped-def]
        f = self.sourceModel().row(row)
        if self.severity == "missing" and getattr(f, "kind", "present") != "missing":
            return False
        if self.severity not in ("", "missing") and f.severity != self.severity:
            return False
        return super().filterAcceptsRow(row, parent)


class RiskPanel(QWidget):
    review_requested = Signal(str, bool)  # doc_id, force
    cancel_requested = Signal()
    export_requested = Signal(str)  # format
    show_requested = Signal(str, list, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc_id: str | None = None
        self.report: Any = None
        self.model = findings_model(self)
        self.proxy = _FindingFilter(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)
        self.label = QLabel("Select a document to review.")
        self.label.setWordWrap(True)
        self.review = QPushButton("Review risks", self)
        self.review.clicked.connect(lambda: self.doc_id and self.review_requested.emit(self.doc_id, self.report is not None))
        self.progress = QProgressBar(self)
        self.progress.setVisible(False)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter findings")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.severity = QComboBox(self)
        for text, key in (("All severities", ""), ("High", "high"), ("Medium", "medium"), ("Low", "low"),
                          ("Info", "info"), ("Missing clauses", "missing")):
            self.severity.addItem(text, key)
        self.severity.currentIndexChanged.connect(lambda _i: self.proxy.set_severity(self.severity.currentData()))
        self.table = self._make_table()
        self._build_layout()

    def _make_table(self) -> QTableView:
        t = QTableView(self)
        t.setModel(self.proxy)
        t.setSortingEnabled(True)
        t.sortByColumn(1, Qt.SortOrder.AscendingOrder)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.verticalHeader().hide()
        t.verticalHeader().setDefaultSectionSize(t.fontMetrics().height() + 10)
        t.setShowGrid(False)
        t.setAlternatingRowColors(True)
        t.setWordWrap(False)
        t.setTextElideMode(Qt.TextElideMode.ElideRight)
        h = t.horizontalHeader()
        h.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        h.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        t.setColumnWidth(0, 170)
        t.clicked.connect(lambda idx: self.activate_row(idx.row()))
        t.selectionModel().currentRowChanged.connect(lambda cur, _prev: self._show_detail(cur.row()))
        return t

    def _build_layout(self) -> None:
        export = QPushButton("Export register", self)
        export.setToolTip("Save the risk register of the selected documents (documents × clauses, with pages)")
        menu = QMenu(export)
        for fmt, label in EXPORT_FORMATS.items():
            menu.addAction(label.split(" (")[0] + "…", lambda f=fmt: self.export_requested.emit(f))
        export.setMenu(menu)
        self.export_button = export
        top = QHBoxLayout()
        top.addWidget(self.review)
        top.addWidget(self.progress, 1)
        top.addStretch(0)
        top.addWidget(export)
        filt = QHBoxLayout()
        filt.addWidget(self.filter, 1)
        filt.addWidget(self.severity)
        self.detail = QTextBrowser(self)
        self.detail.setOpenLinks(False)
        self.detail.anchorClicked.connect(self._detail_link)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.table)
        split.addWidget(self.detail)
        split.setSizes([420, 170])
        split.setChildrenCollapsible(False)
        self.legend = QLabel(self)
        self.legend.setText(legend_html())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.label)
        layout.addLayout(top)
        layout.addLayout(filt)
        layout.addWidget(split, 1)
        layout.addWidget(self.legend)
        self._show_detail(-1)

    def _finding(self, proxy_row: int) -> Any:
        if proxy_row < 0 or proxy_row >= self.proxy.rowCount():
            return None
        return self.model.row(self.proxy.index(proxy_row, 0).data(ROW_ROLE))

    def _show_detail(self, proxy_row: int) -> None:
        f = self._finding(proxy_row)
        c = Colors.from_palette(self.palette())
        if f is None:
            hint = ("Click a finding to see it highlighted on the page and read its details here."
                    if self.model.rows else "Press Review risks to check the document against the risk taxonomy "
                    "(liability caps, indemnities, renewal and notice, termination, change of control, governing "
                    "law…) and list the standard clauses it lacks.")
            self.detail.setHtml(f"<p style='color:{c.muted}'>{html.escape(hint)}</p>")
            return
        self.detail.setHtml(finding_html(f, proxy_row, c))

    def _detail_link(self, url: QUrl) -> None:
        s = url.toString()
        if s.startswith("row:"):
            self.activate_row(int(s[4:]))

    def set_document(self, doc_id: str | None, title: str = "") -> None:
        if doc_id == self.doc_id:
            return
        self.doc_id, self.report = doc_id, None
        self.label.setText(f"<b>{html.escape(title)}</b>" if doc_id else "Select a document to review.")
        self.review.setText("Review risks")
        self.review.setEnabled(doc_id is not None)
        self.model.set_rows([])
        self._show_detail(-1)

    def begin(self) -> None:
        self.review.setEnabled(False)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)

    def on_progress(self, p: Progress) -> None:
        if p.total > 0:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)

    def end(self) -> None:
        self.review.setEnabled(self.doc_id is not None)
        self.progress.setVisible(False)

    def show_report(self, doc_id: str, report: Any) -> None:
        if doc_id != self.doc_id:
            return
        self.report = report
        findings = list(getattr(report, "findings", []))
        self.model.set_rows(findings)
        high = sum(1 for f in findings if f.severity == "high" and getattr(f, "kind", "present") == "present")
        missing = sum(1 for f in findings if getattr(f, "kind", "present") == "missing")
        self.review.setText("Review again")
        self.label.setText(f"{self.label.text().split('<br>')[0]}<br>{len(findings) - missing} findings — "
                           f"{high} high severity; {missing} standard clause{'s' if missing != 1 else ''} missing")
        self.end()
        self._show_detail(-1)

    def activate_row(self, proxy_row: int) -> bool:
        """Jump to the finding in the viewer (missing clauses have nothing to show)."""
        if self.doc_id is None:
            return False
        f = self._finding(proxy_row)
        if f is None:
            return False
        spans = list(getattr(f, "spans", []) or [])
        if not spans and getattr(f, "page", None) is not None and f.page >= 0 and getattr(f, "kind", "") != "missing":
            spans = [Span(f.page, 0, 0)]
        if not spans:
            return False
        self.show_requested.emit(self.doc_id, spans, f.severity)
        return True


def legend_html() -> str:
    from app.gui.widgets.pdf_canvas import COLORS

    def swatch(kind: str) -> str:
        q = COLORS[kind]
        return f"<span style='background-color:rgb({q.red()},{q.green()},{q.blue()})'>&nbsp;&nbsp;&nbsp;</span>"

    items = " &nbsp;".join(f"{swatch(k)} {k}" for k in ("high", "medium", "low", "info"))
    return f"<small>On the page: {items} &nbsp;{swatch('citation')} citations</small>"


def finding_html(f: Any, proxy_row: int, c: Colors) -> str:
    """The details of one finding under the table: severity, value, the quoted clause, why."""
    color = SEVERITY_COLORS.get(f.severity)
    sev = f"<span style='color:{color.name() if color else c.muted}'>● {html.escape(f.severity)}</span>"
    head = f"<b>{html.escape(finding_name(f))}</b> &nbsp;{sev} &nbsp;<span style='color:{c.muted}'>" \
           f"confidence {float(getattr(f, 'confidence', 0.0)):.0%}</span>"
    if getattr(f, "kind", "present") == "missing":
        body = f"<p style='color:{c.warn}'>Not found in the document.</p>"
    else:
        page = getattr(f, "page", None)
        link = f" &nbsp;<a href='row:{proxy_row}' style='color:{c.link}'>show on page {page + 1}</a>" \
            if page is not None and page >= 0 else ""
        value = format_value(getattr(f, "value", None))
        body = (f"{link}" + (f"<p><b>Value:</b> {html.escape(value)}</p>" if value else "")
                + (f"<p><i>“{html.escape(' '.join(str(f.quote).split()))}”</i></p>" if getattr(f, "quote", "") else ""))
    why = getattr(f, "rationale", "")
    return head + body + (f"<p style='color:{c.muted}'><small>{html.escape(why)}</small></p>" if why else "")
