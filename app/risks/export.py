"""Exports of risk reviews: one document as a table, JSON, CSV or Markdown; many documents
as a risk register (documents x categories, with page references or MISSING) in XLSX or CSV,
plus a findings sheet. Pages are shown 1-based, as a reader counts them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Sequence

from app.risks.types import Finding, RiskReport

COLUMNS = ["severity", "category", "kind", "pages", "confidence", "value", "quote", "rationale"]


def _value(f: Finding) -> str:
    if not f.value:
        return ""
    return str(f.value.get("iso") or f.value.get("text") or "")


def page_refs(f: Finding) -> str:
    return "p. " + ", ".join(str(p + 1) for p in f.pages) if f.pages else ""


def report_to_table(report: RiskReport) -> list[dict[str, Any]]:
    """One row per finding (present first, then missing), with the columns in COLUMNS."""
    return [{"severity": f.severity, "category": f.category_name, "kind": f.kind, "pages": page_refs(f),
             "confidence": round(f.confidence, 2), "value": _value(f), "quote": f.quote, "rationale": f.rationale}
            for f in report.findings]


def to_json(report: RiskReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False)


def to_csv(report: RiskReport) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS)
    w.writeheader()
    w.writerows(report_to_table(report))
    return buf.getvalue()


def _md_cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(report: RiskReport, title: str = "") -> str:
    lines = [f"# Risk review: {title or report.doc_id}", "",
             f"Taxonomy {report.taxonomy_version}; {len(report.present())} findings, "
             f"{len(report.missing())} missing clauses.", "",
             "| Severity | Category | Kind | Pages | Value | Quote |", "|---|---|---|---|---|---|"]
    for row in report_to_table(report):
        quote = row["quote"][:200] + ("…" if len(row["quote"]) > 200 else "")
        lines.append("| " + " | ".join(_md_cell(row[k]) for k in ("severity", "category", "kind", "pages", "value")) +
                     f" | {_md_cell(quote)} |")
    return "\n".join(lines) + "\n"


def _title(doc: Any, doc_id: str) -> str:
    if doc is None:
        return doc_id
    return getattr(doc, "title", None) or (doc.get("title") if isinstance(doc, dict) else None) or doc_id


def register_rows(reports: Sequence[RiskReport], documents: Any = None) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the documents x categories matrix ("p. 4, 12" or "MISSING")."""
    docs = _doc_map(documents)
    cats: dict[str, str] = {}
    for r in reports:
        for f in r.findings:
            cats.setdefault(f.category_id, f.category_name)
    header = ["document"] + list(cats.values())
    rows = []
    for r in reports:
        by_cat = {f.category_id: f for f in r.findings}
        cells = []
        for cid in cats:
            f = by_cat.get(cid)
            cells.append("" if f is None else ("MISSING" if f.kind == "missing" else page_refs(f) or "yes"))
        rows.append([_title(docs.get(r.doc_id), r.doc_id)] + cells)
    return header, rows


def _doc_map(documents: Any) -> dict[str, Any]:
    if not documents:
        return {}
    if isinstance(documents, dict):
        return documents
    return {getattr(d, "id", None) or d["id"]: d for d in documents}


def findings_rows(reports: Sequence[RiskReport], documents: Any = None) -> list[list[Any]]:
    docs = _doc_map(documents)
    return [[_title(docs.get(r.doc_id), r.doc_id)] + list(row.values()) for r in reports for row in report_to_table(r)]


def register(reports: Sequence[RiskReport], documents: Any, path: str | Path, fmt: str | None = None) -> Path:
    """Write the risk register to ``path`` as xlsx (sheets "Register", "Findings"), csv, or md
    (one Markdown review per document)."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".") or "xlsx").lower()
    if fmt in ("md", "markdown"):
        docs = _doc_map(documents)
        path.write_text("\n".join(to_markdown(r, _title(docs.get(r.doc_id), r.doc_id)) for r in reports),
                        encoding="utf-8")
        return path
    header, rows = register_rows(reports, documents)
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)
        return path
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Register"
    for row in [header] + rows:
        ws.append(row)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "B2"
    fs = wb.create_sheet("Findings")
    fs.append(["document"] + COLUMNS)
    for row in findings_rows(reports, documents):
        fs.append(row)
    wb.save(str(path))
    return path
