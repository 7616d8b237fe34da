"""Team mode pieces that need no Chroma: tokens, the proxy (against a stub upstream on
loopback), server addresses and keyring names, settings, identity across CPU variants, CLI."""

from __future__ import annotations

import hashlib
import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from app.errors import StoreError
from app.server import tokens as tokmod
from app.server.proxy import IndexProxy
from app.server.tokens import TokenSet, hash_line, new_token, parse_token_lines, token_hash
from app.settings import Settings
from app.store.remote_index import IndexServerClient, index_secret_name, normalize_url

TOKEN = "unit-token-1"


def test_token_file_lines_and_env() -> None:
    text = f"# comment\n\n  {TOKEN}  # trailing comment\n{hash_line('other')}\n"
    assert parse_token_lines(text) == {token_hash(TOKEN), token_hash("other")}
    assert len(new_token()) >= 40 and new_token() != new_token()
    ts = TokenSet(env_token="env-tok")
    assert ts.accepts("env-tok") and not ts.accepts("env-to") and not ts.accepts("") and not ts.accepts(None)
    with pytest.raises(ValueError, match="No access token is configured"):
        TokenSet()


def test_token_file_is_reread_when_it_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokmod, "_RECHECK_S", 0.0)
    f = tmp_path / "tokens"
    f.write_text("alice-token\nbob-token\n")
    ts = TokenSet(f)
    assert ts.accepts("bob-token") and len(ts) == 2
    f.write_text("alice-token\n")  # bob's access revoked without a restart
    import os

    os.utime(f, (f.stat().st_atime, f.stat().st_mtime + 5))
    assert not ts.accepts("bob-token") and ts.accepts("alice-token")
    f.write_text("")
    with pytest.raises(ValueError, match="empty"):
        TokenSet(f)


class _Echo(BaseHTTPRequestHandler):
    """Stub upstream: answers every request with what it received."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802
        n = int(self.headers.get("Content-Length") or 0)
        body = json.dumps({"path": self.path, "method": self.command, "headers": dict(self.headers.items()),
                           "body": self.rfile.read(n).decode() if n else ""}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[tuple[IndexProxy, Path]]:
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    prox = IndexProxy(("127.0.0.1", 0), upstream.server_address[:2], TokenSet(env_token=TOKEN), tmp_path / "files")
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (upstream, prox)]
    for t in threads:
        t.start()
    yield prox, tmp_path / "files"
    for s in (prox, upstream):
        s.shutdown()
        s.server_close()


def _req(prox: IndexProxy, method: str, path: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(*prox.server_address[:2], timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def test_proxy_forwards_only_authenticated_requests_and_strips_the_token(proxy) -> None:  # type: ignore[no-untyped-def]
    prox, _ = proxy
    status, body = _req(prox, "POST", "/api/v2/x?y=1", b'{"a": 1}', {"Authorization": f"Bearer {TOKEN}"})
    seen = json.loads(body)
    assert status == 200 and seen["path"] == "/api/v2/x?y=1" and seen["body"] == '{"a": 1}'
    assert not {"authorization", "x-chroma-token"} & {k.lower() for k in seen["headers"]}  # Chroma never sees it
    assert _req(prox, "GET", "/api/v2/x", headers={"X-Chroma-Token": TOKEN})[0] == 200
    status, body = _req(prox, "GET", "/api/v2/x", headers={"Authorization": "Bearer wrong"})
    assert status == 401 and json.loads(body) == {"error": "AuthError", "message":
                                                  "Dossier index server: the access token was not accepted."}
    assert "token is required" in json.loads(_req(prox, "POST", "/api/v2/x", b"{}")[1])["message"]
    assert _req(prox, "GET", "/api/v2/heartbeat")[0] == 200  # health checks need no token


def test_proxy_file_store_checks_the_content_hash(proxy) -> None:  # type: ignore[no-untyped-def]
    prox, files = proxy
    auth = {"Authorization": f"Bearer {TOKEN}"}
    pdf = b"%PDF-1.4 fake bytes\n"
    doc_id = hashlib.sha256(pdf).hexdigest()[:32]
    assert _req(prox, "PUT", f"/dossier/v1/files/{'0' * 32}", pdf, auth)[0] == 400  # bytes of another id
    assert _req(prox, "PUT", "/dossier/v1/files/../../etc", pdf, auth)[0] == 400
    assert _req(prox, "GET", f"/dossier/v1/files/{doc_id}", headers=auth)[0] == 404
    assert _req(prox, "PUT", f"/dossier/v1/files/{doc_id}", pdf)[0] == 401
    assert _req(prox, "PUT", f"/dossier/v1/files/{doc_id}", pdf, auth)[0] == 201
    assert _req(prox, "GET", f"/dossier/v1/files/{doc_id}", headers=auth) == (200, pdf)
    assert [p.name for p in files.rglob("*") if p.is_file()] == [f"{doc_id}.pdf"]  # no temporary file left
    assert _req(prox, "DELETE", f"/dossier/v1/files/{doc_id}", headers=auth)[0] == 200
    assert _req(prox, "GET", f"/dossier/v1/files/{doc_id}", headers=auth)[0] == 404


def test_addresses_and_keyring_names() -> None:
    assert normalize_url(" index-host:8765/ ") == "http://index-host:8765"
    assert index_secret_name("index-host:8765") == index_secret_name("http://index-host:8765/")
    assert index_secret_name("http://h:1") == "index:http://h:1"
    for bad in ("ftp://h:1", "http://h:1/some/path"):
        with pytest.raises(StoreError, match="not an index server address"):
            IndexServerClient(bad, token=None)


def test_no_secure_store_means_no_token_and_a_clear_refusal() -> None:
    import keyring
    from keyring.backends import fail

    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        client = IndexServerClient("http://index-host:8765")  # no keyring: no token, not a failure
        assert client._token is None
        message = str(client.auth_error())
        assert "requires an access token" in message and "cannot be stored safely here" in message
    finally:
        keyring.set_keyring(before)


def test_settings_fields_and_remote_urls(tmp_path: Path) -> None:
    s = Settings()
    assert s.index_server_url == "" and s.remote_urls() == []
    s.llm_remote_url, s.index_server_url = "http://gpu:8080", " http://index:8765 "
    assert s.remote_urls() == ["http://gpu:8080", "http://index:8765"]
    s.save(tmp_path)
    saved = json.loads((tmp_path / "settings.json").read_text())
    assert saved["index_server_url"] == " http://index:8765 " and "token" not in json.dumps(saved).lower()
    env = Settings.load(tmp_path, env={"DOSSIER_INDEX_SERVER_URL": "http://other:1",
                                       "DOSSIER_INDEX_SYNC_INTERVAL_S": "2.5"})
    assert env.index_server_url == "http://other:1" and env.index_sync_interval_s == 2.5


def test_team_identity_ignores_the_cpu_numeric_variant(tmp_path: Path) -> None:
    """A bf16 desktop and an fp32 one must land in the same shared collection."""
    from app.library import Library

    class Emb:
        def __init__(self, identity: str) -> None:
            self.identity = identity

    team = Settings()
    team.index_server_url = "http://127.0.0.1:9"
    names = set()
    for variant in ("bf16", "fp32"):
        lib = Library(tmp_path / variant, team, embedder=Emb(f"all-MiniLM-L6-v2-mean-t256-{variant}"))
        names.add(lib.collection_name)
        lib.close()
    assert len(names) == 1
    local = [Library(tmp_path / f"l{v}", Settings(), embedder=Emb(f"m-{v}")) for v in ("bf16", "fp32")]
    assert local[0].collection_name != local[1].collection_name  # local mode keeps them apart, as before
    for lib in local:
        lib.close()


def test_cli_index_token_prints_a_matching_hash_line(capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli.main import main

    assert main(["index-token"]) == 0
    out = capsys.readouterr().out.splitlines()
    token = out[0].rsplit(" ", 1)[1]
    assert out[1].endswith(hash_line(token)) and token not in out[1]


def test_serve_index_refuses_to_start_without_a_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli.main import main

    monkeypatch.delenv("DOSSIER_INDEX_TOKEN", raising=False)
    assert main(["serve-index", "--path", str(tmp_path / "srv")]) == 2
    assert "No access token is configured" in capsys.readouterr().err
    assert not (tmp_path / "srv").exists()  # nothing started, nothing created
