"""One typed settings object, saved as JSON in the data folder.

Environment variables ``DOSSIER_<FIELD>`` (upper case, e.g. ``DOSSIER_LLM_THREADS``)
override saved values for one run. Secrets are never fields here: tokens and passwords
live in the OS keyring (see :mod:`app.secrets`).
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
ENV_PREFIX = "DOSSIER_"


@dataclass
class ChunkSettings:
    target_chars: int = 900
    max_chars: int = 1400
    min_chars: int = 200

    def identity(self) -> str:
        return f"c{self.target_chars}-{self.max_chars}-{self.min_chars}"


@dataclass
class Settings:
    schema_version: int = SCHEMA_VERSION
    workspace: str = "default"
    #: "minilm" (bundled all-MiniLM-L6-v2) or a path to a sentence-transformers folder.
    embedder: str = "minilm"
    embed_threads: int = 0  # 0 = derived from the machine
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    #: OCR pages that have no text layer (scans), locally (app.ingest.ocr). Not part of the
    #: index identity: see app/ingest/pipeline.py. ``DOSSIER_OCR=0`` turns it off for one run.
    ocr: bool = True
    #: "" = bundled default model, else a path to a GGUF file.
    llm_model: str = ""
    llm_n_ctx: int = 0  # 0 = derived from the model and machine
    llm_gpu_layers: int = 0  # -1 = all
    llm_threads: int = 0  # 0 = derived
    llm_batch: int = 256
    llm_temperature: float = 0.1
    #: OpenAI-compatible server URL for the shared model ("" = local model).
    llm_remote_url: str = ""
    llm_remote_model: str = ""
    #: Team index server (``dossier serve-index``) URL, e.g. http://index-host:8765 ("" = the
    #: index stays on this computer). Its token lives in the OS keyring, never here.
    index_server_url: str = ""
    #: Team mode: at most this often (seconds) the document list is refreshed from the server.
    index_sync_interval_s: float = 10.0
    #: Extra risk playbook (JSON) merged over the bundled taxonomy.
    risk_playbook: str = ""
    theme: str = "system"

    def remote_urls(self) -> list[str]:
        """The servers this configuration talks to (model server, team index server): the only
        hosts Dossier may connect to (the network guard allows these and nothing else)."""
        return [u.strip() for u in (self.llm_remote_url, self.index_server_url) if u.strip()]

    # -- persistence ---------------------------------------------------------------
    @classmethod
    def load(cls, data_dir: Path, env: dict[str, str] | None = None) -> "Settings":
        path = Path(data_dir) / "settings.json"
        raw: dict[str, Any] = {}
        if path.exists():
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                raw = {}
        s = cls.from_dict(raw)
        s.apply_env(os.environ if env is None else env)
        return s

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "Settings":
        s = cls()
        names = {f.name: f for f in dataclasses.fields(cls)}
        for key, value in raw.items():
            if key == "chunking" and isinstance(value, dict):
                s.chunking = ChunkSettings(**{k: int(v) for k, v in value.items() if k in ChunkSettings.__dataclass_fields__})
            elif key in names and key != "schema_version":
                setattr(s, key, _coerce(getattr(s, key), value))
        return s

    def apply_env(self, env: Any) -> None:
        for f in dataclasses.fields(self):
            key = ENV_PREFIX + f.name.upper()
            if key in env and f.name not in ("chunking", "schema_version"):
                setattr(self, f.name, _coerce(getattr(self, f.name), env[key]))

    def save(self, data_dir: Path) -> None:
        path = Path(data_dir) / "settings.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(dataclasses.asdict(self), indent=2), encoding="utf-8")
        os.replace(tmp, path)


def _coerce(current: Any, value: Any) -> Any:
    if isinstance(current, bool):
        return str(value).lower() in ("1", "true", "yes", "on") if isinstance(value, str) else bool(value)
    if isinstance(current, int):
        return int(value)
    if isinstance(current, float):
        return float(value)
    return str(value)


def cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)
