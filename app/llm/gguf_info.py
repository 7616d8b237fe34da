"""Read a GGUF model file's header without llama.cpp.

Why: the settings dialog and the engine need a model's name, size, quantization and trained
context *before* (and without) loading it into memory, and a clear error for a file that is
not a model. The header is parsed from a memory map so the tensor data (gigabytes) is never
read, and the big tokenizer arrays are skipped by offset arithmetic instead of decoding.
"""

from __future__ import annotations

import mmap
import struct
from collections import Counter
from pathlib import Path
from typing import Any

from app.errors import ModelError
from app.llm.base import ModelInfo

GGUF_MAGIC = b"GGUF"

# llama.cpp's llama_ftype (general.file_type) → quantization name.
FILE_TYPES: dict[int, str] = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1",
    10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M",
    16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S",
    22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M",
    28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0",
    37: "TQ2_0", 38: "MXFP4_MOE", 39: "NVFP4", 40: "Q1_0", 41: "Q2_0",
}

# ggml_type (per tensor) → name, used when general.file_type is absent.
TENSOR_TYPES: dict[int, str] = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
    10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS",
    17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S",
    23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M",
    30: "BF16", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4", 40: "NVFP4", 41: "Q1_0", 42: "Q2_0",
}

# GGUF metadata value types: fixed-size scalars as struct formats.
_SCALARS: dict[int, str] = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f",
                            7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
#: Arrays longer than this are skipped (tokenizer vocabularies); only their length is kept.
_MAX_KEPT_ARRAY = 64


class _Reader:
    """Bounds-checked little-endian reader over a memory map."""

    def __init__(self, buf: mmap.mmap | bytes, path: Path) -> None:
        self.buf, self.pos, self.path = buf, 0, path

    def _need(self, n: int) -> None:
        if n < 0 or self.pos + n > len(self.buf):
            raise ModelError(f"The model file {self.path.name} is truncated or damaged (header ends early). "
                             "Download it again or choose another GGUF file.")

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        self._need(size)
        value = struct.unpack_from(fmt, self.buf, self.pos)[0]
        self.pos += size
        return value

    def string(self) -> str:
        n = self.unpack("<Q")
        self._need(n)
        raw = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n
        return raw.decode("utf-8", errors="replace")

    def skip_strings(self, count: int) -> None:
        buf, pos, end = self.buf, self.pos, len(self.buf)
        unpack = struct.Struct("<Q").unpack_from
        for _ in range(count):
            if pos + 8 > end:
                self.pos = end + 1
                self._need(0)
            pos += 8 + unpack(buf, pos)[0]
        self.pos = pos
        self._need(0)

    def value(self, vtype: int) -> Any:
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            return self.array()
        raise ModelError(f"The model file {self.path.name} has an unknown metadata type ({vtype}); "
                         "it may be damaged or from a newer format. Choose another GGUF file.")

    def array(self) -> Any:
        etype, count = self.unpack("<I"), self.unpack("<Q")
        if count <= _MAX_KEPT_ARRAY:
            return [self.value(etype) for _ in range(count)]
        if etype in _SCALARS:
            size = struct.calcsize(_SCALARS[etype]) * count
            self._need(size)
            self.pos += size
        elif etype == _STRING:
            self.skip_strings(count)
        else:  # arrays of arrays: rare, walk them
            for _ in range(count):
                self.value(etype)
        return _SkippedArray(count)


class _SkippedArray(int):
    """Stands in for a long array that was skipped; its value is the element count."""


def read_gguf_info(path: str | Path) -> ModelInfo:
    """Parse the GGUF header of ``path`` into a :class:`ModelInfo` (no tensor data read)."""
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"The model file {p} does not exist. Check the path in Settings → Model.")
    try:
        with open(p, "rb") as f:
            if p.stat().st_size < 24:
                raise _not_gguf(p)
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                return _parse(_Reader(mm, p))
    except OSError as e:
        raise ModelError(f"The model file {p} cannot be read ({e.strerror or e}). "
                         "Check that it exists and you may read it.") from e


def _not_gguf(p: Path) -> ModelError:
    return ModelError(f"{p.name} is not a GGUF model file. Choose a .gguf file "
                      "(llama.cpp format), e.g. a Q4_K_M download of an instruct model.")


def _parse(r: _Reader) -> ModelInfo:
    if bytes(r.buf[:4]) != GGUF_MAGIC:
        raise _not_gguf(r.path)
    r.pos = 4
    version = r.unpack("<I")
    if version not in (2, 3):
        raise ModelError(f"{r.path.name} uses GGUF version {version}, which Dossier cannot read. "
                         "Use a current GGUF file (version 3).")
    n_tensors, n_kv = r.unpack("<Q"), r.unpack("<Q")
    meta: dict[str, Any] = {}
    for _ in range(n_kv):
        key = r.string()
        meta[key] = r.value(r.unpack("<I"))
    params, type_counts = _tensor_infos(r, n_tensors)
    return _to_info(r.path, version, meta, params, type_counts)


def _tensor_infos(r: _Reader, n_tensors: int) -> tuple[int, Counter[int]]:
    params, types = 0, Counter[int]()
    for _ in range(n_tensors):
        r.string()
        n_dims = r.unpack("<I")
        if n_dims > 8:
            raise ModelError(f"The model file {r.path.name} is damaged (tensor with {n_dims} dimensions).")
        count = 1
        for _ in range(n_dims):
            count *= r.unpack("<Q")
        ttype = r.unpack("<I")
        r.unpack("<Q")  # data offset
        params += count
        types[ttype] += count
    return params, types


def _to_info(p: Path, version: int, meta: dict[str, Any], params: int, types: Counter[int]) -> ModelInfo:
    arch = str(meta.get("general.architecture", ""))
    ftype = meta.get("general.file_type")
    if isinstance(ftype, int) and ftype in FILE_TYPES:
        quant = FILE_TYPES[ftype]
    elif types:
        quant = TENSOR_TYPES.get(types.most_common(1)[0][0], "unknown")
    else:
        quant = "unknown"
    template = meta.get("tokenizer.chat_template")
    template = template if isinstance(template, str) and template.strip() else ""
    ctx = meta.get(f"{arch}.context_length", 0)
    extra: dict[str, Any] = {
        "gguf_version": version,
        "chat_template": template,
        "file_size": p.stat().st_size,
        "vocab_size": _length(meta.get("tokenizer.ggml.tokens")),
        "metadata": {k: v for k, v in meta.items()
                     if type(v) in (int, float, str, bool) and k != "tokenizer.chat_template"},
    }
    return ModelInfo(
        name=str(meta.get("general.name") or p.stem),
        path=str(p),
        architecture=arch,
        parameters=params,
        quantization=quant,
        trained_context=int(ctx) if isinstance(ctx, int) else 0,
        has_chat_template=bool(template),
        extra=extra,
    )


def _length(value: Any) -> int:
    if isinstance(value, _SkippedArray):
        return int(value)
    return len(value) if isinstance(value, list) else 0
