"""Cheap text features shared by verification, evidence ranking and summaries.

Why: whether a sentence is backed by a source is judged mostly without a model: which
content words it shares with the source, and whether every number it states appears
there. Numbers are compared by value, so "1,577", "1577", "$1.6 billion" (vs. 1,577 in a
table "in millions") and "12 percent" / "12%" match sensibly, while "$1.9 billion" does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its itself
    just me more most my no nor not now of off on once only or other our ours out over own
    same she should so some such than that the their theirs them then there these they this
    those through to too under until up very was we were what when where which while who whom
    why will with would you your yours per via within without upon among amongst
    please state explain based using provide give tell show describe list question answer yes sure okay
    """.split()
)

#: Words too generic in financial questions to prove a passage is on topic.
GENERIC = frozenset(
    """
    company companies fy fiscal year years quarter total amount value number much many
    million millions billion billions thousand percent usd dollars data report reported
    """.split()
)

_WORD = re.compile(r"[A-Za-z][A-Za-z'&\-]*[A-Za-z]|[A-Za-z]")
_CITATION = re.compile(r"\[\s*\d+(?:\s*[,;\-–]\s*\d+)*\s*\]")
_NUMBER = re.compile(
    r"(?<![\w.])(?P<neg>\(|-|−)?\$?\s?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\)?"
    r"(?:\s?(?P<unit>%|percent\b|per cent\b|thousand\b|million\b|billion\b|trillion\b|bn\b|mn\b|m\b|k\b|b\b))?",
    re.IGNORECASE,
)
_SCALE = {"thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "m": 1e6, "billion": 1e9,
          "bn": 1e9, "b": 1e9, "trillion": 1e12}


def stem(word: str) -> str:
    """A crude stemmer (plural/-ing/-ed and a 6-letter prefix) that is stable and fast."""
    w = word.lower().strip("'")
    for suffix in ("ies", "es", "s", "ing", "ed"):
        if len(w) > len(suffix) + 3 and w.endswith(suffix):
            w = w[: -len(suffix)]
            break
    else:  # short plurals: "fees" -> "fee", "fees" must meet "fee" (but not "gas", "loss", "bonus", "basis")
        if len(w) == 4 and w.endswith("s") and w[-2] not in "su" and not w.endswith("is"):
            w = w[:-1]
    return w[:6]


def content_words(text: str) -> set[str]:
    """Stemmed words that carry meaning (no stop words, no citation markers)."""
    text = _CITATION.sub(" ", text)
    return {stem(w) for w in _WORD.findall(text) if w.lower() not in STOPWORDS and len(w) > 1}


def key_terms(text: str) -> set[str]:
    """Content words of a question without generic finance words (what makes it specific)."""
    return {w for w in content_words(text) if w not in {stem(g) for g in GENERIC}}


def overlap(words: set[str], source_words: set[str]) -> float:
    """Share of ``words`` that occur in the source (1.0 when there are none to check)."""
    if not words:
        return 1.0
    return len(words & source_words) / len(words)


@dataclass(frozen=True)
class Number:
    text: str
    value: float
    #: Explicit scale (1e6 for "million"), 0 when none was written.
    scale: float
    percent: bool
    #: Half a unit of the last written digit, in the number's own scale (rounding tolerance).
    tolerance: float
    is_year: bool


def numbers(text: str) -> list[Number]:
    """Numbers stated in ``text`` (citation markers and list numbering ignored)."""
    text = _CITATION.sub(" ", text)
    out: list[Number] = []
    for m in _NUMBER.finditer(text):
        raw = m.group("num")
        unit = (m.group("unit") or "").lower()
        digits = raw.replace(",", "")
        value = float(digits)
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        percent = unit in ("%", "percent", "per cent")
        scale = _SCALE.get(unit, 0.0)
        if unit in ("m", "b", "k") and not m.group(0).lstrip("(-−").startswith("$"):
            scale = 0.0  # a bare "5 m" is more likely metres than millions
        is_year = not unit and decimals == 0 and "," not in raw and 1900 <= value <= 2100
        out.append(Number(m.group(0).strip(), value, scale, percent, 0.5 * 10 ** -decimals, is_year))
    return out


def _candidates(n: Number) -> list[float]:
    """Absolute values a source number may stand for (tables often omit "in millions")."""
    if n.scale:
        return [n.value * n.scale]
    return [n.value, n.value * 1e3, n.value * 1e6, n.value * 1e9]


def number_supported(n: Number, source: list[Number]) -> bool:
    """True when the number ``n`` of a claim appears (by value, allowing rounding) in ``source``."""
    for s in source:
        if n.percent != s.percent:
            continue
        if not n.scale:
            if abs(s.value - n.value) <= n.tolerance + 1e-9:
                return True
            continue
        target, tol = n.value * n.scale, n.tolerance * n.scale
        if any(abs(c - target) <= tol + 1e-6 for c in _candidates(s)):
            return True
    return False


_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")


def years(text: str) -> set[str]:
    """Four-digit years, also inside tokens like "FY2022"."""
    return set(_YEAR.findall(text))


def missing_numbers(text: str, source_text: str) -> list[str]:
    """The numbers of ``text`` that do not appear in ``source_text``."""
    src = numbers(source_text)
    return [n.text for n in numbers(text) if not number_supported(n, src)]
