"""Where Dossier keeps its files.

The data folder comes from, in order: an explicit argument (``--data-dir``), the
``DOSSIER_DATA_DIR`` environment variable, then the platform's user data folder.
Tests always pass a temporary folder; nothing here creates the user's folder on import.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_DATA_DIR = "DOSSIER_DATA_DIR"
REPO_ROOT = Path(__file__).resolve().parents[1]
RESOURCES = REPO_ROOT / "resources"


def default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("Dossier", appauthor=False))


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser().resolve()
    return default_data_dir()
