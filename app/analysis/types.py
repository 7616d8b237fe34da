"""Results of question answering and summaries: plain dataclasses with JSON-safe ``to_dict``.

Why plain data: the CLI prints them, the GUI draws them (highlights from ``spans``), the
benchmark scores them, and the summary cache stores them; none of them should need to know
how an answer was produced.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from app.types import Span


@dataclass
class AnswerSentence:
    text: str
    #: Source numbers this sentence cites (after removing invalid markers; inferred ones added).
    citations: list[int] = field(default_factory=list)
    supported: bool = False
    #: 0..1 support score (lexical overlap, number check and embedding similarity combined).
    score: float = 0.0
    #: Why it is (not) supported, in plain words, e.g. "number 12% not in source [1]".
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Citation:
    number: int
    doc_id: str
    doc_title: str
    page: int
    #: Exact spans of the best-supporting source sentence in the raw page text(s).
    spans: list[Span] = field(default_factory=list)
    quote: str = ""
    #: True when the model did not cite this source but a sentence is clearly supported by it.
    inferred: bool = False
    chunk_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["spans"] = [s.to_dict() for s in self.spans]
        return d


@dataclass
class Evidence:
    """One retrieved passage, with the sentence in it that best matches the question."""

    rank: int
    chunk_id: str
    doc_id: str
    doc_title: str
    section: str
    page_start: int
    page_end: int
    char_start: int
    char_end: int
    score: float
    text: str
    best_sentence: str = ""
    best_sentence_spans: list[Span] = field(default_factory=list)
    best_sentence_score: float = 0.0
    #: Its number [n] in the prompt, or 0 when it did not fit the model's context.
    source_number: int = 0
    #: "" or why the passage was shortened/left out of the prompt.
    note: str = ""

    @property
    def page(self) -> int:
        """The page of the best sentence (else the passage's first page)."""
        return self.best_sentence_spans[0].page if self.best_sentence_spans else self.page_start

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["best_sentence_spans"] = [s.to_dict() for s in self.best_sentence_spans]
        d["page"] = self.page
        return d


@dataclass
class Answer:
    question: str
    text: str
    sentences: list[AnswerSentence] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    abstained: bool = False
    #: True when every sentence is supported by the sources (False for an abstention, and for a
    #: quoted source sentence standing in for an answer the model did not write).
    fully_supported: bool = False
    #: True when the user cancelled during generation: ``text`` is the partial answer.
    cancelled: bool = False
    model: str = ""
    #: Counts and timings: prompt_tokens, answer_tokens, retrieve_s, generate_s, verify_s,
    #: total_s, sources_given, sources_dropped.
    stats: dict[str, float] = field(default_factory=dict)
    #: Notes for the user (sources shortened or left out, invalid citation markers removed…).
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "text": self.text,
            "sentences": [s.to_dict() for s in self.sentences],
            "citations": [c.to_dict() for c in self.citations],
            "evidence": [e.to_dict() for e in self.evidence],
            "abstained": self.abstained,
            "fully_supported": self.fully_supported,
            "cancelled": self.cancelled,
            "model": self.model,
            "stats": dict(self.stats),
            "notes": list(self.notes),
        }


BulletSource = Literal["generated", "extracted"]


@dataclass
class SummaryBullet:
    text: str
    pages: list[int] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    source: BulletSource = "extracted"

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "pages": list(self.pages), "spans": [s.to_dict() for s in self.spans],
                "source": self.source}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SummaryBullet":
        return cls(text=d["text"], pages=list(d.get("pages", [])),
                   spans=[Span(**s) for s in d.get("spans", [])], source=d.get("source", "extracted"))


@dataclass
class SummarySection:
    title: str
    bullets: list[SummaryBullet] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "bullets": [b.to_dict() for b in self.bullets]}


@dataclass
class Summary:
    doc_id: str
    doc_type: str
    sections: list[SummarySection] = field(default_factory=list)
    model: str = ""
    seconds: float = 0.0
    doc_title: str = ""
    #: Map windows processed / available (a long document is capped, see summarize.py).
    windows_used: int = 0
    windows_total: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id, "doc_type": self.doc_type, "doc_title": self.doc_title,
            "sections": [s.to_dict() for s in self.sections], "model": self.model,
            "seconds": self.seconds, "windows_used": self.windows_used,
            "windows_total": self.windows_total, "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Summary":
        sections = [SummarySection(s["title"], [SummaryBullet.from_dict(b) for b in s["bullets"]])
                    for s in d.get("sections", [])]
        return cls(doc_id=d["doc_id"], doc_type=d["doc_type"], sections=sections, model=d.get("model", ""),
                   seconds=float(d.get("seconds", 0.0)), doc_title=d.get("doc_title", ""),
                   windows_used=int(d.get("windows_used", 0)), windows_total=int(d.get("windows_total", 0)),
                   notes=list(d.get("notes", [])))

    def to_markdown(self) -> str:
        lines = [f"# Summary: {self.doc_title or self.doc_id}", ""]
        for sec in self.sections:
            lines.append(f"## {sec.title}")
            if not sec.bullets:
                lines.append("- (nothing found in the document)")
            for b in sec.bullets:
                pages = ", ".join(f"p. {p + 1}" for p in b.pages)
                tag = "" if b.source == "generated" else " _(extracted)_"
                lines.append(f"- {b.text} ({pages}){tag}")
            lines.append("")
        if self.notes:
            lines += ["---", *[f"_{n}_" for n in self.notes], ""]
        return "\n".join(lines).rstrip() + "\n"
