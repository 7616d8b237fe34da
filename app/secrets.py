"""Tokens and passwords, kept only in the operating system's keyring.

Why: an API token for the shared model server must never sit in settings.json, a log or any
other file a colleague or a backup could read. When no keyring is usable (a headless Linux
box without Secret Service, a locked keychain) we refuse with a clear message instead of
falling back to a file.
"""

from __future__ import annotations

from app.errors import DossierError

SERVICE = "Dossier"

_HOW_TO = (
    "Install and unlock an OS keyring (Windows Credential Manager, macOS Keychain, or on Linux "
    "GNOME Keyring/KWallet with the Secret Service running), then try again."
)


class SecretStoreUnavailable(DossierError):
    """No usable OS keyring: secrets cannot be stored or read."""


def _backend() -> object:
    import keyring
    from keyring.errors import KeyringError

    try:
        kr = keyring.get_keyring()
    except KeyringError as e:
        raise SecretStoreUnavailable(f"No secure password store is available ({e}). {_HOW_TO}") from e
    if _is_unusable(kr):
        raise SecretStoreUnavailable(f"No secure password store is available on this computer. {_HOW_TO}")
    return kr


def _is_unusable(kr: object) -> bool:
    """The fail and null backends (and a chainer holding no real backend) store nothing."""
    from keyring.backends import chainer, fail, null

    if isinstance(kr, (fail.Keyring, null.Keyring)):
        return True
    if isinstance(kr, chainer.ChainerBackend):
        return not any(not isinstance(b, (fail.Keyring, null.Keyring)) for b in kr.backends)
    return False


def secure_store_available() -> tuple[bool, str]:
    """(True, backend name) when secrets can be stored, else (False, what to do)."""
    try:
        kr = _backend()
    except SecretStoreUnavailable as e:
        return False, str(e)
    return True, f"{type(kr).__module__}.{type(kr).__name__}"


def _call(action: str, fn, *args: str):  # type: ignore[no-untyped-def]
    from keyring.errors import KeyringError, PasswordDeleteError

    try:
        return fn(*args)
    except PasswordDeleteError:
        return None
    except KeyringError as e:
        raise SecretStoreUnavailable(f"The password store could not {action} the secret ({e}). {_HOW_TO}") from e


def set_secret(name: str, value: str) -> None:
    """Store ``value`` under ``name`` (e.g. ``"remote:https://host:8080"``)."""
    if not value:
        delete_secret(name)
        return
    kr = _backend()
    _call("save", kr.set_password, SERVICE, name, value)  # type: ignore[attr-defined]


def get_secret(name: str) -> str | None:
    """The stored secret, or None when there is none."""
    kr = _backend()
    value = _call("read", kr.get_password, SERVICE, name)  # type: ignore[attr-defined]
    return value if value else None


def delete_secret(name: str) -> None:
    """Remove the secret; removing a secret that does not exist is not an error."""
    kr = _backend()
    _call("delete", kr.delete_password, SERVICE, name)  # type: ignore[attr-defined]
