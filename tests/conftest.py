"""Shared pytest fixtures: generic helpers only (module-specific fixtures live in their tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

#: ``shared/bench`` beside the repository (read-only evaluation data; may be absent).
SHARED_BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"


@pytest.fixture(autouse=True)
def _offline_and_isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No model hub access, and no test ever sees the user's real data folder."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("DOSSIER_DATA_DIR", str(tmp_path / "dossier-data"))


@pytest.fixture
def shared_bench() -> Path:
    """Path of ``../shared/bench``; skips the test when the folder is absent."""
    if not SHARED_BENCH.is_dir():
        pytest.skip("../shared/bench is not present")
    return SHARED_BENCH


def bench_pdf(*parts: str) -> Path:
    """A file under ``../shared/bench``; skips the calling test when it is absent."""
    path = SHARED_BENCH.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not present")
    return path


@pytest.fixture
def sample_pdf(tmp_path: Path) -> Path:
    """A small 3-page text PDF written by :mod:`app.samples.pdf_writer`."""
    from app.samples.pdf_writer import write_text_pdf

    pages = [
        "Annual Report 2023\nPART I\nItem 1. Business\nWe make widgets. Our customers like them.",
        "Item 1A. Risk Factors\nDemand for widgets may fall. Supply may be interrupted.",
        "Item 7. Management's Discussion and Analysis\nRevenue grew 10% in 2023.",
    ]
    return write_text_pdf(tmp_path / "sample.pdf", pages, title="Sample Annual Report")
