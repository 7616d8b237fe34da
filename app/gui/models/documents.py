"""The library table: one row per :class:`app.types.DocumentRecord`."""

from __future__ import annotations

from PySide6.QtGui import QColor

from app.gui.models.list_table import Column, ListTableModel
from app.types import DocumentRecord

TYPE_NAMES = {"annual_report": "Annual report", "quarterly_report": "Quarterly report",
              "contract": "Contract", "other": "Other"}


def status_text(d: DocumentRecord) -> str:
    if d.status == "indexed":
        n = len(d.textless_pages)
        return f"Indexed ({n} scanned page{'s' if n != 1 else ''})" if n else "Indexed"
    return {"failed": "Failed", "needs_password": "Needs password", "indexing": "Indexing…"}.get(d.status, d.status)


def status_tip(d: DocumentRecord) -> str:
    if d.status == "failed":
        return d.error or "Indexing failed. Re-index to try again."
    if d.status == "needs_password":
        return "This PDF is encrypted. Double-click to enter its password."
    if d.textless_pages:
        pages = ", ".join(str(p + 1) for p in d.textless_pages[:20])
        return f"Pages without a text layer (scanned): {pages}"
    return d.path


def _status_color(d: DocumentRecord) -> QColor | None:
    return {"failed": QColor(200, 40, 40), "needs_password": QColor(200, 120, 0)}.get(d.status)


def documents_model(parent=None) -> ListTableModel[DocumentRecord]:  # type: ignore[no-untyped-def]
    return ListTableModel[DocumentRecord]([
        Column("Title", lambda d: d.title or d.path, tooltip=lambda d: d.path, sort_key=lambda d: (d.title or d.path).lower()),
        Column("Status", status_text, tooltip=status_tip, foreground=_status_color),
        Column("Pp.", lambda d: d.page_count or "", sort_key=lambda d: d.page_count, align_right=True),
        Column("Type", lambda d: TYPE_NAMES.get(d.doc_type, d.doc_type)),
    ], parent)
