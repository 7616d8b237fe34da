"""Text preparation for the FTS5 index, and safe FTS5 queries built from free text.

FTS5's ``unicode61`` tokenizer splits on every punctuation mark, so "1,577" would become
the two tokens "1" and "577" and "12.3" the tokens "12" and "3" — useless for financial
and contract text, where the number *is* the search. Adding "," and "." as token
characters is worse (every sentence-final word would end in "."). Instead both the indexed
text and the query go through :func:`fts_text`, which rewrites separators *between digits*:
thousands commas vanish ("1,577" -> "1577", so "1577" finds it too) and decimal points
become "_" ("12.3" -> "12_3", "Section 8.2" -> "section 8_2"), which the tokenizer keeps
inside a token (``tokenchars '_'``).

User text never reaches FTS5 syntax: :func:`build_match` extracts word tokens, drops
stop words, quotes each token and ORs them, so quotes, ``AND``, ``*``, ``(`` or ``-`` in a
query are just characters that are not part of any token.
"""

from __future__ import annotations

import re

#: FTS5 tokenizer: Porter stemming over unicode61, "_" kept inside tokens (see module doc).
TOKENIZER = "porter unicode61 remove_diacritics 2 tokenchars '_'"

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_DECIMAL = re.compile(r"(?<=\d)\.(?=\d)")
_UNDERSCORE = re.compile(r"_+")
_TOKEN = re.compile(r"[^\W_]+(?:_[^\W_]+)*", re.UNICODE)
_NUMBER = re.compile(r"^\d[\d_]*$")
_PREFIXED_YEAR = re.compile(r"^[a-z]{1,3}((?:19|20)\d\d)$")  # "fy2022" -> also "2022"

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves company's please provide based using according shown state explain show tell
    give find list describe much many
    answer round rounded decimal decimals place places unit units percents calculate compute
    extract primarily information provided base judgment judgments details detail outlined
    referencing looking response question relying usd defined useful relevant like else
    respond assume""".split()
)


def fts_text(text: str) -> str:
    """Rewrite digit separators so numbers survive tokenisation (indexed text and queries)."""
    # "_" is a token character for us; a stray underscore in the source must not glue words.
    text = _UNDERSCORE.sub(" ", text)
    text = _THOUSANDS.sub("", text)
    return _DECIMAL.sub("_", text)


def query_terms(query: str, drop: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Distinct lower-case search terms of free text, stop words (and ``drop``) removed, in order."""
    seen: dict[str, None] = {}
    for tok in _TOKEN.findall(fts_text(query).lower()):
        if tok in STOPWORDS or tok in drop or (len(tok) == 1 and not tok.isdigit()):
            continue
        seen.setdefault(tok, None)
        year = _PREFIXED_YEAR.match(tok)
        if year:
            seen.setdefault(year.group(1), None)
    return list(seen)


def title_terms(*titles: str) -> set[str]:
    """Alphabetic words of document titles/file names: inside a search scoped to those
    documents they occur everywhere (the company name), so they only add noise to BM25.
    Numbers (years) are kept: they do discriminate."""
    words = _TOKEN.findall(fts_text(" ".join(titles)).lower())
    return {w for w in words if w.isalpha() and len(w) >= 3 and w not in STOPWORDS}


def build_match(query: str, number_boost: int = 2, drop: frozenset[str] | set[str] = frozenset()) -> str:
    """A syntax-safe FTS5 MATCH expression ("" when the query has no usable term).

    Numbers and years are repeated ``number_boost`` times: FTS5's bm25() sums over the
    query's phrases, so a repeated phrase weighs more — numbers are the most specific
    thing a financial question contains.
    """
    parts: list[str] = []
    for term in query_terms(query, drop):
        phrase = '"' + term.replace('"', '""') + '"'
        parts.extend([phrase] * (number_boost if _NUMBER.match(term) else 1))
    return " OR ".join(parts)
