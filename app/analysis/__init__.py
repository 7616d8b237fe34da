"""Analysis on top of retrieval: grounded answers with verified citations, and summaries.

Public entry points: :func:`app.analysis.qa.answer_question`,
:func:`app.analysis.summarize.summarize_document`, :class:`app.analysis.cache.SummaryCache`,
:class:`app.analysis.conversation.Conversation`; results live in :mod:`app.analysis.types`.
"""
