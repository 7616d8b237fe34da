"""FakeLLM: the scripted model other parts test against."""

from __future__ import annotations

import pytest

from app.errors import ModelError
from app.llm.fake import FakeLLM
from app.types import CancelToken


def test_streams_word_by_word_and_records_history() -> None:
    llm = FakeLLM(["Hello there world.", "second"])
    msgs = [{"role": "user", "content": "hi"}]
    pieces = list(llm.stream_chat(msgs))
    assert pieces == ["Hello", " there", " world."]
    assert "".join(llm.stream_chat(msgs)) == "second"
    assert "".join(llm.stream_chat(msgs)) == "second"  # last response repeats
    assert llm.history == [msgs, msgs, msgs]
    assert llm.last_stats.generated_tokens == 1


def test_callable_responses_stop_and_max_tokens() -> None:
    llm = FakeLLM(lambda m: "echo " + m[-1]["content"] + " END tail")
    out = "".join(llm.stream_chat([{"role": "user", "content": "abc"}], stop=[" END"]))
    assert out == "echo abc"
    out = list(llm.stream_chat([{"role": "user", "content": "a b c d"}], max_tokens=2))
    assert out == ["echo", " a"]


def test_count_tokens_and_ctx() -> None:
    llm = FakeLLM(n_ctx=512)
    assert llm.n_ctx() == 512
    assert llm.count_tokens(["", "abcdefgh"]) == [1, 3]


def test_cancel_stops_stream() -> None:
    llm = FakeLLM(["one two three four"])
    token = CancelToken()
    got = []
    for piece in llm.stream_chat([{"role": "user", "content": "x"}], cancel=token):
        got.append(piece)
        token.cancel()
    assert got == ["one"]


def test_crash_next_raises_model_error_once() -> None:
    llm = FakeLLM(["ok"])
    llm.crash_next()
    it = llm.stream_chat([{"role": "user", "content": "x"}])
    with pytest.raises(ModelError, match="restarted"):
        next(it)
    assert "".join(llm.stream_chat([{"role": "user", "content": "x"}])) == "ok"
    llm.close()
    assert llm.closed
