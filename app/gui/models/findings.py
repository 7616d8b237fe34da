"""The risk table: one row per finding of a :class:`RiskReport` (duck-typed: ``name``,
``severity``, ``value``, ``page``, ``confidence``, ``kind``, ``quote``, ``rationale``)."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QColor

from app.gui.models.list_table import Column, ListTableModel

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}
QUOTE_COLOR = QColor(120, 120, 120)
SEVERITY_COLORS = {"high": QColor(200, 30, 30), "medium": QColor(210, 110, 0), "low": QColor(150, 130, 0),
                   "info": QColor(110, 110, 110)}


def _page(f: Any) -> str:
    page = getattr(f, "page", None)
    return "" if page is None or page < 0 or getattr(f, "kind", "present") == "missing" else str(page + 1)


def finding_name(f: Any) -> str:
    return getattr(f, "category_name", None) or getattr(f, "name", "") or getattr(f, "category_id", "")


def format_value(v: Any) -> str:
    if isinstance(v, dict):
        for key in ("display", "text", "summary"):
            if v.get(key):
                return str(v[key])
        return "; ".join(f"{k}: {x}" for k, x in v.items() if x not in (None, "", [], {}))
    return "" if v is None else str(v)


def _value(f: Any) -> str:
    """The extracted value; for a category without one, the start of the clause in quotes (in
    grey, see ``_value_color``), so a quote is never mistaken for an extracted value."""
    if getattr(f, "kind", "present") == "missing":
        return "Missing: not found in the document"
    v = " ".join(format_value(getattr(f, "value", None)).split())
    if not v:
        quote = " ".join(str(getattr(f, "quote", "") or "").split())
        v = f"\u201c{quote[:116]}\u2026\u201d" if len(quote) > 116 else (f"\u201c{quote}\u201d" if quote else "")
    return v if len(v) <= 120 else v[:117] + "…"


def _value_color(f: Any) -> QColor | None:
    return QUOTE_COLOR if getattr(f, "kind", "present") != "missing" and not format_value(getattr(f, "value", None)) else None


def _tip(f: Any) -> str:
    parts = [getattr(f, "quote", ""), getattr(f, "rationale", "")]
    return "\n\n".join(p for p in parts if p)


def findings_model(parent=None) -> ListTableModel[Any]:  # type: ignore[no-untyped-def]
    return ListTableModel[Any]([
        Column("Category", finding_name, tooltip=_tip),
        Column("Severity", lambda f: f.severity.capitalize(), sort_key=lambda f: SEVERITY_ORDER.get(f.severity, 9),
               foreground=lambda f: SEVERITY_COLORS.get(f.severity)),
        Column("Value", _value, tooltip=_tip, foreground=_value_color),
        Column("Page", _page, sort_key=lambda f: getattr(f, "page", -1) if getattr(f, "page", None) is not None else -1,
               align_right=True),
        Column("Conf.", lambda f: f"{float(getattr(f, 'confidence', 0.0)):.0%}",
               sort_key=lambda f: float(getattr(f, "confidence", 0.0)), align_right=True),
    ], parent)
