"""parse_in_subprocess: same result as read_pdf; crashes, hangs, memory and cancel isolated."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from app.errors import Cancelled, PasswordRequired, PdfError
from app.ingest.parse_worker import parse_in_subprocess
from app.ingest.pdf_text import read_pdf
from app.types import CancelToken


def test_same_result_as_in_process(sample_pdf: Path) -> None:
    events = []
    doc = parse_in_subprocess(sample_pdf, on_progress=events.append)
    assert doc == read_pdf(sample_pdf)
    assert events and events[-1].done == events[-1].total == 3


def test_errors_cross_the_boundary(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"not a pdf at all")
    with pytest.raises(PdfError, match="not a PDF"):
        parse_in_subprocess(bad)


def test_password_error_keeps_its_type(tmp_path: Path, sample_pdf: Path) -> None:
    import pypdf

    writer = pypdf.PdfWriter(clone_from=str(sample_pdf))
    writer.encrypt(user_password="pw", owner_password="o")
    path = tmp_path / "p.pdf"
    with open(path, "wb") as fh:
        writer.write(fh)
    with pytest.raises(PasswordRequired):
        parse_in_subprocess(path)


def test_native_crash_becomes_pdf_error(sample_pdf: Path) -> None:
    with pytest.raises(PdfError, match="could not be read safely.*crashed"):
        parse_in_subprocess(sample_pdf, test_hook="abort")


def test_memory_blow_up_becomes_pdf_error(sample_pdf: Path) -> None:
    with pytest.raises(PdfError, match="could not be read safely"):
        parse_in_subprocess(sample_pdf, memory_mb=600, test_hook="alloc")


def test_hang_times_out(sample_pdf: Path) -> None:
    with pytest.raises(PdfError, match="longer than"):
        parse_in_subprocess(sample_pdf, timeout_s=3, test_hook="hang")


def test_cancel_kills_child(sample_pdf: Path) -> None:
    token = CancelToken()
    threading.Timer(1.0, token.cancel).start()
    with pytest.raises(Cancelled):
        parse_in_subprocess(sample_pdf, timeout_s=60, cancel=token, test_hook="hang")


def test_a_crash_near_the_memory_limit_reads_as_out_of_memory() -> None:
    """The child's own peak (shared memory) counts; a crash from half the limit on is memory,
    a crash of a small process stays a crash."""
    import types

    from app.ingest.parse_worker import _MemoryWatch

    shared = types.SimpleNamespace(value=0.0)
    watch = _MemoryWatch(None, 700, shared)
    watch.enabled = True
    shared.value = 120.0
    assert not watch.explains_crash() and not watch.exhausted
    shared.value = 400.0  # the next doubling of a 256 MB buffer failed
    assert watch.explains_crash() and not watch.exhausted
    shared.value = 680.0
    assert watch.exhausted
