"""LocalLLM with the REAL bundled GGUF through llama-cpp-python in a child process.

Kept short (few tokens, one thread): the CPU is shared. No timing assertions here; cancel
latency and speed are measured by bench/llm.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
from pathlib import Path
from typing import Iterator

import pytest

from app.errors import ModelError
from app.llm.bundled import bundled_model_path
from app.llm.local import LocalLLM
from app.types import CancelToken

pytestmark = pytest.mark.slow

QUESTION = [
    {"role": "system", "content": "You answer briefly."},
    {"role": "user", "content": "What is the capital of France?"},
]
STORY = [{"role": "user", "content": "Write a very long story about a dragon and a knight."}]
LONG_TEXT = "The company reported revenue growth in every segment during the fiscal year. " * 110


def answer(engine: LocalLLM) -> str:
    """A short real answer (the tiny model's facts are unreliable, so only non-empty)."""
    text = "".join(engine.stream_chat(QUESTION, max_tokens=12))
    assert engine.last_stats.generated_tokens > 0
    return text.strip()


@pytest.fixture(scope="module")
def llm() -> Iterator[LocalLLM]:
    engine = LocalLLM(bundled_model_path(), n_ctx=2048, threads=1, temperature=0.0)
    engine.load()
    yield engine
    engine.close()
    assert engine.pid is None


def test_load_and_stream_chat(llm: LocalLLM) -> None:
    assert llm.pid is not None and llm.pid != os.getpid()
    assert llm.n_ctx() == 2048
    assert llm.info.extra["chat_template"] == "gguf"
    assert llm.info.extra["process"]["use_extra_bufts"] is False
    pieces = list(llm.stream_chat(QUESTION, max_tokens=12))
    assert pieces and all(isinstance(p, str) for p in pieces)
    assert "".join(pieces).strip()
    stats = llm.last_stats
    assert stats.prompt_tokens > 10 and 0 < stats.generated_tokens <= 12


def test_prompt_prefix_is_reused(llm: LocalLLM) -> None:
    list(llm.stream_chat(QUESTION, max_tokens=4))
    follow_up = QUESTION + [{"role": "assistant", "content": "Paris."}, {"role": "user", "content": "And Italy?"}]
    list(llm.stream_chat(follow_up, max_tokens=4))
    assert llm.last_stats.cached_prompt_tokens >= llm.count_tokens([QUESTION[1]["content"]])[0]
    assert llm.last_stats.cached_prompt_tokens < llm.last_stats.prompt_tokens


def test_count_tokens_one_round_trip(llm: LocalLLM) -> None:
    counts = llm.count_tokens(["Hello world", "", LONG_TEXT])
    assert counts[0] == 2 and counts[1] == 0
    assert 1000 < counts[2] < 2000
    assert llm.count_tokens([]) == []


def test_cancel_mid_generation_then_next_call_works(llm: LocalLLM) -> None:
    token = CancelToken()
    got = []
    for piece in llm.stream_chat(STORY, max_tokens=200, cancel=token):
        got.append(piece)
        if len(got) == 3:
            token.cancel()
    assert 3 <= len(got) < 50
    assert llm.last_stats.generated_tokens < 200
    assert answer(llm)


def test_cancel_during_prompt_evaluation_kills_and_restarts(llm: LocalLLM) -> None:
    old_pid = llm.pid
    token = CancelToken()
    timer = threading.Timer(0.05, token.cancel)
    timer.start()
    messages = [{"role": "user", "content": LONG_TEXT + "\nSummarize."}]
    got = list(llm.stream_chat(messages, max_tokens=50, cancel=token))
    assert got == []  # ~1,300 prompt tokens: still evaluating when cancelled
    assert llm.pid != old_pid  # killed and restarted
    assert answer(llm)


def test_long_prompt_reports_progress_and_outlives_the_hang_timer(tmp_path: Path) -> None:
    """A prompt that takes longer to read than the hang timeout is not mistaken for a hang:
    each evaluated batch is a sign of life. Same answer as one-shot evaluation."""
    messages = [{"role": "user", "content": LONG_TEXT + "\nSummarize in one sentence."}]
    with LocalLLM(bundled_model_path(), n_ctx=2048, threads=1, batch=2048, temperature=0.0) as one_shot:
        expected = "".join(one_shot.stream_chat(messages, max_tokens=8))
    with LocalLLM(bundled_model_path(), n_ctx=2048, threads=1, batch=64, temperature=0.0, hang_timeout_s=3.0) as slow:
        slow.load()
        seen: list[tuple[int, int]] = []
        real_receive = slow._receive

        def receive(*args, **kwargs):  # type: ignore[no-untyped-def]
            msg = real_receive(*args, **kwargs)
            if msg[0] == "prompt":
                seen.append((msg[1], msg[2]))
            return msg

        slow._receive = receive  # type: ignore[method-assign]
        text = "".join(slow.stream_chat(messages, max_tokens=8))
    total = slow.last_stats.prompt_tokens
    assert text == expected
    assert len(seen) >= total // 64 - 1 and seen[-1] == (total - 1, total)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_abandoned_stream_does_not_leak_into_next_call(llm: LocalLLM) -> None:
    it = llm.stream_chat(STORY, max_tokens=100)
    next(it)
    it.close()  # consumer stops early
    assert answer(llm)
    it2 = llm.stream_chat(STORY, max_tokens=100)
    next(it2)  # left open: the next request supersedes it
    assert answer(llm)
    assert list(it2) == []


def test_killed_model_process_raises_then_recovers(llm: LocalLLM) -> None:
    it = llm.stream_chat(STORY, max_tokens=200)
    next(it)
    os.kill(llm.pid, signal.SIGKILL)
    with pytest.raises(ModelError, match=r"stopped unexpectedly \(signal 9\).*restarted"):
        for _ in it:
            pass
    assert answer(llm)


def test_hang_timeout_kills_and_recovers(llm: LocalLLM) -> None:
    llm.hang_timeout_s = 0.05
    try:
        with pytest.raises(ModelError, match="stopped responding"):
            list(llm.stream_chat([{"role": "user", "content": LONG_TEXT}], max_tokens=10))
    finally:
        llm.hang_timeout_s = 120.0
    assert answer(llm)


def test_prompt_longer_than_context_is_a_clear_error(llm: LocalLLM) -> None:
    with pytest.raises(ModelError, match="too long for the model's context"):
        list(llm.stream_chat([{"role": "user", "content": LONG_TEXT * 2}], max_tokens=10))
    assert llm.count_tokens(["ok"]) == [1]


def test_not_a_model_file(tmp_path: Path) -> None:
    bad = tmp_path / "x.gguf"
    bad.write_bytes(b"not a model" * 10)
    with pytest.raises(ModelError, match="not a GGUF"):
        LocalLLM(bad)


def test_model_without_chat_template_uses_fallback_prompt(tmp_path: Path) -> None:
    # Same model with the template key renamed (same length, so the header stays valid).
    path = tmp_path / "no_template.gguf"
    shutil.copyfile(bundled_model_path(), path)
    with open(path, "r+b") as f:
        head = f.read(4 << 20)
        at = head.index(b"tokenizer.chat_template")
        f.seek(at)
        f.write(b"tokenizer.chat_templatX")
    with LocalLLM(path, n_ctx=512, threads=1, temperature=0.0) as engine:
        assert not engine.info.has_chat_template
        text = "".join(engine.stream_chat(QUESTION, max_tokens=8))
        assert engine.info.extra["chat_template"] == "fallback"
        assert text.strip() and "###" not in text
