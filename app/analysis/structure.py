"""What a summary of each kind of document contains, and how to find it without a model.

Why: the tiny bundled model often writes poor summaries, so every section also gets an
extractive backbone: the document's own sentences chosen by cue words (and numbers where
the section is about figures), preferring the document sections where such content lives
(10-K Item 1 for the business, Item 1A for risks, Item 7 for the outlook…).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class SectionSpec:
    title: str
    #: Cue words/phrases (regex, case-insensitive) a sentence for this section contains.
    cues: tuple[str, ...]
    #: Document section paths (regex) where this content usually lives.
    where: tuple[str, ...] = ()
    #: Only sentences with a number qualify (figures, dates, amounts).
    needs_number: bool = False


_FILING = (
    SectionSpec("Business", (r"\bwe (?:are|design|develop|manufacture|make|sell|provide|operate|offer)", r"\bsegments?\b",
                             r"\bcustomers?\b", r"\bproducts?\b", r"\bservices?\b", r"\bheadquarter", r"\bemployees\b"),
                (r"item\s*1(?![0-9a-z])", r"business", r"overview")),
    SectionSpec("Key figures", (r"\brevenues?\b", r"\bnet (?:income|sales|loss|revenues?)\b", r"\boperating income\b",
                                r"\bearnings per share\b", r"\bcash flows?\b", r"\bgross margin\b", r"\bebitda\b",
                                r"\bfree cash flow\b", r"\bdividends?\b", r"\btotal assets\b"),
                (r"item\s*7(?![0-9a-z])", r"item\s*8", r"management", r"financial", r"results"), True),
    SectionSpec("Material risks", (r"\brisks?\b", r"\badverse(?:ly)?\b", r"\buncertain", r"\bcould (?:harm|reduce|affect)",
                                   r"\bmay (?:not|harm|adversely)", r"\blitigation\b", r"\bcompetition\b"),
                (r"item\s*1a", r"risk")),
    SectionSpec("Outlook", (r"\boutlook\b", r"\bguidance\b", r"\bwe expect\b", r"\bexpects?\b", r"\banticipat",
                            r"\bforecast", r"\bfuture\b", r"\bplans? to\b", r"\bnext (?:year|fiscal|quarter)"),
                (r"item\s*7(?![0-9a-z])", r"outlook", r"management")),
)

_CONTRACT = (
    SectionSpec("Parties", (r"\bby and between\b", r"\bbetween\b.*\band\b", r"\bparties\b", r"\b(?:inc|llc|ltd|corp)\b",
                            r"\bhereinafter\b", r"\b(?:the )?\"?(?:company|customer|supplier|licensee|licensor)\"?")),
    SectionSpec("Dates and term", (r"\beffective date\b", r"\bterm\b", r"\bcommence", r"\bexpir", r"\brenew",
                                   r"\bdated\b", r"\byears?\b"), (r"term",), True),
    SectionSpec("Payment", (r"\bpay(?:ment|able)?s?\b", r"\bfees?\b", r"\binvoice", r"\bprice\b", r"\broyalt",
                            r"\bcompensation\b", r"\$|\bdollars?\b"), (r"payment", r"fees", r"compensation")),
    SectionSpec("Obligations", (r"\bshall\b", r"\bagrees? to\b", r"\bresponsible for\b", r"\bmust\b", r"\bobligat"),
                (r"obligation", r"duties", r"services")),
    SectionSpec("Termination", (r"\bterminat", r"\bbreach\b", r"\bnotice\b", r"\bcure\b"), (r"terminat",)),
    SectionSpec("Liability", (r"\bliabilit", r"\bindemnif", r"\bdamages\b", r"\bwarrant", r"\bgoverning law\b",
                              r"\bconsequential\b", r"\blimitation\b"), (r"liabil", r"indemn", r"warrant")),
)

_OTHER = (
    SectionSpec("Overview", (r"\bpurpose\b", r"\boverview\b", r"\bintroduc", r"\bsummary\b", r"\bthis (?:report|document)\b",
                             r"\bwe\b"), ()),
    SectionSpec("Key points", (r"\bkey\b", r"\bimportant\b", r"\bsignificant", r"\bresults?\b", r"\bconclu",
                               r"\brecommend", r"\bincrease", r"\bdecrease", r"%"), ()),
)

STRUCTURES: dict[str, tuple[SectionSpec, ...]] = {
    "annual_report": _FILING,
    "quarterly_report": _FILING,
    "contract": _CONTRACT,
    "other": _OTHER,
}

#: Priority of document sections for the model's map windows when a document is long.
PRIORITY_SECTIONS: dict[str, tuple[str, ...]] = {
    "annual_report": (r"item\s*1(?![0-9a-z])", r"item\s*1a", r"item\s*7(?![0-9a-z])", r"item\s*8"),
    "quarterly_report": (r"item\s*2\b", r"item\s*1(?![0-9a-z])", r"item\s*1a", r"management"),
    "contract": (),
    "other": (),
}


def structure_for(doc_type: str) -> tuple[SectionSpec, ...]:
    return STRUCTURES.get(doc_type, _OTHER)


_AMOUNT = re.compile(r"\$\s?\d|\d\s?(?:%|percent\b|million\b|billion\b)", re.IGNORECASE)

_COMPILED: dict[str, re.Pattern[str]] = {}


def _rx(pattern: str) -> re.Pattern[str]:
    if pattern not in _COMPILED:
        _COMPILED[pattern] = re.compile(pattern, re.IGNORECASE)
    return _COMPILED[pattern]


def cue_score(spec: SectionSpec, sentence: str, section_path: str) -> float:
    """How much ``sentence`` (in document section ``section_path``) belongs under ``spec``."""
    hits = sum(1 for c in spec.cues if _rx(c).search(sentence))
    if not hits:
        return 0.0
    has_number = bool(re.search(r"\d", sentence))
    if spec.needs_number and not has_number:
        return 0.0
    where = any(_rx(w).search(section_path) for w in spec.where) if spec.where else False
    amount = 2.0 if spec.needs_number and _AMOUNT.search(sentence) else 0.0
    n = len(sentence)
    shape = 1.0 if 60 <= n <= 300 else 0.5
    return (min(hits, 3) + (1.5 if where else 0.0) + (0.5 if has_number else 0.0) + amount) * shape


def section_priority(doc_type: str, section_path: str) -> int:
    """Lower is more important (index into PRIORITY_SECTIONS), len(...) when not listed."""
    pats = PRIORITY_SECTIONS.get(doc_type, ())
    for i, p in enumerate(pats):
        if _rx(p).search(section_path):
            return i
    return len(pats)
