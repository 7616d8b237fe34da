"""app.secrets: OS keyring only, never a file fallback."""

from __future__ import annotations

from typing import Iterator

import keyring
from keyring.backend import KeyringBackend
import pytest
from keyring.backends import fail, null
from keyring.errors import PasswordDeleteError

from app import secrets
from app.errors import DossierError
from memory_keyring import MemoryKeyring




@pytest.fixture
def use_keyring() -> Iterator[callable]:
    before = keyring.get_keyring()

    def use(backend: KeyringBackend) -> KeyringBackend:
        keyring.set_keyring(backend)
        return backend

    yield use
    keyring.set_keyring(before)


def test_roundtrip_in_memory_backend(use_keyring, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    kr = use_keyring(MemoryKeyring())
    ok, name = secrets.secure_store_available()
    assert ok and "MemoryKeyring" in name
    assert secrets.get_secret("remote:http://h") is None
    secrets.set_secret("remote:http://h", "tok-123")
    assert secrets.get_secret("remote:http://h") == "tok-123"
    assert kr.store == {("Dossier", "remote:http://h"): "tok-123"}
    secrets.delete_secret("remote:http://h")
    secrets.delete_secret("remote:http://h")  # deleting twice is fine
    assert secrets.get_secret("remote:http://h") is None
    secrets.set_secret("x", "v")
    secrets.set_secret("x", "")  # empty value removes it
    assert secrets.get_secret("x") is None
    assert list(tmp_path.iterdir()) == []  # nothing written to disk


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()])
def test_no_backend_refuses_with_clear_message(use_keyring, backend) -> None:
    use_keyring(backend)
    ok, why = secrets.secure_store_available()
    assert not ok and "keyring" in why.lower()
    for call in (lambda: secrets.set_secret("a", "b"), lambda: secrets.get_secret("a"), lambda: secrets.delete_secret("a")):
        with pytest.raises(secrets.SecretStoreUnavailable, match="Install and unlock an OS keyring") as info:
            call()
        assert isinstance(info.value, DossierError)


def test_backend_errors_become_secret_store_unavailable(use_keyring) -> None:
    from keyring.errors import KeyringLocked

    class Locked(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            raise KeyringLocked("locked")

    use_keyring(Locked())
    with pytest.raises(secrets.SecretStoreUnavailable, match="could not read"):
        secrets.get_secret("a")
