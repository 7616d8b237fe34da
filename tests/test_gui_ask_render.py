"""How answers render: citation chips, unsupported sentences marked, clipboard text."""

from __future__ import annotations

import conftest_gui  # noqa: F401  (offscreen Qt)
from PySide6.QtCore import QUrl

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
    # only the second sentence is marked, as a hoverable link whose tooltip says why
    assert "href='unsup:1'" in html and "unsup:0" not in html
    marked = html[html.index("href='unsup:1'"):]
    assert marked.index("It is also capped") < marked.index("</a>")
    assert "Not supported by the sources" in html
    from PySide6.QtGui import QTextDocument

    doc = QTextDocument()
    doc.setHtml(html)
    text = doc.toPlainText()
    assert "⚠ It is also capped" in text and text.index("⚠") > text.index("[1]")  # the first one is not marked
    assert "[1]" in text and "[2]" in text and "[1]." not in text  # the model's raw markers become chips


def test_unsupported_reason_tooltip() -> None:
    from app.gui.widgets.answer_html import sentence_reason

    a = _answer()
    a.sentences[1].reasons = ["number 6.1 not in source [2]"]
    assert sentence_reason(a, 1) == "Not supported by the sources: number 6.1 not in source [2]"


def test_plain_text_for_clipboard() -> None:
    text = answer_plain_text(_answer())
    assert text.startswith("Liability is capped at three months of fees [1]. It is also capped for indemnity [2].")
    assert "[2] MSA, page 3: “Section 6.1, which are unlimited.”" in text


def test_abstention_renders_plainly() -> None:
    a = Answer(question="q", text="I could not find this in the selected documents.", abstained=True)
    assert "could not find" in answer_html(a) and "cite:" not in answer_html(a)


def test_bare_reference_renders_as_a_cited_quote_with_a_note() -> None:
    from PySide6.QtGui import QTextDocument

    from app.analysis.qa import answer_question
    from app.embed.fake import FakeEmbedder
    from app.llm.fake import FakeLLM
    from tests.test_qa_helpers import FakeCatalog, FakeRetriever, hit

    a = answer_question("What was Widget Corp's revenue in 2023?", FakeRetriever([hit(1), hit(0)]), FakeCatalog(),
                        "default", FakeLLM(["[1]"]), FakeEmbedder())
    html = answer_html(a)
    doc = QTextDocument()
    doc.setHtml(html)
    text = doc.toPlainText()
    assert "href='cite:1'" in html and "unsup:" not in html
    assert f"“{' '.join(a.citations[0].quote.split())}” [1]" in " ".join(text.split())
    assert "The model wrote no answer, only the reference [1]" in text
    assert answer_plain_text(a).startswith("“") and "Sources:\n[1]" in answer_plain_text(a)


def _evidence(doc_id: str, title: str, sentence: str, page: int):  # type: ignore[no-untyped-def]
    from app.analysis.types import Evidence

    return Evidence(rank=1, chunk_id=f"{doc_id}-c", doc_id=doc_id, doc_title=title, section="", page_start=page,
                    page_end=page, char_start=0, char_end=len(sentence), score=1.0, text=f"Intro. {sentence}",
                    best_sentence=sentence, best_sentence_spans=[Span(page, 7, 7 + len(sentence))])


def test_abstention_quotes_the_closest_passage_and_links_to_it(qtbot) -> None:  # type: ignore[no-untyped-def]
    from app.gui.widgets.ask_panel import AskPanel

    first = Answer(question="Which law governs?", text="I could not find this in the selected documents.",
                   abstained=True, evidence=[_evidence("d1", "MSA <Northwind>", "This Agreement is governed by the "
                                                                               "laws of the State of Delaware.", 3)])
    html = answer_html(first, turn=0)
    assert "href='closest:0'" in html and "MSA &lt;Northwind&gt; — p. 4" in html
    assert "“This Agreement is governed by the laws of the State of Delaware.”" in html and "Not an answer" in html
    assert "Closest passage (MSA <Northwind>, page 4): “This Agreement is governed" in answer_plain_text(first)
    panel = AskPanel()
    qtbot.addWidget(panel)
    shown: list[tuple] = []
    panel.show_requested.connect(lambda *a: shown.append(a))
    panel.begin(first.question)
    panel.show_answer(first)
    second = Answer(question="Who pays?", text="I could not find this in the selected documents.", abstained=True,
                    evidence=[_evidence("d2", "Supply", "Delta Co pays $3 per widget.", 0)])
    panel.begin(second.question)
    panel.show_answer(second)
    assert "closest:0" in panel.browser.toHtml() and "closest:1" in panel.browser.toHtml()
    panel._anchor_clicked(QUrl("closest:0"))  # the first turn's passage, not the latest evidence
    assert shown == [("d1", first.evidence[0].best_sentence_spans, "evidence")]
    assert panel.click_closest(1) and shown[-1][0] == "d2"
    assert not panel.click_closest(5)
