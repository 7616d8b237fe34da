"""Settings → Team: the index server address is a setting, its token goes to the keyring only."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Iterator

import keyring
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt")

from app.settings import Settings  # noqa: E402

from team_helpers import MemoryKeyring  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    before = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(before)


def _dialog(qtbot, settings: Settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    from app.gui.widgets.settings_dialog import SettingsDialog

    dlg = SettingsDialog(settings, str(tmp_path), inspector=lambda p: None)
    qtbot.addWidget(dlg)
    dlg.open()
    return dlg


def test_team_server_and_token(qtbot, memory_keyring: MemoryKeyring, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dlg = _dialog(qtbot, Settings(), tmp_path)
    assert dlg.index_url.text() == "" and dlg.index_token.isEnabled()
    dlg.index_token.setText("t0ken-for-team")
    dlg.accept()  # a token without an address: says so and stays open
    assert dlg.isVisible() and "address" in dlg.index_note.text() and not memory_keyring.store
    dlg.index_url.setText("index-host:8765")
    dlg.index_token.setText("t0ken-for-team")
    dlg.accept()
    assert not dlg.isVisible() and dlg.settings.index_server_url == "index-host:8765"
    assert memory_keyring.store == {("Dossier", "index:http://index-host:8765"): "t0ken-for-team"}
    assert dlg.index_token.text() == ""  # the field does not keep the secret
    dumped = json.dumps(dataclasses.asdict(dlg.settings))
    assert "t0ken-for-team" not in dumped

    again = _dialog(qtbot, dlg.settings, tmp_path)  # back to the local index: clear the address
    assert again.index_url.text() == "index-host:8765"
    again.index_url.setText("")
    again.accept()
    assert again.settings.index_server_url == "" and again.settings.remote_urls() == []


def test_no_secure_store_disables_the_team_token(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from keyring.backends import fail

    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        dlg = _dialog(qtbot, Settings(), tmp_path)
        assert not dlg.index_token.isEnabled() and "cannot be saved" in dlg.index_note.text()
        dlg.reject()
    finally:
        keyring.set_keyring(before)
