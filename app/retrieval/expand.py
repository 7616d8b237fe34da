"""Analyst vocabulary for the lexical half of hybrid search.

Why: an analyst asks about *concepts* ("working capital", "capex", "gross margin", "COGS"),
while a filing states them as *line items inside a named statement* ("Total current assets"
in the "Consolidated Balance Sheets", "Purchases of property and equipment" in the
"Statements of Cash Flows"). BM25 cannot bridge that gap and a 384-d sentence vector blurs
it, so the questions that hinge on a primary statement were the ones retrieval missed most.
Each rule below maps a concept to the words of the statement and line items that carry it;
the extra words are ORed into the lexical query only (the dense query stays the question).

The rules are general accounting vocabulary (US GAAP statement and line-item names and the
usual abbreviations), not tuned to any one document; keep them that way.
"""

from __future__ import annotations

import re

BALANCE_SHEET = "consolidated balance sheets total current assets total current liabilities"
INCOME_STATEMENT = "consolidated statements of operations income earnings net sales revenues cost of sales gross profit"
CASH_FLOWS = "consolidated statements of cash flows operating investing financing activities"

#: (pattern in the question, words added to the lexical query)
RULES: tuple[tuple[str, str], ...] = (
    # the primary statements, named or implied by the metric asked for
    (r"balance sheet|statement of financial position|working capital|current (?:assets|liabilities|ratio)|"
     r"quick ratio|total assets|liquidity|inventor(?:y|ies)|book value|shareholders.? equity|"
     r"accounts (?:payable|receivable)|\bdpo\b|\bdso\b|\bdebt\b", BALANCE_SHEET),
    (r"income statement|statements? of (?:income|operations|earnings)|\bp&l\b|profit and loss|gross margin|"
     r"gross profit|\bcogs\b|cost of (?:goods|sales|revenue)|net (?:profit )?margin|operating (?:income|margin)|"
     r"effective tax rate|\beps\b|earnings per share|\bebitda?\b|\bsg&a\b|revenue growth|total revenue",
     INCOME_STATEMENT),
    (r"cash flow|\bcapex\b|capital expenditure|free cash|dividends? paid|cash dividends|repurchase|buyback|"
     r"(?:operating|investing|financing) activities|\bd&a\b|depreciation", CASH_FLOWS),
    # abbreviations and their line items
    (r"\bcapex\b|capital expenditure", "purchases of property plant and equipment capital expenditures additions"),
    (r"\bcogs\b", "cost of goods sold cost of sales"),
    (r"\beps\b", "earnings per share diluted basic"),
    (r"\bsg&a\b", "selling general and administrative expenses"),
    (r"\bd&a\b", "depreciation and amortization"),
    (r"\bdpo\b|days payable", "accounts payable cost of sales"),
    (r"\bdso\b|days sales outstanding", "accounts receivable net revenues"),
    (r"inventory turnover", "inventories cost of sales"),
    (r"\bebitda?\b", "operating income depreciation and amortization"),
)
_COMPILED = tuple((re.compile(p, re.IGNORECASE), words) for p, words in RULES)


def expansion_terms(question: str) -> str:
    """The words to OR into the lexical query for ``question`` ("" when no rule applies)."""
    seen: dict[str, None] = {}
    for pattern, words in _COMPILED:
        if pattern.search(question):
            for w in words.split():
                seen.setdefault(w, None)
    return " ".join(seen)
