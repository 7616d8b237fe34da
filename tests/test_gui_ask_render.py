"""How answers render: citation chips, unsupported sentences marked, clipboard text."""

from __future__ import annotations

import conftest_gui  # noqa: F401  (offscreen Qt)

from app.analysis.types import Answer, AnswerSentence, Citation
from app.gui.widgets.ask_panel import answer_html, answer_plain_text
from app.types import Span


def _answer() -> Answer:
    return Answer(
        question="Is liability capped?",
        text="Liability is capped at three months of fees [1]. It is also capped for indemnity [2].",
        sentences=[AnswerSentence("Liability is capped at three months of fees [1].", [1], True),
                   AnswerSentence("It is also capped for indemnity [2].", [2], False)],
        citations=[Citation(1, "d1", "MSA", 2, [Span(2, 10, 60)], "Provider's total liability shall not exceed..."),
                   Citation(2, "d1", "MSA", 2, [Span(2, 70, 90)], "Section 6.1, which are unlimited.")],
    )


def test_chips_and_unsupported_marking() -> None:
    html = answer_html(_answer())
    assert html.count("href='cite:") == 2
    assert "Not supported by the sources" in html and "⚠ It is also capped" in html
    assert "[1]." not in html  # the model's raw markers become chips


def test_plain_text_for_clipboard() -> None:
    text = answer_plain_text(_answer())
    assert text.startswith("Liability is capped at three months of fees [1]. It is also capped for indemnity [2].")
    assert "[2] MSA, page 3: “Section 6.1, which are unlimited.”" in text


def test_abstention_renders_plainly() -> None:
    a = Answer(question="q", text="I could not find this in the selected documents.", abstained=True)
    assert "could not find" in answer_html(a) and "cite:" not in answer_html(a)
