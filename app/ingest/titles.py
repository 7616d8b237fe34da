"""A document's title, guessed from its first pages, so that a library of 40 contracts or
15 companies' filings can be told apart at a glance.

- SEC filings: the registrant's name from the cover, with the form and its period
  ("Best Buy Co., Inc. — Form 10-K, fiscal year ended January 28, 2017"): the metadata
  title of such files is often an accession number or a stale "... Proxy", and the name
  alone is the same for every year of a company.
- Otherwise the PDF's metadata title, unless it is junk (accession numbers,
  "Microsoft Word - x.docx").
- Press releases: their first line of news (the "FOR IMMEDIATE RELEASE" above it is the same
  for every release).
- Otherwise the first heading-like line of the first pages, skipping filing-exhibit labels
  ("Exhibit 10.3"), execution-copy stamps and confidentiality legends, and preferring a line
  that names the kind of document ("INTELLECTUAL PROPERTY AGREEMENT").
"""

from __future__ import annotations

import re
from typing import Sequence

from app.types import PageText

_JUNK_TITLE = re.compile(r"^(microsoft (word|excel|powerpoint) - |untitled|document\d*$)|\.(docx?|pdf|rtf|html?)$", re.I)
_BOILERPLATE = re.compile(r"^(united states|securities and exchange commission|washington|form\b|table of contents"
                          r"|\(?mark one\)?|page \d)", re.I)
# Lines that are never a title: exhibit labels, copy stamps, confidentiality legends.
_LABEL = re.compile(r"^(?:(?:exhibit|ex\.|ex-)\s*[-–]?\s*[\w().\-]{1,14}|(?:execution|final|conformed|composite) (?:version|copy)"
                    r"|confidential(?:\s+treatment\b.*)?|certain\b.*\b(?:omitted|confidential)\b.*|.*\b(?:has|have) been (?:omitted|redacted)\b.*"
                    r"|.*\billegible\b.*|.*\blogo\b.*|source:.*)$", re.I)
_REDACTION = re.compile(r"\s*[\[{(]\s*\*+\s*[\]})]\s*")  # "[***]", "{***}": omitted text
_CONNECTOR = re.compile(r"\b(?:to|of|and|for|the|between|on|with)$", re.I)
_DOC_KIND = re.compile(r"\b(?:agreement|contract|amendment|addendum|licen[cs]e|lease|memorandum|power of attorney|indenture"
                       r"|guarant(?:y|ee)|warrant|promissory note|plan|terms and conditions|statement of work|charter"
                       r"|by-?laws|certificate)\b", re.I)
# Lines of body text, not headings: preamble openings and defined terms ("Agreement").
_SENTENCE = re.compile(r"^(?:this|these|the following|under this|whereas|in witness|now,? therefore)\b|\(\s*[\"\u201c]", re.I)
_RELEASE = re.compile(r"^(?:for immediate release|(?:news|press|earnings) release)\b", re.I)
# "Media contact: …", "Investors: …" (not "INVESTORS' RIGHTS AGREEMENT" or "MEDIA SERVICES AGREEMENT")
_CONTACT = re.compile(r"^(?:(?:media|investors?|investor relations|press)(?:\s+(?:inquiries|relations))?\s*:"
                      r"|(?:(?:media|investor|press)\s+)?contacts?\b)", re.I)
FILING_SEPARATOR = " — "  # between a filing's registrant and its form and period
RELEASE_PREFIX = "Press release: "
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},\s*\d{4}"
_FORM = re.compile(r"\bform\s+(10-K|10-Q|8-K|20-F|40-F|6-K|10-KT|10-QT|S-1|S-4|DEF 14A)\b", re.I)
_PERIODS = (
    (re.compile(rf"\bfor the fiscal year ended\b.{{0,40}}?({_MONTH})", re.I | re.S), "fiscal year ended"),
    (re.compile(rf"\bfor the quarterly period ended\b.{{0,40}}?({_MONTH})", re.I | re.S), "quarter ended"),
    (re.compile(rf"\bdate of report\b.{{0,80}}?({_MONTH})", re.I | re.S), "report dated"),
)


def guess_title(meta_title: str, pages: Sequence[PageText], stem: str) -> str:
    lines = cover_lines(pages)
    filing = filing_title(lines)
    if filing:
        return filing
    meta_title = " ".join(meta_title.split())
    if re.search(r"[A-Za-z]{3,}", meta_title) and not _JUNK_TITLE.search(meta_title):
        return meta_title[:200]
    return release_title(lines) or heading_title(lines) or stem


def subject(title: str) -> str:
    """Whom or what a title names: a filing title without its form and period; nothing for a
    press release (its title is a line of news, not a name found on every page)."""
    return "" if title.startswith(RELEASE_PREFIX) else title.split(FILING_SEPARATOR)[0]


def cover_lines(pages: Sequence[PageText]) -> list[str]:
    """The first two pages with text as cleaned lines (a cover may be an image with one line
    of text). PDFium ends lines with CR LF; some generators also put a bare LF between
    words, which is then a space."""
    lines: list[str] = []
    for text in [p.text for p in pages[:3] if p.has_text][:2]:
        raw = re.split(r"\r\n|\r", text) if "\r" in text else text.split("\n")
        lines += [re.sub(r"^[\W_]+", "", _REDACTION.sub(" ", " ".join(ln.split()))).strip() for ln in raw[:120]]
    return [ln for ln in lines if ln]


def filing_title(lines: Sequence[str]) -> str:
    """'<registrant> — Form <form>, <period>' for an SEC filing's cover page, else ''."""
    name = ""
    for i, ln in enumerate(lines):
        low = ln.lower()
        if "exact name of registrant" in low and i > 0:
            name = lines[i - 1]
            break
        if low.startswith("commission file number") and i + 1 < len(lines) and _name_like(lines[i + 1]):
            name = lines[i + 1]
    name = re.split(r"_{3,}", name)[-1].strip()
    name = re.sub(r"\s+([.,])", r"\1", name)
    if not _name_like(name):
        return ""
    cover = " ".join(lines[:80])
    parts = [name]
    form = _FORM.search(cover)
    if form:
        parts.append(f"{FILING_SEPARATOR}Form {form.group(1).upper()}")
    for pattern, words in _PERIODS:
        m = pattern.search(cover)
        if m:
            parts.append(f"{',' if form else FILING_SEPARATOR.rstrip()} {words} {_date(m.group(1))}")
            break
    return "".join(parts)[:200]


def release_title(lines: Sequence[str]) -> str:
    """'Press release: <its first line of news>' for a press release, else ''. Its top line
    ("FOR IMMEDIATE RELEASE") is the same for every release a company issues."""
    for i, ln in enumerate(lines[:8]):
        if _RELEASE.match(ln):
            news = next((x for x in lines[i + 1 : i + 6] if len(re.findall(r"[A-Za-z]{3,}", x)) >= 4
                         and not _CONTACT.match(x)), "")
            if news:
                text = news if len(news) <= 100 else news[:100].rsplit(" ", 1)[0]
                return RELEASE_PREFIX + text + ("" if text[-1] in ".!?" else "\u2026")  # … : it goes on
    return ""


def heading_title(lines: Sequence[str]) -> str:
    """The first heading-like line naming a kind of document, else the first heading-like line."""
    head = list(lines[:40])
    candidates = [i for i, ln in enumerate(head) if 6 <= len(ln) <= 120 and ln[0].isupper() and re.search(r"[A-Za-z]{3,}", ln)
                  and not _BOILERPLATE.match(ln) and not _LABEL.match(ln) and not _RELEASE.match(ln) and not _CONTACT.match(ln)
                  and not _SENTENCE.search(ln)
                  and sum(c.isdigit() for c in ln) <= 0.25 * len(ln)]
    for i in candidates:
        ln = head[i]
        words = ln.split()
        capitalised = sum(w[0].isupper() or not w[0].isalpha() for w in words) / len(words)
        if _DOC_KIND.search(ln) and len(words) <= 14 and capitalised >= 0.6:
            if _CONNECTOR.search(ln) and i + 1 < len(head):  # a title broken over two lines
                ln = f"{ln} {head[i + 1]}"
            return ln[:200]
    return head[candidates[0]] if candidates else ""


def _name_like(text: str) -> bool:
    return 2 <= len(text) <= 100 and bool(re.search(r"[A-Za-z]{2,}", text)) and not text.startswith("(")


def _date(text: str) -> str:
    """'JUNE 30, 2016' -> 'June 30, 2016'."""
    month, rest = text.split(None, 1)
    return f"{month.capitalize()} {' '.join(rest.split())}"
