"""The network guard refuses real outbound connections and lookups, allows loopback and the
servers configured in settings, counts every attempt, and guards child processes too."""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import socket
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from app import netguard
from app.errors import DossierError, ModelError
from app.netguard import NetworkBlocked

PUBLIC_IP = "203.0.113.1"  # TEST-NET-3: never routed; a real connect would hang or fail, not succeed


@pytest.fixture
def strict(tmp_path: Path) -> Iterator[Path]:
    """The guard in strict mode for one test, recording child attempts in a file."""
    record = tmp_path / "net.jsonl"
    netguard.reset_attempts()
    with netguard.session("strict", record_to=record):
        yield record
    netguard.reset_attempts()


@pytest.fixture
def unguarded() -> Iterator[None]:
    """No guard at the start (a worker entry point run in-process by another test may have
    installed one for the rest of the session), and the previous state afterwards."""
    before = netguard.mode()
    netguard.uninstall()
    netguard.reset_attempts()
    yield
    if before == "off":
        netguard.uninstall()
    else:
        netguard.install(before)


@pytest.fixture
def memory_keyring() -> Iterator[None]:
    """An in-memory keyring (these machines have none; RemoteLLM looks for a token)."""
    from memory_keyring import use_memory_keyring

    yield from use_memory_keyring()


class _Props(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = json.dumps({"default_generation_settings": {"n_ctx": 1234}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def server_on():  # type: ignore[no-untyped-def]
    """Start a tiny OpenAI-style server (only /props) on a given local address."""
    servers: list[ThreadingHTTPServer] = []

    def start(host: str) -> int:
        srv = ThreadingHTTPServer((host, 0), _Props)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return int(srv.server_address[1])

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def _lan_address() -> str | None:
    """A non-loopback IPv4 address of this machine (connecting to it counts as outbound)."""
    import psutil

    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family == socket.AF_INET and not a.address.startswith("127."):
                return a.address
    return None


def test_strict_refuses_a_public_address_with_a_clear_message(strict: Path) -> None:
    with pytest.raises(NetworkBlocked) as err:
        socket.create_connection((PUBLIC_IP, 80), timeout=2)
    msg = str(err.value)
    assert f"{PUBLIC_IP}:80" in msg and "blocked" in msg and __name__ in msg  # names what tried to connect
    assert isinstance(err.value, OSError) and isinstance(err.value, DossierError)
    attempts = netguard.attempts()
    assert [(a.kind, a.host, a.port, a.allowed) for a in attempts] == [("connect", PUBLIC_IP, 80, False)]
    assert attempts[0].caller.startswith(__name__ + ":")


def test_strict_refuses_dns_lookups_of_public_names_and_urllib(strict: Path) -> None:
    with pytest.raises(NetworkBlocked, match="example.com:443"):
        socket.getaddrinfo("example.com", 443)
    with pytest.raises(OSError, match="blocked an outbound network lookup to huggingface.co"):
        urllib.request.urlopen("https://huggingface.co/api/models", timeout=2)
    with pytest.raises(NetworkBlocked):
        socket.gethostbyname("pypi.org")
    assert {a.host for a in netguard.attempts()} == {"example.com", "huggingface.co", "pypi.org"}
    assert all(not a.allowed and a.kind == "resolve" for a in netguard.attempts())


def test_strict_refuses_udp_sendto_and_connect_ex(strict: Path) -> None:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(NetworkBlocked, match="8.8.8.8:53"):
            udp.sendto(b"\x00", ("8.8.8.8", 53))
        with pytest.raises(NetworkBlocked):
            tcp.connect_ex((PUBLIC_IP, 443))
    finally:
        udp.close()
        tcp.close()
    assert len(netguard.attempts()) == 2


def test_loopback_and_unix_sockets_are_not_outbound(strict: Path, server_on) -> None:  # type: ignore[no-untyped-def]
    port = server_on("127.0.0.1")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/props", timeout=5) as resp:
        assert json.loads(resp.read())["default_generation_settings"]["n_ctx"] == 1234
    with urllib.request.urlopen(f"http://localhost:{port}/props", timeout=5) as resp:
        assert resp.status == 200
    a, b = socket.socketpair()
    a.sendall(b"x")
    assert b.recv(1) == b"x"
    a.close()
    b.close()
    assert netguard.attempts() == []


def test_a_configured_remote_server_on_loopback_works_through_the_service(strict: Path, server_on,  # type: ignore[no-untyped-def]
                                                                        memory_keyring: None, tmp_path: Path) -> None:
    from app.embed.fake import FakeEmbedder
    from app.service import Service
    from app.settings import Settings

    port = server_on("127.0.0.1")
    with Service(tmp_path / "d", Settings(llm_remote_url=f"http://127.0.0.1:{port}"), embedder=FakeEmbedder()) as svc:
        assert svc.llm.n_ctx() == 1234  # the real RemoteLLM asked the server for /props
    assert netguard.attempts() == []


def test_configured_server_on_a_non_loopback_address_is_the_only_one_allowed(strict: Path, server_on,  # type: ignore[no-untyped-def]
                                                                           memory_keyring: None, tmp_path: Path) -> None:
    from app.embed.fake import FakeEmbedder
    from app.llm.remote import RemoteLLM
    from app.service import Service
    from app.settings import Settings

    lan = _lan_address()
    if lan is None:
        pytest.skip("this machine has no non-loopback IPv4 address to serve on")
    port = server_on(lan)
    # http.server's bind asks for the address's name (socket.getfqdn): a reverse DNS query, refused
    assert [(a.kind, a.host, a.allowed) for a in netguard.attempts()] == [("resolve", lan, False)]
    netguard.reset_attempts()
    with pytest.raises(NetworkBlocked):  # not configured yet: refused
        socket.create_connection((lan, port), timeout=2)
    settings = Settings(llm_remote_url=f"http://{lan}:{port}")
    with Service(tmp_path / "d", settings, embedder=FakeEmbedder()) as svc:
        assert svc.llm.n_ctx() == 1234
        assert netguard.allows(lan, port) and not netguard.allows(lan, port + 1)
        settings.llm_remote_url = ""  # the user clears the server in Settings: refused at once
        with pytest.raises(ModelError, match="blocked"):
            RemoteLLM(f"http://{lan}:{port}")._json("GET", "/props")
    kinds = [(a.host, a.port, a.allowed) for a in netguard.attempts()]
    assert kinds == [(lan, port, False), (lan, port, True), (lan, port, False)]


def test_warn_mode_allows_but_counts_and_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    netguard.reset_attempts()
    with netguard.session("warn"), caplog.at_level(logging.WARNING, "app.netguard"):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.connect((PUBLIC_IP, 9))  # a UDP connect sends nothing: it only sets the destination
        finally:
            sock.close()
        assert netguard.mode() == "warn"
    assert [a.allowed for a in netguard.attempts()] == [False]
    assert f"{PUBLIC_IP}:9" in caplog.text and "warn" in caplog.text
    netguard.reset_attempts()


def test_session_restores_the_previous_state_and_off_leaves_sockets_alone(unguarded: None) -> None:
    original = socket.socket.connect
    with netguard.session("strict"):
        assert socket.socket.connect is not original and netguard.mode() == "strict"
        with netguard.session("off"):
            assert socket.socket.connect is original and netguard.mode() == "off"
        assert socket.socket.connect is not original
    assert socket.socket.connect is original and socket.getaddrinfo.__module__ == "socket"


def _probe_child(env_mode: str | None, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    if env_mode is None:
        monkeypatch.delenv(netguard.MODE_ENV, raising=False)
    else:
        monkeypatch.setenv(netguard.MODE_ENV, env_mode)
    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=netguard.child_probe, args=(PUBLIC_IP, 80, send))
    proc.start()
    send.close()
    assert recv.poll(60), "the child did not answer"
    result = recv.recv()
    proc.join(10)
    return result


def test_child_processes_are_guarded_and_record_their_attempts(strict: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mode, result = _probe_child("strict", monkeypatch)  # what a Dossier child inherits
    assert mode == "strict" and result.startswith("blocked:") and f"{PUBLIC_IP}:80" in result
    lines = [json.loads(x) for x in strict.read_text().splitlines()]
    assert [(x["host"], x["port"], x["allowed"]) for x in lines] == [(PUBLIC_IP, 80, False)]
    assert lines[0]["pid"] != os.getpid()  # written by the child itself


def test_a_child_started_without_guard_settings_is_strict_anyway(monkeypatch: pytest.MonkeyPatch) -> None:
    mode, result = _probe_child(None, monkeypatch)
    assert mode == "strict" and result.startswith("blocked:")


def test_cli_start_up_sets_offline_flags_and_the_guard(unguarded: None, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli.main import EXIT_OK, main

    for key in (*netguard.OFFLINE_ENV, netguard.MODE_ENV):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DOSSIER_EMBEDDER", "fake")
    code = main(["doctor", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK
    guard = report["network_guard"]
    assert guard["mode"] == "strict" and guard["installed"] and guard["outbound_attempts"] == 0
    assert guard["offline_env"]["HF_HUB_OFFLINE"] == "1" and guard["offline_env"]["TRANSFORMERS_OFFLINE"] == "1"
    assert guard["offline_env"]["ANONYMIZED_TELEMETRY"] == "False"
    assert netguard.mode() == "off"  # restored after the command (tests share one process)


def test_gui_start_up_installs_the_guard(unguarded: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import app.gui.main as gui_main

    class _Window:
        def show(self) -> None:
            assert netguard.mode() == "strict"

    class _App:
        def exec(self) -> int:
            return 0

    for key in (*netguard.OFFLINE_ENV, netguard.MODE_ENV):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(gui_main, "_app", lambda: _App())
    monkeypatch.setattr(gui_main, "create_window", lambda *a, **k: _Window())
    assert gui_main.run_gui(None, sample=False) == 0
    assert netguard.mode() == "strict"
    assert all(os.environ.get(k) == v for k, v in netguard.OFFLINE_ENV.items())


def test_chroma_telemetry_is_off(tmp_path: Path) -> None:
    from app.store.vectors import VectorIndex

    with VectorIndex(tmp_path / "chroma", "t-col") as vi:
        assert vi._client.get_settings().anonymized_telemetry is False
    assert os.environ["ANONYMIZED_TELEMETRY"] == "False"


@pytest.mark.slow
def test_the_real_model_process_runs_guarded(strict: Path) -> None:
    from app.llm.bundled import bundled_model_path
    from app.llm.local import LocalLLM

    with LocalLLM(bundled_model_path(), threads=1, n_ctx=512) as llm:
        llm.load()
        assert llm.info.extra["process"]["network_guard"] == "strict"


def test_a_closed_service_no_longer_allows_its_servers(tmp_path: Path) -> None:
    from app.embed.fake import FakeEmbedder
    from app.service import Service
    from app.settings import Settings

    settings = Settings(llm_remote_url="http://gpu-box:8080")
    first = Service(tmp_path / "a", settings, embedder=FakeEmbedder())
    second = Service(tmp_path / "b", settings, embedder=FakeEmbedder())  # e.g. a workspace switch
    assert ("gpu-box", 8080) in netguard.allowed_endpoints()
    first.close()
    first.close()  # closing twice does not take the other service's permission away
    assert ("gpu-box", 8080) in netguard.allowed_endpoints()
    second.close()
    assert ("gpu-box", 8080) not in netguard.allowed_endpoints()
