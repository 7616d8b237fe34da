"""Build the configured engine from :class:`app.settings.Settings`.

Why one place: the service, the CLI and the bench must all pick local vs remote, the model
file and the thread count the same way.
"""

from __future__ import annotations

from pathlib import Path

from app.llm.base import LLM, ModelInfo
from app.settings import Settings


def create_llm(settings: Settings, threads: int | None = None) -> LLM:
    """Remote engine when ``llm_remote_url`` is set, else the local model (or the bundled one).

    ``threads`` overrides ``settings.llm_threads`` (the service passes 1 while ingestion is
    embedding, so the two do not fight over the cores).
    """
    if settings.llm_remote_url:
        from app.llm.remote import RemoteLLM, remote_secret_name

        return RemoteLLM(
            settings.llm_remote_url,
            model=settings.llm_remote_model,
            api_key_ref=remote_secret_name(settings.llm_remote_url),
            n_ctx=settings.llm_n_ctx,
            temperature=settings.llm_temperature,
        )
    from app.llm.bundled import bundled_model_path
    from app.llm.local import LocalLLM

    path = Path(settings.llm_model).expanduser() if settings.llm_model else bundled_model_path()
    return LocalLLM(
        path,
        n_ctx=settings.llm_n_ctx,
        n_gpu_layers=settings.llm_gpu_layers,
        threads=threads if threads is not None else settings.llm_threads,
        batch=settings.llm_batch,
        temperature=settings.llm_temperature,
    )


def inspect_model(path: str | Path) -> ModelInfo:
    """Header facts about a GGUF file for the settings dialog (does not load the model)."""
    from app.llm.gguf_info import read_gguf_info

    return read_gguf_info(path)
