"""``dossier doctor``: guard state, versions, the model file's SHA-256 (cached), embedder,
data folder, secure store, free disk and the audit trail's state — on the real bundled model
file and a real data folder."""

from __future__ import annotations

import hashlib
import json
import os
from importlib import metadata
from pathlib import Path

import pytest

from app import filehash
from app.cli.main import EXIT_ERROR, EXIT_OK, main
from app.llm.bundled import bundled_model_path


@pytest.fixture
def doctor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DOSSIER_EMBEDDER", "fake")
    data = tmp_path / "data"

    def run(*args: str) -> tuple[int, str, str]:
        from app import netguard

        netguard.reset_attempts()  # counts are per process; tests share one
        code = main(["--data-dir", str(data), "doctor", *args])
        out, err = capsys.readouterr()
        return code, out, err

    run.data = data  # type: ignore[attr-defined]
    return run


@pytest.fixture(scope="module")
def bundled_sha() -> str:
    return hashlib.sha256(bundled_model_path().read_bytes()).hexdigest()


def test_json_report_has_every_fact(doctor, bundled_sha: str) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = doctor("--json")
    assert code == EXIT_OK
    r = json.loads(out)
    assert r["network_guard"]["mode"] == "strict" and r["network_guard"]["installed"]
    assert r["network_guard"]["outbound_attempts"] == 0
    libs = r["versions"]["libraries"]
    for name in ("llama-cpp-python", "chromadb", "torch", "transformers", "pypdfium2", "PySide6"):
        assert libs[name] == metadata.version(name)
    assert r["versions"]["dossier"] == __import__("app").__version__
    model = r["model"]
    assert model["kind"] == "local" and model["bundled"] and model["path"] == str(bundled_model_path())
    assert model["sha256"] == bundled_sha and model["quantization"]
    assert r["embedder"]["identity"] == "fake-bow3-256"
    assert r["data"]["data_dir"] == str(doctor.data) and r["data"]["free_bytes"] > 0 and r["data"]["writable"]
    assert set(r["secure_store"]) >= {"available"}
    assert r["audit"]["intact"] and r["audit"]["entries"] == 0
    assert r["problems"] == []


def test_human_report(doctor, bundled_sha: str) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = doctor()
    assert code == EXIT_OK
    assert "Network guard   strict (installed); allowed servers: none" in out
    assert f"sha256 {bundled_sha}" in out and "Data folder" in out and "Secure store" in out
    assert "llama-cpp-python " + metadata.version("llama-cpp-python") in out


def test_model_hash_is_cached_by_path_size_and_mtime(doctor, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                     tmp_path: Path) -> None:
    doctor("--json")
    cache = json.loads((doctor.data / filehash.CACHE_FILE).read_text())
    assert str(bundled_model_path().resolve()) in cache

    f = tmp_path / "model.gguf"
    f.write_bytes(b"x" * 1000)
    first = filehash.sha256_cached(f, tmp_path)
    monkeypatch.setattr(filehash, "_MEMO", {})  # a new process: only the cache file remains

    def no_hashing(*_: object) -> str:
        raise AssertionError("the file was hashed again")

    monkeypatch.setattr(filehash, "sha256_file", no_hashing)
    assert filehash.sha256_cached(f, tmp_path) == first == hashlib.sha256(b"x" * 1000).hexdigest()
    monkeypatch.undo()
    f.write_bytes(b"y" * 1000)
    os.utime(f, ns=(1, 1))  # same size, other mtime: a different file
    assert filehash.sha256_cached(f, tmp_path) == hashlib.sha256(b"y" * 1000).hexdigest()


def test_problems_give_a_non_zero_exit(doctor, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from app.audit import AuditLog

    log = AuditLog(doctor.data / "audit")
    for i in range(3):
        log.append("question", {"question": f"q{i}"})
    log.path.write_bytes(log.path.read_bytes().replace(b'"q1"', b'"q1!"'))
    monkeypatch.setenv("DOSSIER_LLM_MODEL", str(doctor.data / "missing.gguf"))
    code, out, _ = doctor()
    assert code == EXIT_ERROR
    assert "PROBLEM: the audit trail failed verification: entry #2" in out
    assert "PROBLEM: the model cannot be used" in out


def test_remote_model_and_warn_mode_are_reported(doctor, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DOSSIER_LLM_REMOTE_URL", "http://bob:hunter2@gpu-box:8080")
    monkeypatch.setenv("DOSSIER_NETWORK_GUARD", "warn")
    code, out, _ = doctor("--json")
    r = json.loads(out)
    assert code == EXIT_OK and r["model"] == {"kind": "remote", "url": "http://gpu-box:8080",
                                              "model": "(server default)"}
    assert r["network_guard"]["mode"] == "warn" and "gpu-box:8080" in r["network_guard"]["allowed_servers"]
    assert any("network guard is warn" in w for w in r["warnings"])
    assert "hunter2" not in out


def test_secure_store_is_reported_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    from keyring.backend import KeyringBackend
    from keyring.backends import fail

    from app.doctor import secure_store_report

    class Memory(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def get_password(self, service: str, username: str) -> str | None:
            return None

        def set_password(self, service: str, username: str, password: str) -> None:
            return None

        def delete_password(self, service: str, username: str) -> None:
            return None

    before = keyring.get_keyring()
    try:
        keyring.set_keyring(fail.Keyring())
        none = secure_store_report()
        keyring.set_keyring(Memory())
        some = secure_store_report()
    finally:
        keyring.set_keyring(before)
    assert none["available"] is False and "keyring" in none["detail"].lower()
    assert some["available"] is True and "Memory" in some["backend"]


def test_reports_onnxruntime_telemetry_files_left_on_the_machine(doctor, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    r = json.loads(doctor("--json")[1])
    assert r["telemetry_files"] == [] and not any("telemetry" in w for w in r["warnings"])
    store = cache / "Microsoft" / "DeveloperTools" / ".onnxruntime"
    store.mkdir(parents=True)
    (store / "deviceid").write_text("f7c15876-d154-4057-abf5-55cb9727e4ba")
    r = json.loads(doctor("--json")[1])
    assert r["telemetry_files"] == [str(store)]
    assert any(str(store) in w and "delete the folder" in w for w in r["warnings"])
    code, out, err = doctor()
    assert str(store) in out + err  # the human report says it too
