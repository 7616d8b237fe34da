import csv
import io
import json
from pathlib import Path

from openpyxl import load_workbook

from app.risks.export import register, report_to_table, to_csv, to_json, to_markdown
from app.risks.types import Finding, RiskReport
from app.types import Span


def _report(doc_id: str = "d1") -> RiskReport:
    return RiskReport(doc_id, "1.0+abc", [
        Finding("governing_law", "Governing Law", "contract", "medium", 0.9, "present",
                "Governing Law clause found: ...", [Span(3, 10, 50), Span(11, 0, 5)], 3,
                "governed by the laws of | New York", {"kind": "jurisdiction", "text": "New York", "jurisdiction": "New York"}),
        Finding("cap_on_liability", "Cap On Liability", "contract", "high", 0.8, "missing", "No Cap On Liability clause found: ..."),
    ], 1.5, "contract")


def test_single_document_formats() -> None:
    rep = _report()
    rows = report_to_table(rep)
    assert rows[0]["pages"] == "p. 4, 12" and rows[0]["value"] == "New York" and rows[1]["kind"] == "missing"
    assert json.loads(to_json(rep))["findings"][0]["spans"][0] == {"page": 3, "start": 10, "end": 50}
    parsed = list(csv.DictReader(io.StringIO(to_csv(rep))))
    assert parsed[0]["category"] == "Governing Law" and parsed[1]["severity"] == "high"
    md = to_markdown(rep, "Supply agreement")
    assert md.startswith("# Risk review: Supply agreement") and "\\|" in md and "| high | Cap On Liability | missing |" in md


def test_register_xlsx_and_csv(tmp_path: Path) -> None:
    reps = [_report("d1"), RiskReport("d2", "1.0+abc", [
        Finding("governing_law", "Governing Law", "contract", "medium", 0.7, "missing", "No Governing Law clause found")])]
    docs = [{"id": "d1", "title": "Alpha"}, {"id": "d2", "title": "Beta"}]
    x = register(reps, docs, tmp_path / "reg.xlsx")
    wb = load_workbook(x)
    ws = wb["Register"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0] == ["document", "Governing Law", "Cap On Liability"]
    assert values[1] == ["Alpha", "p. 4, 12", "MISSING"]
    assert values[2][:2] == ["Beta", "MISSING"]
    findings = [[c.value for c in row] for row in wb["Findings"].iter_rows()]
    assert findings[0][0] == "document" and findings[1][0] == "Alpha" and len(findings) == 4
    c = register(reps, docs, tmp_path / "reg.csv")
    rows = list(csv.reader(c.open(encoding="utf-8")))
    assert rows[1] == ["Alpha", "p. 4, 12", "MISSING"]
