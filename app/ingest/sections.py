"""Find section headings in raw page text and turn them into section paths.

Why line-based and conservative: a wrong heading splits chunks in odd places and mislabels
citations, while a missed one only makes a section label coarser. A line counts as a
heading only when a known pattern sits at the line start, the line is short, and its
title is Title Case or UPPER CASE. Table-of-contents pages (many headings close together)
are ignored. When the PDF has an outline (bookmarks), it is used instead: its author
knew the structure better than any pattern.

Levels: 0 = PART / SCHEDULE / EXHIBIT, 1 = Item / Article / "5. Term", 2 = "12.3",
3 = "12.3.1", 4 = an unnumbered Title Case sub-heading ("Liquidity and Capital Resources").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from app.types import PageText

MINOR = 4
_SMALL = frozenset("a an and as at by for from in of on or per the to with under not its into upon".split())
_LINE = re.compile(r"[^\r\n]+")

_PART = re.compile(r"PART\s+(I{1,3}|IV)\b\.?\s*[-–—:]?\s*(.*)", re.I)
_ITEM = re.compile(r"ITEM\s+(\d{1,2}[A-D]?)(?:\.|:|\s|$)\s*[-–—:]?\s*(.*)", re.I)
_ARTICLE = re.compile(r"ARTICLE\s+([IVXLC]+|\d{1,3})\b\.?\s*[-–—:]?\s*(.*)", re.I)
_SECTION = re.compile(r"SECTION\s+(\d{1,3}(?:\.\d{1,3}){0,3})\b\.?\s*[-–—:]?\s*(.*)", re.I)
_NUMBERED = re.compile(r"(\d{1,2}(?:\.\d{1,2}){0,3})(\.?)\s+([A-Z].*)")
_ANNEX = re.compile(r"(SCHEDULE|EXHIBIT|ANNEX|APPENDIX|ATTACHMENT)\s+([A-Z0-9][A-Z0-9.-]{0,6})\b\.?\s*[-–—:]?\s*(.*)")


@dataclass(frozen=True)
class Heading:
    page: int
    offset: int  # raw offset of the heading line's first character in the page text
    level: int
    label: str


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z][A-Za-z'’&-]*", text)


def _is_titled(text: str, allow_empty: bool = True) -> bool:
    """Title Case or UPPER CASE, short, no sentence inside it."""
    words = _words(text)
    if not words:
        return allow_empty and not re.search(r"[a-z]", text)
    if len(words) > 16 or text.rstrip().endswith((",", ";")):
        return False
    big = [w for w in words if w.lower() not in _SMALL or w is words[0]]
    caps = sum(1 for w in big if w[0].isupper())
    return caps >= 0.75 * len(big) and words[0][0].isupper()


def _clean_title(text: str) -> str:
    """Title up to the first sentence end ("12.3 Termination. Either party may…")."""
    text = " ".join(text.split())
    m = re.match(r"(.{1,100}?)(?:\.\s|\.$|$)", text)
    title = (m.group(1) if m else text[:100]).strip(" .:-–—")
    return title


def detect_heading(line: str) -> tuple[int, str] | None:
    """(level, label) when ``line`` starts a section, else None."""
    line = " ".join(line.split())
    bare = re.fullmatch(r"(PART|ITEM|ARTICLE|SECTION)\s+[\w.]+", line, re.I) is not None
    if not line or len(line) > 160 or (re.search(r"(\.{4,}|\s\d{1,3})$", line) and not bare and not _ANNEX.match(line)):
        return None  # table-of-contents style line ("Item 7 .... 25") or empty
    for pattern, level, fmt in ((_PART, 0, "PART {0}"), (_ITEM, 1, "Item {0}."), (_ARTICLE, 1, "Article {0}")):
        m = pattern.match(line)
        if m:
            title = _clean_title(m.group(2))
            if title and (not _is_titled(title) or title.lower().startswith("item")):
                title = "" if level == 0 else title
                if level:
                    return None
            label = fmt.format(m.group(1).upper())
            return level, f"{label} {title}".strip()
    m = _SECTION.match(line)
    if m:
        title = _clean_title(m.group(2))
        if title and not _is_titled(title):
            return None
        return m.group(1).count(".") + 1, f"Section {m.group(1)} {title}".strip()
    m = _ANNEX.match(line)
    if m:
        title = _clean_title(m.group(3))
        return 0, f"{m.group(1)} {m.group(2)} {title if _is_titled(title) else ''}".strip()
    return _numbered(line)


def _numbered(line: str) -> tuple[int, str] | None:
    """"5. Term", "12.3 Termination." — a number, then a short Title Case title."""
    m = _NUMBERED.match(line)
    if not m:
        return None
    number, dot, rest = m.groups()
    if "." not in number and not dot:
        return None  # "2023 Revenue", "5 Term" — too ambiguous
    if "." not in number and int(number) > 60:
        return None
    title = _clean_title(rest)
    if not (1 <= len(_words(title)) <= 8) or not _is_titled(title, allow_empty=False):
        return None
    if rest.strip() != title and not re.match(re.escape(title) + r"\s*[.:]", rest.strip()):
        return None  # the title runs on into a sentence without a full stop
    return number.count(".") + 1, f"{number}{dot} {title}"


def _minor(line: str) -> str | None:
    """An unnumbered sub-heading: 2–8 words, Title Case, no digits, no sentence end."""
    line = " ".join(line.split())
    if not 6 <= len(line) <= 70 or re.search(r"[\d$%.;,]$|\d", line):
        return None
    words = _words(line)
    if not 2 <= len(words) <= 8 or len(" ".join(words)) < 0.8 * len(line):
        return None
    if words[-1].lower() in _SMALL or re.search(r"\b[A-Z]\.\s", line):
        return None  # "Number of" (a wrapped table label), "Richard T. Clark" (a name)
    if re.search(r"\w:\s", line):
        return None  # a form or signature line ("By: Jane Smith, CEO", "Title: Director")
    return line if _is_titled(line, allow_empty=False) else None


def _page_headings(page: int, text: str, minor: bool) -> list[Heading]:
    out: list[Heading] = []
    lines = list(_LINE.finditer(text))
    for idx, m in enumerate(lines):
        line = m.group(0)
        if not line.strip() or len(line) > 200:
            continue
        found = detect_heading(line)
        if found is not None:
            level, label = found
            if label.split()[0] in ("Article", "PART") and len(label.split()) == 2 and idx + 1 < len(lines):
                nxt = " ".join(lines[idx + 1].group(0).split())
                if nxt and len(nxt) < 80 and _is_titled(nxt, allow_empty=False) and detect_heading(nxt) is None:
                    label = f"{label} {nxt}"
            out.append(Heading(page, m.start() + (len(line) - len(line.lstrip())), level, label))
        elif minor and (title := _minor(line)) is not None:
            out.append(Heading(page, m.start() + (len(line) - len(line.lstrip())), MINOR, title))
    return out


def _is_toc(headings: list[Heading], text: str) -> bool:
    """Many major headings packed close together = a table of contents (or an index)."""
    major = [h for h in headings if h.level < MINOR]
    if len(major) < 3:
        return False
    gap = (major[-1].offset - major[0].offset) / (len(major) - 1)
    # "Table of Contents"/"Index" is also a running page header in EDGAR filings, so it
    # only tips the balance for headings that are already fairly close together.
    if gap < 250 and re.search(r"table of contents|^\s*index\s*$", text[:400], re.I | re.M):
        return True
    return len(major) >= 5 and gap < 120


def find_headings(pages: Sequence[PageText | str], outline: Sequence[object] = (), minor: bool = True) -> list[Heading]:
    """Headings in reading order: from the outline when it has some, else from the text."""
    texts = [p if isinstance(p, str) else (p.text if p.has_text else "") for p in pages]
    if len(outline) >= 3:
        return _from_outline(texts, outline)
    out: list[Heading] = []
    for i, text in enumerate(texts):
        found = _page_headings(i, text, minor)
        if found and not _is_toc(found, text):
            out.extend(found)
    return _drop_running_headers(out)


def _drop_running_headers(headings: list[Heading]) -> list[Heading]:
    """A minor heading found on many pages ("Table of Contents", a company name) is a page header."""
    pages_with: dict[str, set[int]] = {}
    for h in headings:
        if h.level == MINOR:
            pages_with.setdefault(h.label.lower(), set()).add(h.page)
    running = {label for label, pages in pages_with.items() if len(pages) >= 4}
    return [h for h in headings if not (h.level == MINOR and h.label.lower() in running)]


def _from_outline(texts: list[str], outline: Sequence[object]) -> list[Heading]:
    """Place each bookmark at its title's line on its page (else at the page start)."""
    out: list[Heading] = []
    for entry in outline:
        page, title, level = getattr(entry, "page"), getattr(entry, "title"), getattr(entry, "level")
        if not 0 <= page < len(texts):
            continue
        offset = _find_title(texts[page], title)
        out.append(Heading(page, offset, min(int(level), MINOR), title))
    out.sort(key=lambda h: (h.page, h.offset))
    return out


def _find_title(text: str, title: str) -> int:
    words = title.split()[:6]
    if not words:
        return 0
    pattern = r"\s+".join(re.escape(w) for w in words)
    m = re.search(pattern, text, re.I)
    if not m:
        return 0
    start = text.rfind("\n", 0, m.start()) + 1
    return start + (len(text[start:m.start()]) - len(text[start:m.start()].lstrip()))


class SectionPath:
    """The running section path; :meth:`enter` a heading, read :attr:`path`."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, str]] = []

    def enter(self, heading: Heading) -> str:
        while self._stack and self._stack[-1][0] >= heading.level:
            self._stack.pop()
        self._stack.append((heading.level, heading.label))
        return self.path

    @property
    def path(self) -> str:
        return " > ".join(label for _, label in self._stack)

    @property
    def top(self) -> str:
        return self._stack[0][1] if self._stack else ""


def section_paths(headings: Sequence[Heading]) -> list[tuple[Heading, str]]:
    """Each heading with the full path it opens, e.g. "PART II > Item 7. MD&A > Liquidity"."""
    tracker = SectionPath()
    return [(h, tracker.enter(h)) for h in headings]
