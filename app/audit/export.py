"""``dossier audit export``: the audit trail as a report (Markdown, JSON or CSV).

Every report starts from a fresh verification, so a reader sees at once whether the
chain is intact, and carries the head hash to write down as an external anchor.
Pages are 1-based here (people read reports); the log itself stores 0-based pages.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from app.audit.log import AuditLog, Verification

FORMATS = ("md", "json", "csv")
_CSV_FIELDS = ("seq", "time", "user", "host", "event", "status", "request", "documents", "pages", "model",
               "model_sha256", "text", "hash")


def pages_of(entry: dict[str, Any]) -> list[int]:
    """0-based pages an entry cites (answers: citations; summaries: bullets; reviews: findings)."""
    pages: set[int] = set()
    for c in entry.get("citations", []):
        pages.add(int(c["page"]))
        pages.update(int(s[0]) for s in c.get("spans", []))
    for sec in entry.get("sections", []):
        for b in sec.get("bullets", []):
            pages.update(int(p) for p in b.get("pages", []))
    for f in entry.get("findings", []):
        pages.update(int(s[0]) for s in f.get("spans", []))
        if f.get("page") is not None:
            pages.add(int(f["page"]))
    return sorted(pages)


def _text(entry: dict[str, Any]) -> str:
    ev = entry.get("event")
    if ev == "question":
        return str(entry.get("question", ""))
    if ev == "answer":
        return str(entry.get("text") or entry.get("error") or "")
    if ev == "summary":
        return f"{sum(len(s.get('bullets', [])) for s in entry.get('sections', []))} bullets"
    if ev == "review":
        found = entry.get("findings", [])
        return f"{sum(1 for f in found if f.get('kind') == 'present')} findings, " \
               f"{sum(1 for f in found if f.get('kind') == 'missing')} missing clauses"
    return str(entry.get("detail") or entry.get("error") or "")


def _row(entry: dict[str, Any]) -> dict[str, Any]:
    model = entry.get("model") or {}
    return {"seq": entry.get("seq"), "time": entry.get("time"), "user": entry.get("user", ""),
            "host": entry.get("host", ""), "event": entry.get("event"), "status": entry.get("status", ""),
            "request": entry.get("request", ""),
            "documents": " ".join(str(d.get("id", ""))[:12] for d in entry.get("documents", [])),
            "pages": " ".join(str(p + 1) for p in pages_of(entry)),
            "model": model.get("name") or model.get("url") or "", "model_sha256": model.get("sha256", ""),
            "text": _text(entry), "hash": entry.get("hash", "")}


def render(log: AuditLog, fmt: str) -> tuple[str, Verification]:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}")
    check = log.verify()
    entries = log.entries()
    if fmt == "json":
        return json.dumps({"verification": check.to_dict(), "entries": entries}, indent=2, ensure_ascii=False), check
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=_CSV_FIELDS)
        writer.writeheader()
        writer.writerows(_row(e) for e in entries)
        return buf.getvalue(), check
    return _markdown(entries, check), check


def _cell(value: Any, width: int = 160) -> str:
    text = " ".join(str(value).split()).replace("|", "\\|")
    return text if len(text) <= width else text[: width - 1] + "…"


def _markdown(entries: list[dict[str, Any]], check: Verification) -> str:
    status = "intact" if check.ok else f"FAILED: {check.first_problem()}"
    lines = ["# Dossier audit report", "", f"- Log: `{check.path}`", f"- Entries: {check.entries}",
             f"- Verification: {status}", f"- Head: #{check.head_seq} `{check.head_hash}` (write this down to "
             "check later with `dossier audit verify --anchor HASH`)"]
    lines += [f"- Problem: {p.message}" for p in check.problems[1:]]
    lines += [f"- Notice: {n}" for n in check.notices]
    lines += ["", "| # | Time (UTC) | User | Event | Documents | Pages | Model | Details |",
              "|---|---|---|---|---|---|---|---|"]
    for e in entries:
        r = _row(e)
        event = r["event"] + (f" → #{r['request']}" if r["request"] != "" else "")
        status = f" ({r['status']})" if r["status"] and r["status"] not in ("answered", "summarized", "reviewed") else ""
        lines.append(f"| {r['seq']} | {r['time']} | {_cell(r['user'])} | {event}{status} | {r['documents']} | "
                     f"{r['pages']} | {_cell(r['model'], 40)} | {_cell(r['text'])} |")
    return "\n".join(lines) + "\n"


def export(log: AuditLog, path: str | os.PathLike[str], fmt: str = "md") -> Verification:
    """Write the report to ``path``; returns the verification it contains."""
    text, check = render(log, fmt)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8", newline="" if fmt == "csv" else None)
    return check
