"""Normalise PDFium page text while keeping a map back to the raw characters.

PDFium's page text has ``\\r\\n`` line breaks, soft-hyphen markers (``\\ufffe``, ``\\x02``,
``\\xad``) at hyphenated line ends, and runs of spaces. For chunking, embedding and the
lexical index we want clean text; for highlighting we need offsets into the raw text.
:func:`normalize_with_map` gives both: ``offsets[i]`` is the raw index of normalised
character ``i``, and ``offsets[len(text)]`` is ``len(raw)``.

Rules (deterministic, so a stored raw region always re-normalises to the same text):
- any whitespace run becomes one space (it maps to the run's first raw character);
- a soft-hyphen marker and the whitespace after it vanish ("exam\\ufffe\\r\\nple" -> "example");
- a hard hyphen at a line end keeps the hyphen and drops the break ("related-\\r\\nparty");
- NUL and other control characters vanish.
"""

from __future__ import annotations

SOFT_HYPHENS = frozenset("\ufffe\x02\xad")
_LINE_BREAKS = frozenset("\r\n")


def _is_space(ch: str) -> bool:
    return ch.isspace() or ch == "\x00"


def normalize_with_map(raw: str) -> tuple[str, list[int]]:
    out: list[str] = []
    offsets: list[int] = []
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        if ch in SOFT_HYPHENS:
            j = i + 1
            while j < n and _is_space(raw[j]):
                j += 1
            i = j
            continue
        if ch == "-" and i + 1 < n and raw[i + 1] in _LINE_BREAKS:
            out.append("-")
            offsets.append(i)
            j = i + 1
            while j < n and _is_space(raw[j]):
                j += 1
            i = j
            continue
        if _is_space(ch):
            j = i + 1
            while j < n and _is_space(raw[j]):
                j += 1
            if out and out[-1] != " ":
                out.append(" ")
                offsets.append(i)
            i = j
            continue
        if ord(ch) < 32 or ch == "\uffff":
            i += 1
            continue
        out.append(ch)
        offsets.append(i)
        i += 1
    if out and out[-1] == " ":
        out.pop()
        offsets.pop()
    offsets.append(n)
    return "".join(out), offsets


def normalize(raw: str) -> str:
    return normalize_with_map(raw)[0]


def raw_span(offsets: list[int], start: int, end: int) -> tuple[int, int]:
    """Map a normalised ``[start, end)`` to the raw ``[start, end)`` it came from."""
    if end <= start:
        r = offsets[min(start, len(offsets) - 1)]
        return r, r
    return offsets[start], offsets[end - 1] + 1
