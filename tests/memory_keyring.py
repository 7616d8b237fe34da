"""An in-memory keyring backend, selected explicitly by the tests that need one (these
machines have no OS keyring; the app itself never falls back to anything but the OS store).

Not a test module; imported by the secret, remote-model, network-guard and team tests."""

from __future__ import annotations

from typing import Iterator

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """Behaves like a real backend: deleting a secret that is not there raises."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.store:
            raise PasswordDeleteError("not found")
        del self.store[(service, username)]


def use_memory_keyring() -> Iterator[MemoryKeyring]:
    """Generator for a fixture: select a fresh MemoryKeyring, restore the previous backend after."""
    before = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(before)
