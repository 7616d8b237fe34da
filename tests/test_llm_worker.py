"""The model-process protocol, driven in a thread with a stand-in engine (no model)."""

from __future__ import annotations

import multiprocessing as mp
import threading
from typing import Any

import pytest

from app.llm import _worker


class StubEngine:
    """Speaks the engine side of the protocol: streams words until the cancel flag is set."""

    def __init__(self, config: dict[str, Any]) -> None:
        if config.get("fail"):
            raise ValueError("Failed to load model from file")
        self.words = config.get("words", ["a", " b", " c"])

    def describe(self) -> dict[str, Any]:
        return {"n_ctx": 128, "chat_template": "fallback"}

    def handle(self, req: dict[str, Any], conn: Any, cancel_flag: Any) -> None:
        if req["op"] == "count":
            conn.send(("counts", [len(t.split()) for t in req["texts"]]))
            return
        if req["op"] == "boom":
            raise RuntimeError("boom")
        sent = 0
        for w in self.words:
            if cancel_flag.value:
                break
            conn.send(("piece", w))
            sent += 1
        conn.send(("done", {"generated_tokens": sent}, bool(cancel_flag.value)))


@pytest.fixture
def run_worker(monkeypatch):
    monkeypatch.setattr(_worker, "_Engine", StubEngine)
    started: list[threading.Thread] = []

    def start(config: dict[str, Any]) -> tuple[Any, Any]:
        parent, child = mp.Pipe()
        flag = mp.RawValue("i", 0)
        t = threading.Thread(target=_worker.main, args=(child, flag, config), daemon=True)
        t.start()
        started.append(t)
        return parent, flag

    yield start
    for t in started:
        t.join(5)
        assert not t.is_alive()


def test_ready_count_chat_close(run_worker) -> None:
    conn, _flag = run_worker({})
    assert conn.recv() == ("ready", {"n_ctx": 128, "chat_template": "fallback"})
    conn.send({"op": "count", "texts": ["a b", "c"]})
    assert conn.recv() == ("counts", [2, 1])
    conn.send({"op": "chat"})
    msgs = [conn.recv() for _ in range(4)]
    assert [m[0] for m in msgs] == ["piece", "piece", "piece", "done"]
    assert msgs[-1] == ("done", {"generated_tokens": 3}, False)
    conn.send({"op": "close"})


def test_cancel_flag_is_acknowledged(run_worker) -> None:
    conn, flag = run_worker({"words": ["x"] * 5})
    conn.recv()
    flag.value = 1
    conn.send({"op": "chat"})
    assert conn.recv() == ("done", {"generated_tokens": 0}, True)
    conn.send({"op": "close"})


def test_request_error_keeps_process_serving(run_worker) -> None:
    conn, _flag = run_worker({})
    conn.recv()
    conn.send({"op": "boom"})
    kind, where, message = conn.recv()
    assert (kind, where) == ("error", "internal") and "boom" in message
    conn.send({"op": "count", "texts": ["still here"]})
    assert conn.recv() == ("counts", [2])
    conn.close()  # parent gone: the worker exits on EOF


def test_load_error_is_reported(run_worker) -> None:
    conn, _flag = run_worker({"fail": True})
    kind, where, message = conn.recv()
    assert (kind, where) == ("error", "load") and "Failed to load" in message


def test_fallback_prompt_and_prefix() -> None:
    text = _worker.fallback_prompt([{"role": "system", "content": "Be brief."}, {"role": "user", "content": " Hi "}])
    assert text == "### System:\nBe brief.\n\n### User:\nHi\n\n### Assistant:\n"
    assert _worker._common_prefix([1, 2, 3], [1, 2, 4, 5]) == 2
    assert _worker._common_prefix([], [1]) == 0
