"""RemoteLLM against a REAL llama-cpp-python OpenAI-compatible server on 127.0.0.1.

The server runs the bundled GGUF through ``python -m app.llm.serve`` (the stock server with
use_extra_bufts disabled); its token comes from the API_KEY environment variable and ours
from an in-memory keyring backend.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import keyring
import pytest

from app.errors import ModelError
from app.llm.bundled import bundled_model_path
from app.llm.remote import RemoteLLM, normalize_base_url, remote_secret_name
from app.secrets import set_secret
from app.types import CancelToken
from memory_keyring import MemoryKeyring, use_memory_keyring

pytest.importorskip("fastapi")
pytest.importorskip("sse_starlette")
pytestmark = pytest.mark.slow

TOKEN = "test-token-7f3a"
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
STORY = [{"role": "user", "content": "Write a very long story about a dragon and a knight."}]




def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    repo = Path(__file__).resolve().parents[1]
    env = dict(os.environ, API_KEY=TOKEN, PYTHONPATH=str(repo), HF_HUB_OFFLINE="1")
    args = [sys.executable, "-m", "app.llm.serve", "--model", str(bundled_model_path()), "--host", "127.0.0.1",
            "--port", str(port), "--n_ctx", "1024", "--n_threads", "1", "--n_threads_batch", "1", "--verbose", "False"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=repo)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"server did not start: {log.read_text()[-2000:]}")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    yield from use_memory_keyring()


@pytest.fixture
def remote(server: str, memory_keyring: MemoryKeyring) -> RemoteLLM:
    ref = remote_secret_name(server)
    set_secret(ref, TOKEN)
    return RemoteLLM(server + "/v1/", api_key_ref=ref, temperature=0.0)


def test_url_and_secret_name() -> None:
    assert normalize_base_url("gpu:8080/v1/") == "http://gpu:8080"
    assert remote_secret_name("http://gpu:8080") == "remote:http://gpu:8080"
    with pytest.raises(ModelError, match="not a server address"):
        RemoteLLM("ftp://x")


def test_streams_chat_with_token_from_keyring(remote: RemoteLLM) -> None:
    pieces = list(remote.stream_chat(QUESTION, max_tokens=10))
    assert len(pieces) > 1 and "".join(pieces).strip()
    assert 0 < remote.last_stats.generated_tokens <= 10


def test_count_tokens_and_context(remote: RemoteLLM) -> None:
    assert remote.count_tokens(["Hello world", "", "The capital of France"]) == [2, 0, 4]
    assert remote._tokenize_mode == "extras"
    assert remote.n_ctx() == 4096  # this server has no /props: the default
    assert RemoteLLM("http://127.0.0.1:1", n_ctx=2048).n_ctx() == 2048


def test_cancel_mid_stream_then_next_call_works(remote: RemoteLLM) -> None:
    token = CancelToken()
    got = []
    for piece in remote.stream_chat(STORY, max_tokens=300, cancel=token):
        got.append(piece)
        if len(got) == 3:
            token.cancel()
    assert len(got) == 3
    assert "".join(remote.stream_chat(QUESTION, max_tokens=8)).strip()


def test_precancelled_request_sends_nothing(remote: RemoteLLM) -> None:
    token = CancelToken()
    token.cancel()
    assert list(remote.stream_chat(QUESTION, cancel=token)) == []


def test_missing_token_is_refused_clearly(server: str, memory_keyring: MemoryKeyring) -> None:
    llm = RemoteLLM(server, api_key_ref=remote_secret_name(server))
    with pytest.raises(ModelError, match=r"requires an access token and none is stored \(HTTP 401\)"):
        list(llm.stream_chat(QUESTION, max_tokens=4))
    with pytest.raises(ModelError, match="401"):
        llm.count_tokens(["hi"])


def test_no_secure_store_means_no_token_and_a_clear_refusal(server: str) -> None:
    """Without any OS keyring the engine still talks to the server (tokenless servers work);
    a server that wants a token is refused with the reason it cannot be kept."""
    from keyring.backends import fail

    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        llm = RemoteLLM(server, api_key_ref=remote_secret_name(server))
        assert "Authorization" not in llm._headers()
        with pytest.raises(ModelError, match=r"requires an access token and none is stored \(HTTP 401\), and it "
                                             r"cannot be stored safely here: No secure password store"):
            list(llm.stream_chat(QUESTION, max_tokens=4))
    finally:
        keyring.set_keyring(before)


def test_wrong_token_is_refused_clearly(server: str, memory_keyring: MemoryKeyring) -> None:
    ref = remote_secret_name(server)
    set_secret(ref, "wrong-token-123")
    llm = RemoteLLM(server, api_key_ref=ref)
    with pytest.raises(ModelError, match=r"refused the access token \(HTTP 401\)") as info:
        list(llm.stream_chat(QUESTION, max_tokens=4))
    assert "wrong-token-123" not in str(info.value)


def test_wrong_path_is_404_with_advice(remote: RemoteLLM, server: str) -> None:
    llm = RemoteLLM(server + "/nothing-here", api_key_ref=remote.api_key_ref)
    with pytest.raises(ModelError, match="HTTP 404.*base URL"):
        list(llm.stream_chat(QUESTION, max_tokens=4))


def test_connection_refused() -> None:
    llm = RemoteLLM(f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(ModelError, match="connection refused"):
        list(llm.stream_chat(QUESTION, max_tokens=4))
