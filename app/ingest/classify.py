"""Guess what kind of document a PDF is, from its title and first pages.

Why: the kind picks the summary template and the risk playbook. Only the title and the
first ~3 pages are read (the cover page says what a filing is; a contract's preamble says
"by and between"), so the guess is cheap and not swayed by exhibits at the end.
"""

from __future__ import annotations

import re

from app.types import DocType, PageText

_ANNUAL = re.compile(r"\bform\s+10-?k\b|\b10-?k\b|\bannual\s+report\b|\bform\s+20-?f\b", re.I)
_QUARTERLY = re.compile(r"\bform\s+10-?q\b|\b10-?q\b|\bquarterly\s+report\b", re.I)
_CONTRACT = re.compile(r"\bagreement\b|\bby\s+and\s+between\b|\bwhereas\b|\bin\s+witness\s+whereof\b"
                       r"|\bhereinafter\b|\bthe\s+parties\s+(hereto|agree)\b", re.I)
_PERIODIC_FORM = re.compile(r"\bform\s+(10-?k|10-?q|20-?f|8-?k)\b", re.I)


def guess_doc_type(title: str, pages: list[PageText]) -> DocType:
    """"annual_report", "quarterly_report", "contract" or "other"."""
    head = " ".join(" ".join(p.text.split()) for p in pages[:3] if p.has_text)[:20000]
    cover = head[:4000]
    form = _PERIODIC_FORM.search(title) or _PERIODIC_FORM.search(cover)
    if form:
        kind = form.group(1).upper().replace("-", "")
        if kind in ("10K", "20F"):
            return "annual_report"
        if kind == "10Q":
            return "quarterly_report"
        return "other"  # 8-K: a current report
    if _QUARTERLY.search(title) or re.search(r"\bquarterly\s+report\s+pursuant\b", cover, re.I):
        return "quarterly_report"
    if _ANNUAL.search(title) or re.search(r"\bannual\s+report\s+pursuant\b", cover, re.I):
        return "annual_report"
    hits = {m.group(0).lower().split()[0] for m in _CONTRACT.finditer(head)}
    if len(hits) >= 2 or (hits and re.search(r"\bagreement\b", title + " " + cover[:300], re.I)):
        return "contract"
    return "other"
