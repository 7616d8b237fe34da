"""HTML for the Ask tab (answers with citation chips, evidence, the first-use hints) and the
plain text that "Copy answer" puts on the clipboard. Pure functions of the answer and a
colour set, so they are easy to test and follow the light/dark theme."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from PySide6.QtGui import QPalette

_MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")

EXAMPLES = ["Is liability capped, and at what amount?", "When can either party terminate?",
            "Which law governs the agreement?", "What was capital expenditure last year?"]


@dataclass(frozen=True)
class Colors:
    text: str = "#1b1b1f"
    muted: str = "#6b6f76"
    link: str = "#1a56c4"
    chip_bg: str = "#dde8ff"
    inferred_bg: str = "#ececec"
    warn: str = "#b3261e"
    warn_bg: str = "#fdecea"
    bubble: str = "#eef2f8"
    mark: str = "#fff2a8"

    @classmethod
    def from_palette(cls, palette: QPalette) -> "Colors":
        if palette.color(QPalette.ColorRole.Base).lightness() >= 128:
            return cls(text=palette.color(QPalette.ColorRole.Text).name())
        return cls(text=palette.color(QPalette.ColorRole.Text).name(), muted="#a0a4ab", link="#8ab4f8",
                   chip_bg="#243656", inferred_bg="#3a3a3a", warn="#ff8a80", warn_bg="#4a2523",
                   bubble="#2b3038", mark="#5c4f00")


LIGHT = Colors()


def chips(numbers: list[int], c: Colors = LIGHT, inferred: set[int] | None = None) -> str:
    out = []
    for n in numbers:
        bg = c.inferred_bg if inferred and n in inferred else c.chip_bg
        out.append(f"<a href='cite:{n}' style='text-decoration:none; background-color:{bg}; color:{c.link}; "
                   f"font-weight:600'>&nbsp;[{n}]&nbsp;</a>")
    return ("&nbsp;" + "&nbsp;".join(out)) if out else ""


def _clean(text: str) -> str:
    return html.escape(_MARKER.sub("", text).strip())


def closest_passage(answer: Any) -> Any:
    """The best-ranked evidence passage with a best sentence, for an abstention (else None)."""
    if not getattr(answer, "abstained", False):
        return None
    return next((e for e in getattr(answer, "evidence", None) or [] if getattr(e, "best_sentence", "")), None)


def answer_html(answer: Any, c: Colors = LIGHT, turn: int = 0) -> str:
    """Sentences with citation chips; unsupported ones marked ⚠ in the warning colour (hover
    one to read why); notes and the "stopped" state in small grey text. An abstention shows
    the closest passage's best sentence, quoted, as a link ``closest:<turn>`` to its page: not
    an answer, but the place to look (the rest are under Evidence)."""
    if getattr(answer, "abstained", False):
        head, ev = f"<p><i>{html.escape(answer.text)}</i></p>", closest_passage(answer)
        if ev is None:
            return head + f"<p style='color:{c.muted}'><small>The closest passages are listed under Evidence.</small></p>"
        quote = html.escape(" ".join(ev.best_sentence.split()))
        return (head + f"<p>Closest passage, <a href='closest:{turn}' style='color:{c.link}'>"
                f"{html.escape(ev.doc_title)} — p. {ev.page + 1}</a>:<br>“{quote}”</p>"
                f"<p style='color:{c.muted}'><small>Not an answer: the passage that matches the question best, to "
                f"read for yourself. More are listed under Evidence.</small></p>")
    sentences = getattr(answer, "sentences", None) or []
    inferred = {x.number for x in getattr(answer, "citations", []) if getattr(x, "inferred", False)}
    if not sentences:
        body = html.escape(answer.text)
    else:
        parts = []
        for i, s in enumerate(sentences):
            if s.supported:
                parts.append(f"{_clean(s.text)}{chips(list(s.citations), c, inferred)}")
            else:
                parts.append(f"<a href='unsup:{i}' title='Not supported by the sources' style='text-decoration:none; "
                             f"color:{c.warn}; background-color:{c.warn_bg}'>⚠&nbsp;{_clean(s.text)}</a>"
                             f"{chips(list(s.citations), c, inferred)}")
        body = " ".join(parts)
    shown = {n for s in sentences for n in s.citations}
    notes = []
    if any(not s.supported for s in sentences):
        notes.append("⚠ marks a sentence the sources do not support (Not supported by the sources): check it "
                     "before relying on it.")
    if inferred & shown:
        notes.append("Grey chips are sources the checker added where the model gave none.")
    notes.extend(getattr(answer, "notes", []))
    if getattr(answer, "cancelled", False):
        notes.append("Stopped — the answer is incomplete.")
    foot = "".join(f"<br>{html.escape(n)}" for n in notes)
    return f"<p style='line-height:140%'>{body}</p>" + (f"<p style='color:{c.muted}'><small>{foot[4:]}</small></p>"
                                                         if notes else "")


def sentence_reason(answer: Any, index: int) -> str:
    """Why sentence ``index`` is marked (for the hover tooltip)."""
    s = answer.sentences[index]
    reasons = "; ".join(getattr(s, "reasons", []) or [])
    return "Not supported by the sources" + (f": {reasons}" if reasons else ".")


def _snippet(ev: Any, c: Colors, width: int = 360) -> str:
    text = " ".join(str(getattr(ev, "text", "")).split())
    best = " ".join(str(getattr(ev, "best_sentence", "")).split())
    at = text.find(best) if best else -1
    if at < 0:
        short = text[:width] + ("…" if len(text) > width else "")
        return html.escape(short)
    start = max(0, at - (width - len(best)) // 2)
    end = min(len(text), max(at + len(best), start + width))
    pre, post = text[start:at], text[at + len(best):end]
    return ("…" if start else "") + html.escape(pre) + f"<span style='background-color:{c.mark}'>" + \
        html.escape(best) + "</span>" + html.escape(post) + ("…" if end < len(text) else "")


def evidence_html(evidence: list[Any], c: Colors = LIGHT) -> str:
    """Ranked passages: a link to the page (document, page, section) and the passage with its
    best-matching sentence marked."""
    if not evidence:
        return f"<p style='color:{c.muted}'><i>No passages were found in the chosen documents.</i></p>"
    rows = []
    for i, ev in enumerate(evidence):
        page = getattr(ev, "page", getattr(ev, "page_start", 0))
        where = " · ".join(x for x in (str(getattr(ev, "section", "") or ""), str(getattr(ev, "note", "") or "")) if x)
        rows.append(f"<p style='margin-top:2px; margin-bottom:10px'><b>{ev.rank}.</b> "
                    f"<a href='ev:{i}' style='color:{c.link}'>{html.escape(ev.doc_title)} — p. {page + 1}</a>"
                    + (f" <span style='color:{c.muted}'>{html.escape(where[:80])}</span>" if where else "")
                    + f"<br>{_snippet(ev, c)}</p>")
    return "".join(rows)


def intro_html(c: Colors = LIGHT) -> str:
    examples = " ".join(f"<a href='ask:{quote(q)}' style='color:{c.link}'>{html.escape(q)}</a><br>" for q in EXAMPLES)
    return (f"<h3 style='margin-bottom:4px'>Ask your documents</h3>"
            f"<p style='color:{c.muted}'>Choose the scope above (select documents in the library to narrow it), "
            "type a question and press Enter. The answer streams in; each claim carries a chip "
            f"<a style='text-decoration:none; background-color:{c.chip_bg}; color:{c.link}'>&nbsp;[1]&nbsp;</a> — hover it "
            "to read the source sentence, click it to see the sentence highlighted on the page. Sentences the "
            "sources do not support are marked ⚠. Follow-up questions keep the conversation.</p>"
            f"<p><b>Try:</b><br>{examples}</p>")


def _with_markers(sentence: str, numbers: list[int]) -> str:
    """``"Fees rose."`` + [1, 2] → ``"Fees rose [1][2]."`` (markers before the final stop)."""
    marks = "".join(f"[{n}]" for n in numbers)
    if not marks:
        return sentence
    if sentence[-1:] in ".!?":
        return f"{sentence[:-1].rstrip()} {marks}{sentence[-1]}"
    return f"{sentence} {marks}"


def answer_plain_text(answer: Any) -> str:
    """The answer with [n] markers and a numbered source list, for the clipboard."""
    sentences = getattr(answer, "sentences", None) or []
    if sentences:
        body = " ".join(_with_markers(_MARKER.sub("", s.text).strip(), list(s.citations)) for s in sentences)
    else:
        body = answer.text
    lines = [body, ""]
    ev = closest_passage(answer)
    if ev is not None:
        lines += [f"Closest passage ({ev.doc_title}, page {ev.page + 1}): “{' '.join(ev.best_sentence.split())}”", ""]
    if getattr(answer, "citations", None):
        lines.append("Sources:")
        for c in answer.citations:
            lines.append(f"[{c.number}] {c.doc_title}, page {c.page + 1}: “{' '.join(c.quote.split())}”")
    return "\n".join(lines).strip() + "\n"
