"""The interface every language model engine implements.

Streaming is an iterator of text pieces; cancellation is a :class:`CancelToken` that the
engine honours within 200 ms (a local engine that cannot stop in time kills its model
process and restarts it on the next call). Engine failures raise :class:`ModelError`
with a message for the user; the engine is usable again on the next call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol, TypedDict

from app.types import CancelToken


class ChatMessage(TypedDict):
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass
class ModelInfo:
    name: str
    path: str = ""
    architecture: str = ""
    parameters: int = 0
    quantization: str = ""
    trained_context: int = 0
    has_chat_template: bool = False
    n_ctx: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def display_name(self) -> str:
        """What people call the model: the GGUF file's name with its quantisation (header
        names are often internal training-run names, e.g. "Smollm2 135M 8k Lc100K Mix1 Ep2"),
        or "<model> on <host>" for a server."""
        if self.extra.get("remote"):
            from urllib.parse import urlparse

            return f"{self.name} on {urlparse(self.path).netloc or self.path}"
        if not self.path:
            return self.name or "model"
        from pathlib import Path

        name = Path(self.path).stem.replace(".", " ")
        if self.quantization and self.quantization.lower() not in name.lower():
            name += f" {self.quantization}"
        return name


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    generated_tokens: int = 0
    prompt_seconds: float = 0.0
    generation_seconds: float = 0.0
    cached_prompt_tokens: int = 0


class LLM(Protocol):
    info: ModelInfo
    #: Statistics of the most recent completed/cancelled generation.
    last_stats: GenerationStats

    def n_ctx(self) -> int: ...

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Token counts with the model's own tokenizer (chat template overhead excluded)."""
        ...

    def stream_chat(
        self,
        messages: list[ChatMessage],
        max_tokens: int = 512,
        temperature: float | None = None,
        stop: list[str] | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[str]:
        """Stream the reply as text pieces.

        Lazy: work starts at the first ``next()``, and errors (:class:`ModelError`) are
        raised there, not by the call. When ``cancel`` fires the iterator simply ends (no
        exception); callers check ``cancel.cancelled`` themselves. Stopping iteration early
        (``break``/``close()``) stops the generation too.
        """
        ...

    def close(self) -> None: ...
