"""The risk table: one row per finding of a :class:`RiskReport` (duck-typed: ``name``,
``severity``, ``value``, ``page``, ``confidence``, ``kind``, ``quote``, ``rationale``)."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QColor

from app.gui.models.list_table import Column, ListTableModel

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}
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
    if getattr(f, "kind", "present") == "missing":
        return "Missing: not found in the document"
    v = format_value(getattr(f, "value", None)) or getattr(f, "quote", "")
    v = " ".join(str(v).split())
    return v if len(v) <= 120 else v[:117] + "…"


def _tip(f: Any) -> str:
    parts = [getattr(f, "quote", ""), getattr(f, "rationale", "")]
    return "\n\n".join(p for p in parts if p)


def findings_model(parent=None) -> ListTableModel[Any]:  # type: ignore[no-untyped-def]
    return ListTableModel[Any]([
        Column("Category", finding_name, tooltip=_tip),
        Column("Severity", lambda f: f.severity.capitalize(), sort_key=lambda f: SEVERITY_ORDER.get(f.severity, 9),
               foreground=lambda f: SEVERITY_COLORS.get(f.severity)),
        Column("Value", _value, tooltip=_tip),
        Column("Page", _page, sort_key=lambda f: getattr(f, "page", -1) if getattr(f, "page", None) is not None else -1,
               align_right=True),
        Column("Conf.", lambda f: f"{float(getattr(f, 'confidence', 0.0)):.0%}",
               sort_key=lambda f: float(getattr(f, "confidence", 0.0)), align_right=True),
    ], parent)
