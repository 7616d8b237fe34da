"""The library table: one row per :class:`app.types.DocumentRecord`."""

from __future__ import annotations

from PySide6.QtGui import QColor

from app.gui.models.list_table import Column, ListTableModel
from app.types import DocumentRecord

TYPE_NAMES = {"annual_report": "Annual report", "quarterly_report": "Quarterly report",
              "contract": "Contract", "other": "Other"}
STATUS_COLORS = {"indexed": QColor(40, 150, 70), "failed": QColor(200, 40, 40),
                 "needs_password": QColor(205, 120, 0), "indexing": QColor(60, 110, 200)}


def status_text(d: DocumentRecord) -> str:
    if d.status == "indexed":
        n = len(d.textless_pages)
        return f"Indexed, {n} scanned" if n else "Indexed"
    return {"failed": "Failed", "needs_password": "Needs password", "indexing": "Indexing…"}.get(d.status, d.status)


def status_tip(d: DocumentRecord) -> str:
    if d.status == "failed":
        return d.error or "Indexing failed. Re-index to try again."
    if d.status == "needs_password":
        return "This PDF is encrypted. Double-click it (or right-click ▸ Enter password…) to index it."
    if d.textless_pages:
        pages = ", ".join(str(p + 1) for p in d.textless_pages[:20])
        more = " …" if len(d.textless_pages) > 20 else ""
        return (f"{len(d.textless_pages)} page(s) have no text layer (scanned images): {pages}{more}. "
                "Their text is not searchable unless it was recognised (OCR).")
    if d.ocr_pages:
        return f"Text read by OCR on page(s) {', '.join(str(p + 1) for p in d.ocr_pages[:20])}"
    return d.path


def detail_line(d: DocumentRecord) -> str:
    """The grey second line under a document's title: what it is, or what went wrong."""
    if d.status == "failed":
        reason = " ".join((d.error or "could not be indexed").split())
        return f"Failed: {reason}"
    if d.status == "needs_password":
        return "Encrypted: double-click to enter its password"
    parts = [TYPE_NAMES.get(d.doc_type, d.doc_type)]
    if d.page_count:
        parts.append(f"{d.page_count} page{'s' if d.page_count != 1 else ''}")
    if d.textless_pages:
        parts.append(f"{len(d.textless_pages)} scanned")
    if d.ocr_pages:  # pages whose text was read by OCR
        parts.append(f"{len(d.ocr_pages)} OCR")
    return " · ".join(parts)


def status_color(d: DocumentRecord) -> QColor | None:
    if d.status == "indexed" and d.textless_pages:
        return QColor(150, 120, 0)
    return STATUS_COLORS.get(d.status)


def documents_model(parent=None) -> ListTableModel[DocumentRecord]:  # type: ignore[no-untyped-def]
    return ListTableModel[DocumentRecord]([
        Column("Document", lambda d: d.title or d.path, tooltip=lambda d: d.path,
               sort_key=lambda d: (d.title or d.path).lower()),
        Column("Status", status_text, tooltip=status_tip, foreground=status_color,
               sort_key=lambda d: (d.status != "indexed", d.status)),
        Column("Pages", lambda d: d.page_count or "", sort_key=lambda d: d.page_count, align_right=True),
        Column("Type", lambda d: TYPE_NAMES.get(d.doc_type, d.doc_type)),
    ], parent)
