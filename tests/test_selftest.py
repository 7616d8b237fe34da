"""``dossier --self-test``: the installation check passes on a complete install (real PDF
parser child, OCR, MiniLM, Chroma, the bundled GGUF model, the risk review) and fails with
a clear message on a damaged one.

The built PyInstaller bundle runs the same check (``packaging/build.sh`` does it after every
build); ``test_built_bundle_passes_self_test`` runs it here only when a bundle has been built,
because building takes minutes and GBs (see packaging/README.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import selftest
from app.cli.main import EXIT_ERROR, main

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = Path(os.environ.get("DOSSIER_BUNDLE", ROOT / "dist" / "dossier" / "dossier"))


def _self_test_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, TMPDIR=str(tmp_path), DOSSIER_LLM_THREADS="1", QT_QPA_PLATFORM="offscreen")
    for key in ("DOSSIER_EMBEDDER", "DOSSIER_LLM_MODEL", "DOSSIER_DATA_DIR"):  # the check must use what ships
        env.pop(key, None)
    return env


def _assert_passed(out: str) -> None:
    for name, _ in selftest.STEPS:
        assert f"ok  {name}" in out, out
    assert "self-test passed" in out and "FAILED" not in out
    assert "evidence p. 3" in out  # the answer's evidence is the OCR'd sentence on the scanned page


@pytest.mark.slow
def test_self_test_passes_from_source(tmp_path: Path) -> None:
    """The console script, as a user runs it, in its own process (spawned children included)."""
    script = Path(sys.executable).with_name("dossier")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "app.cli.main"]
    proc = subprocess.run([*cmd, "--self-test"], cwd=tmp_path, env=_self_test_env(tmp_path),
                          capture_output=True, text=True, timeout=480)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _assert_passed(proc.stdout)
    assert "(source:" in proc.stdout
    assert not list(tmp_path.glob("dossier-selftest-*")), "a passing self-test removes its data folder"


def test_self_test_fails_clearly_on_a_damaged_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A stripped install (no resources folder) fails at the first step, says what is missing
    and what to do, and keeps the data folder for inspection."""
    import app.paths

    monkeypatch.setattr(app.paths, "RESOURCES", tmp_path / "no-resources")
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    assert main(["--self-test"]) == EXIT_ERROR
    out = capsys.readouterr().out
    assert "self-test FAILED at components: the risk taxonomy" in out and "reinstall Dossier" in out
    kept = list(tmp_path.glob("dossier-selftest-*"))
    assert len(kept) == 1 and str(kept[0]) in out


def test_process_age_is_measured() -> None:
    age = selftest.process_age()
    if sys.platform.startswith("linux"):
        assert age is not None and 0.0 <= age < 24 * 3600


@pytest.mark.slow
@pytest.mark.skipif(not BUNDLE.is_file(), reason="no built bundle (packaging/build.sh builds dist/dossier/)")
def test_built_bundle_passes_self_test(tmp_path: Path) -> None:
    proc = subprocess.run([str(BUNDLE), "--self-test"], cwd=tmp_path, env=_self_test_env(tmp_path),
                          capture_output=True, text=True, timeout=480)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _assert_passed(proc.stdout)
    assert "(bundle:" in proc.stdout
