"""Start the desktop app: ``run_gui(data_dir=None, sample=True) -> int``.

Startup stays light (the window must be usable in ≤ 2 s): nothing here imports torch,
chromadb or llama_cpp — the service loads them on first use, and the model loads in a
background job after the window is shown.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_POINTER = "data_dir.txt"


def _pointer_file() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("Dossier", appauthor=False)) / _POINTER


def remember_data_dir(path: str) -> None:
    """Remember a data folder chosen in Settings for the next start (not when the folder
    was forced by ``DOSSIER_DATA_DIR``, e.g. in tests — nothing outside it is touched)."""
    if os.environ.get("DOSSIER_DATA_DIR"):
        return
    p = _pointer_file()
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(path, encoding="utf-8")


def _remembered_data_dir() -> str | None:
    if os.environ.get("DOSSIER_DATA_DIR"):
        return None
    try:
        text = _pointer_file().read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None


def setup_logging(data_dir: Path) -> Path:
    """Log to ``data_dir/logs/dossier.log`` (rotated); the user sees plain messages only."""
    logs = Path(data_dir) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / "dossier.log"
    root = logging.getLogger()
    if not any(getattr(h, "baseFilename", None) == str(path) for h in root.handlers):
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(min(root.level or logging.INFO, logging.INFO))
    return path


def _app() -> Any:
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Dossier")
    app.setOrganizationName("Dossier")
    icon = Path(__file__).resolve().parents[2] / "resources" / "icons" / "dossier.svg"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    return app


def create_window(data_dir: str | None = None, sample: bool = True, *, embedder: Any = None, llm: Any = None,
                  preload_model: bool = True, isolate_index: bool = True) -> Any:
    """Build the service and the window (shown by the caller). Used by ``run_gui``, the
    tests and the benchmarks, which inject a fake embedder or model.

    ``isolate_index``: the embedding model and Chroma run in a helper process
    (:mod:`app.store.index_process`), so their GIL-holding native calls and imports never
    freeze the window. Tests with a fake embedder may turn it off to save the child's start."""
    from PySide6.QtCore import QSettings, QTimer

    from app.errors import DossierError
    from app.gui.main_window import MainWindow
    from app.gui.theme import apply_theme
    from app.paths import resolve_data_dir
    from app.service import Service
    from app.settings import Settings

    root = resolve_data_dir(data_dir or _remembered_data_dir())
    root.mkdir(parents=True, exist_ok=True)
    setup_logging(root)
    settings = Settings.load(root)
    last = QSettings(str(root / "gui.ini"), QSettings.Format.IniFormat).value("workspace")
    if last:
        settings.workspace = str(last)

    embedder, release = _index_helper(root, settings, embedder) if isolate_index else (embedder, lambda: None)

    def factory(workspace: str) -> Any:
        settings.workspace = workspace
        return Service(root, settings, embedder=embedder, llm=llm)

    try:
        window = MainWindow(factory(settings.workspace), service_factory=factory)
    except BaseException:
        release()
        raise
    window.on_closed.append(release)
    apply_theme(settings.theme)
    window.sample_on_first_run = sample  # added when the first library read finds it empty
    if preload_model:
        QTimer.singleShot(300, window.load_model)
    if window.service.read_only:
        window.show_error(DossierError(
            f"Another Dossier window is using {root}. This window can read but not change the library; "
            "close the other one to add or remove documents."))
    return window


def _index_helper(root: Path, settings: Any, embedder: Any) -> tuple[Any, Any]:
    """Route this data folder's Chroma (and the embedder, unless one is injected) to the index
    helper process; returns the embedder to use and the function that undoes it."""
    from app.store import index_process

    chroma = root / "chroma"
    index_process.enable_for(chroma)
    if embedder is None:
        embedder = index_process.ProcessEmbedder(settings.embedder, settings.embed_threads)
    return embedder, lambda: index_process.disable_for(chroma)


def run_gui(data_dir: str | None = None, sample: bool = True) -> int:
    """Open the window and run the event loop; returns the exit code."""
    from app import netguard

    netguard.apply_offline_env()  # no model hub, no telemetry, in this process and its children
    netguard.install()  # refuse outbound connections except to servers set in Settings (DOSSIER_NETWORK_GUARD)
    app = _app()
    from app.errors import DossierError

    try:
        window = create_window(data_dir, sample)
    except DossierError as err:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.critical(None, "Dossier", str(err))
        return 1
    window.show()
    return int(app.exec())


if __name__ == "__main__":
    raise SystemExit(run_gui())
