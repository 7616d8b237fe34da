"""A scripted model for unit tests of everything built on :class:`app.llm.base.LLM`.

Why: question answering, summaries and the GUI need a model that answers instantly and
deterministically, records what it was asked, and can simulate cancellation and crashes
the way the real engine reports them.
"""

from __future__ import annotations

import re
import time
from typing import Callable, Iterator

from app.errors import ModelError
from app.llm.base import ChatMessage, GenerationStats, ModelInfo
from app.types import CancelToken

Responder = Callable[[list[ChatMessage]], str]

CRASH_MESSAGE = "The model process stopped unexpectedly (simulated crash). It was restarted; please ask again."


class FakeLLM:
    """Answers from a list (one per call, the last one repeats) or a callable.

    Streams the answer word by word (each piece keeps its leading whitespace, so
    ``"".join(pieces) == answer``), stops at ``stop`` strings and at ``max_tokens`` pieces,
    and checks ``cancel`` before every piece. ``history`` holds each call's messages.
    """

    def __init__(
        self,
        responses: list[str] | Responder | None = None,
        n_ctx: int = 2048,
        delay_s: float = 0.0,
    ) -> None:
        self._responses: list[str] | Responder = responses if responses is not None else ["OK"]
        self._n_ctx = n_ctx
        self._calls = 0
        self._crash_next = False
        #: Seconds to sleep per streamed piece (to test cancel and progress UIs).
        self.delay_s = delay_s
        self.history: list[list[ChatMessage]] = []
        self.max_tokens_seen: list[int] = []
        self.closed = False
        self.info = ModelInfo(name="fake", architecture="fake", n_ctx=n_ctx, has_chat_template=True)
        self.last_stats = GenerationStats()

    # -- test controls --------------------------------------------------------------
    def crash_next(self) -> None:
        """Make the next ``stream_chat`` raise :class:`ModelError` (like a segfault) at its
        first ``next()``, as the real engine does."""
        self._crash_next = True

    @property
    def calls(self) -> int:
        return self._calls

    # -- LLM protocol ---------------------------------------------------------------
    def n_ctx(self) -> int:
        return self._n_ctx

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(t) // 4 + 1 for t in texts]

    def stream_chat(
        self,
        messages: list[ChatMessage],
        max_tokens: int = 512,
        temperature: float | None = None,
        stop: list[str] | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[str]:
        # Recorded at call time; like the real engine, errors surface at the first next().
        self.history.append([dict(m) for m in messages])  # type: ignore[misc]
        self.max_tokens_seen.append(max_tokens)
        self._calls += 1
        crash, self._crash_next = self._crash_next, False
        answer = "" if crash else self._next_answer(messages)
        prompt_tokens = sum(self.count_tokens([m["content"] for m in messages]))
        return self._stream(answer, max_tokens, stop, cancel, prompt_tokens, crash)

    def close(self) -> None:
        self.closed = True

    # -- internals ------------------------------------------------------------------
    def _next_answer(self, messages: list[ChatMessage]) -> str:
        if callable(self._responses):
            return self._responses(messages)
        if not self._responses:
            return ""
        return self._responses[min(self._calls - 1, len(self._responses) - 1)]

    def _stream(
        self,
        answer: str,
        max_tokens: int,
        stop: list[str] | None,
        cancel: CancelToken | None,
        prompt_tokens: int,
        crash: bool = False,
    ) -> Iterator[str]:
        if crash:
            raise ModelError(CRASH_MESSAGE)
        answer = _cut_at_stop(answer, stop)
        self.last_stats = GenerationStats(prompt_tokens=prompt_tokens)
        start = time.perf_counter()
        for i, piece in enumerate(re.findall(r"\s*\S+|\s+$", answer)):
            if i >= max_tokens or (cancel is not None and cancel.cancelled):
                break
            if self.delay_s:
                time.sleep(self.delay_s)
                if cancel is not None and cancel.cancelled:
                    break
            self.last_stats.generated_tokens = i + 1
            self.last_stats.generation_seconds = time.perf_counter() - start
            yield piece


def _cut_at_stop(text: str, stop: list[str] | None) -> str:
    for s in stop or []:
        if s and s in text:
            text = text[: text.index(s)]
    return text
