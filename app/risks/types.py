"""Result types of a risk review: plain dataclasses with ``to_dict()`` for the CLI, the GUI
and the exports."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from app.types import Span

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}


@dataclass
class Finding:
    category_id: str
    category_name: str
    group: str
    severity: str  # high | medium | low | info
    confidence: float  # 0..1
    kind: Literal["present", "missing"]
    rationale: str
    spans: list[Span] = field(default_factory=list)
    page: int | None = None  # 0-based page of the best sentence
    quote: str = ""
    value: dict[str, Any] | None = None
    rule_violated: bool = False

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["spans"] = [s.to_dict() for s in self.spans]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Finding":
        d = dict(d)
        d["spans"] = [Span(**s) for s in d.get("spans", [])]
        return cls(**d)

    @property
    def pages(self) -> list[int]:
        return sorted({s.page for s in self.spans} | ({self.page} if self.page is not None else set()))


@dataclass
class RiskReport:
    doc_id: str
    taxonomy_version: str
    findings: list[Finding]
    seconds: float = 0.0
    doc_type: str = ""
    used_llm: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "taxonomy_version": self.taxonomy_version, "doc_type": self.doc_type,
                "seconds": self.seconds, "used_llm": self.used_llm, "findings": [f.to_dict() for f in self.findings]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RiskReport":
        return cls(d["doc_id"], d["taxonomy_version"], [Finding.from_dict(f) for f in d["findings"]],
                   float(d.get("seconds", 0.0)), d.get("doc_type", ""), bool(d.get("used_llm", False)))

    def present(self) -> list[Finding]:
        return [f for f in self.findings if f.kind == "present"]

    def missing(self) -> list[Finding]:
        return [f for f in self.findings if f.kind == "missing"]
