"""Extract the value a reviewer wants from a clause: a date, the governing-law jurisdiction,
a renewal/warranty duration, a notice period, or a money amount/cap.

Deterministic regular expressions (no model): values feed playbook rules such as
"notice period >= 60 days", so they must be predictable and testable.
"""

from __future__ import annotations

import re
from typing import Any

_NUM_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
              "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "eighteen": 18, "twenty": 20,
              "thirty": 30, "forty-five": 45, "forty five": 45, "forty": 40, "sixty": 60, "ninety": 90,
              "a": 1, "an": 1, "one hundred twenty": 120, "one hundred eighty": 180, "hundred and eighty": 180}
_UNIT_DAYS = {"day": 1, "business day": 1, "week": 7, "month": 30, "year": 365}
_NUM = r"(?:\d{1,4}|" + "|".join(sorted((re.escape(w) for w in _NUM_WORDS), key=len, reverse=True)) + r")"
_DURATION = re.compile(
    rf"\b(?P<word>{_NUM})\s*(?:\((?P<digits>\d{{1,4}})\)\s*)?(?:calendar\s+)?(?P<unit>business day|day|week|month|year)s?\b",
    re.IGNORECASE)
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december"]
_MON = r"(?P<mon>" + "|".join(m.capitalize() for m in _MONTHS) + r"|" + "|".join(m[:3].capitalize() for m in _MONTHS) + r")\.?"
_DATE_PATTERNS = [
    re.compile(_MON + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>(?:19|20)\d\d)\b"),
    re.compile(r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?:day\s+of\s+)?" + _MON + r",?\s+(?P<year>(?:19|20)\d\d)\b"),
    re.compile(r"\b(?P<m>\d{1,2})/(?P<day>\d{1,2})/(?P<year>(?:19|20)?\d\d)\b"),
]
US_STATES = ["Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut", "Delaware",
             "Florida", "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa", "Kansas", "Kentucky",
             "Louisiana", "Maine", "Maryland", "Massachusetts", "Michigan", "Minnesota", "Mississippi",
             "Missouri", "Montana", "Nebraska", "Nevada", "New Hampshire", "New Jersey", "New Mexico",
             "New York", "North Carolina", "North Dakota", "Ohio", "Oklahoma", "Oregon", "Pennsylvania",
             "Rhode Island", "South Carolina", "South Dakota", "Tennessee", "Texas", "Utah", "Vermont",
             "Virginia", "Washington", "West Virginia", "Wisconsin", "Wyoming", "District of Columbia"]
OTHER_JURISDICTIONS = ["England and Wales", "England", "Scotland", "Ireland", "Ontario", "British Columbia",
                       "Quebec", "Alberta", "Canada", "Hong Kong", "Singapore", "Germany", "France",
                       "Switzerland", "the Netherlands", "Israel", "Japan", "China",
                       "People's Republic of China", "India", "Australia", "New South Wales", "Victoria",
                       "Sweden", "Norway", "Denmark", "Italy", "Spain", "Luxembourg", "Cayman Islands",
                       "Bermuda", "Korea", "Taiwan", "Mexico", "Brazil", "United Kingdom", "United States"]
_JUR = re.compile(r"\b(?:West Virginia|" + "|".join(re.escape(j) for j in sorted(US_STATES + OTHER_JURISDICTIONS, key=len, reverse=True)) + r")\b")
_LAW_CONTEXT = re.compile(r"\blaws?\b|\bgovern", re.IGNORECASE)
_AMOUNT = re.compile(
    r"(?P<cur>US\$|U\.S\.\s?\$|\$|USD|EUR|€|£|GBP)\s?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*(?P<mult>million|billion|thousand|[MmKk]\b)?"
    r"|(?P<num2>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*(?P<mult2>million|billion|thousand)?\s*(?P<cur2>dollars|U\.S\. dollars|USD|euros?|EUR|pounds)\b",
    re.IGNORECASE)
_MULT = {"million": 1e6, "m": 1e6, "billion": 1e9, "thousand": 1e3, "k": 1e3}
_CAP_WORDS = re.compile(r"\b(?:fees?|amounts?|charges) (?:actually )?(?:paid|payable|received)\b.{0,120}?\b(?:months?|year)s?\b(?:.{0,40}?\b(?:preceding|prior to)\b[^.;]{0,60})?", re.IGNORECASE)


def parse_durations(text: str) -> list[dict[str, Any]]:
    """All durations in ``text``: [{"text", "number", "unit", "days"}]."""
    out = []
    for m in _DURATION.finditer(text):
        n = int(m["digits"]) if m["digits"] else _word_number(m["word"])
        if n is None or n <= 0:
            continue
        unit = m["unit"].lower()
        out.append({"text": m.group(0), "number": n, "unit": unit, "days": n * _UNIT_DAYS[unit]})
    return out


def _word_number(w: str) -> int | None:
    w = w.lower()
    return int(w) if w.isdigit() else _NUM_WORDS.get(w)


def parse_dates(text: str) -> list[dict[str, str]]:
    """Dates in ``text`` as {"text", "iso"} (YYYY-MM-DD), in order of appearance."""
    found: list[tuple[int, dict[str, str]]] = []
    for pat in _DATE_PATTERNS:
        for m in pat.finditer(text):
            gd = m.groupdict()
            if gd.get("mon"):
                month = next(i for i, name in enumerate(_MONTHS, 1) if name.startswith(gd["mon"].lower()[:3]))
            else:
                month = int(gd["m"])
            day, year = int(gd["day"]), int(gd["year"])
            year = year + (1900 if year >= 50 else 2000) if year < 100 else year
            if 1 <= month <= 12 and 1 <= day <= 31:
                found.append((m.start(), {"text": m.group(0), "iso": f"{year:04d}-{month:02d}-{day:02d}"}))
    found.sort(key=lambda t: t[0])
    return [d for _, d in found]


def parse_jurisdiction(text: str) -> str | None:
    """The governing-law jurisdiction named near "laws"/"governed" (or the first one)."""
    best = None
    for m in _JUR.finditer(text):
        window = text[max(0, m.start() - 80) : m.start()]
        if _LAW_CONTEXT.search(window):
            return m.group(0)
        best = best or m.group(0)
    return best


def parse_amounts(text: str) -> list[dict[str, Any]]:
    out = []
    for m in _AMOUNT.finditer(text):
        num = m["num"] or m["num2"]
        mult = (m["mult"] or m["mult2"] or "").lower()
        cur = (m["cur"] or m["cur2"] or "").upper()
        amount = float(num.replace(",", "")) * _MULT.get(mult, 1.0)
        currency = "USD" if "$" in cur or "DOLLAR" in cur or cur == "USD" else ("EUR" if "EUR" in cur or "€" in cur else "GBP")
        out.append({"text": m.group(0).strip(), "amount": amount, "currency": currency})
    return out


def extract_value(kind: str, text: str) -> dict[str, Any] | None:
    """The value of ``kind`` in a clause's text, or None when there is none to report."""
    if kind == "date":
        dates = parse_dates(text)
        if dates:
            return {"kind": "date", **dates[0]}
        if re.search(r"\bperpetu|\bindefinite", text, re.IGNORECASE):
            return {"kind": "date", "text": "perpetual", "iso": ""}
        return None
    if kind == "jurisdiction":
        j = parse_jurisdiction(text)
        return {"kind": "jurisdiction", "text": j, "jurisdiction": j} if j else None
    if kind in ("duration", "notice_period"):
        return _duration_value(kind, text)
    if kind == "amount":
        amounts = parse_amounts(text)
        if amounts:
            return {"kind": "amount", **max(amounts, key=lambda a: a["amount"])}
        cap = _CAP_WORDS.search(text)
        return {"kind": "amount", "text": cap.group(0), "amount": None, "currency": ""} if cap else None
    return None


def _duration_value(kind: str, text: str) -> dict[str, Any] | None:
    durs = parse_durations(text)
    if not durs:
        return None
    if kind == "notice_period":  # notice is usually the days figure near "notice"/"prior"
        d = min(durs, key=lambda x: _gap_to_notice(x["text"], text))
    else:
        d = max(durs, key=lambda x: x["days"]) if re.search(r"\bsuccessive|\brenew|\bextend", text, re.IGNORECASE) else durs[0]
    successive = bool(re.search(r"\bsuccessive|\beach\b.{0,20}\brenewal|\bautomatically renew", text, re.IGNORECASE))
    return {"kind": kind, "text": d["text"], "days": d["days"], "number": d["number"], "unit": d["unit"],
            **({"successive": True} if successive and kind == "duration" else {})}


def _gap_to_notice(duration: str, text: str) -> int:
    """Characters between a duration and the next "notice/prior/before/advance" (smaller = likelier)."""
    m = re.search(re.escape(duration) + r"(.{0,80}?)\b(?:notice|prior|before|advance|in advance)\b", text,
                  re.IGNORECASE | re.DOTALL)
    return len(m.group(1)) if m else 10_000
