"""Turns of one question-answering session, for follow-up questions.

Why: "and in 2021?" only makes sense with the previous question. The previous question is
folded into the *retrieval* query, and recent turns go into the prompt as chat history,
trimmed (oldest first) to a token budget so they never crowd out the sources.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from app.llm.base import ChatMessage

#: A follow-up is a short question or one that leans on the previous one.
_FOLLOW_UP = re.compile(r"^\s*(?:and|but|also|what about|how about|same|then|compared|vs\.?|versus)\b|"
                        r"\b(?:it|its|they|their|that|this|those|these|same|previous|prior)\b", re.IGNORECASE)


class TokenCounter(Protocol):
    def count_tokens(self, texts: list[str]) -> list[int]: ...


@dataclass
class Turn:
    question: str
    answer: str
    #: Chunk ids of the sources given to the model.
    source_ids: list[str] = field(default_factory=list)
    abstained: bool = False


@dataclass
class Conversation:
    turns: list[Turn] = field(default_factory=list)
    #: At most this many recent turns are considered for the prompt.
    max_turns: int = 4

    def add(self, question: str, answer: str, source_ids: list[str] | None = None, abstained: bool = False) -> None:
        self.turns.append(Turn(question, answer, list(source_ids or []), abstained))
        del self.turns[: max(0, len(self.turns) - 2 * self.max_turns)]

    def clear(self) -> None:
        self.turns.clear()

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def retrieval_query(self, question: str) -> str:
        """The question, with the previous question folded in when this looks like a follow-up."""
        last = self.last
        if last is None:
            return question
        short = len(re.findall(r"\w+", question)) <= 8
        if short or _FOLLOW_UP.search(question):
            return f"{last.question} {question}"
        return question

    def messages(self, llm: TokenCounter, budget_tokens: int) -> list[ChatMessage]:
        """Recent turns as chat messages, newest kept first, within ``budget_tokens``."""
        recent = self.turns[-self.max_turns:]
        if not recent or budget_tokens <= 0:
            return []
        texts = [t for turn in recent for t in (turn.question, turn.answer)]
        counts = llm.count_tokens(texts)
        kept: list[Turn] = []
        used = 0
        for i in range(len(recent) - 1, -1, -1):
            cost = counts[2 * i] + counts[2 * i + 1] + 8
            if used + cost > budget_tokens:
                break
            kept.insert(0, recent[i])
            used += cost
        out: list[ChatMessage] = []
        for t in kept:
            out.append({"role": "user", "content": t.question})
            out.append({"role": "assistant", "content": t.answer})
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"turns": [asdict(t) for t in self.turns], "max_turns": self.max_turns}
