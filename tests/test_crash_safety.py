"""A real ``dossier ingest`` process killed with SIGKILL mid-ingest leaves a consistent store.

Uses the real embedding model (so the kill lands while vectors are being written), real
Chroma on disk and real PDFs. After each kill: no half-indexed document is visible, every
visible document has all its chunks in the catalog and in Chroma, and a second run
finishes the job.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.samples.pdf_writer import write_text_pdf
from app.service import Service
from app.settings import Settings

pytestmark = pytest.mark.slow

N_DOCS = 4
#: Pages per document: enough that embedding one document takes seconds even on a fast
#: machine, so a kill timed from the start of a document lands inside that document.
PAGES = 96


def _make_docs(folder: Path) -> None:
    folder.mkdir()
    for d in range(N_DOCS):
        pages = [
            "\n".join(f"Section {d}.{p}.{i} The supplier shall deliver lot {d * 10000 + p * 100 + i} within {i + 5} days of the order." for i in range(14))
            for p in range(PAGES)
        ]
        write_text_pdf(folder / f"contract-{d}.pdf", pages, title=f"Contract {d}")


def _ingest_and_kill(data: Path, folder: Path, start: str, delay_s: float) -> None:
    env = {**os.environ, "DOSSIER_DATA_DIR": str(data), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli.main", "ingest", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 180
    for line in proc.stderr:  # the CLI prints "[i/N] Indexing name" per document on a pipe
        if line.startswith(start):
            break
        assert time.monotonic() < deadline, f"ingest did not reach {start}"
    time.sleep(delay_s)
    assert proc.poll() is None, "ingest finished before the kill; make the documents larger"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def _assert_consistent(data: Path) -> set[str]:
    with Service(data, Settings()) as svc:
        docs = [d for d in svc.documents() if d.status == "indexed"]
        catalog = svc.library.catalog
        for d in docs:
            assert len(catalog.chunks(svc.workspace, d.id)) == d.chunk_count > 0
        vectors = svc.library.vectors  # opening sweeps orphans of the killed run
        assert vectors.doc_ids() == {d.id for d in docs}
        assert vectors.count() == sum(d.chunk_count for d in docs)
        return {d.title for d in docs}


@pytest.mark.parametrize("start, delay_s", [("[2/", 0.05), ("[4/", 0.4)])
def test_kill_mid_ingest_then_resume(tmp_path: Path, start: str, delay_s: float) -> None:
    """Killed as the second document starts (its parse is under way), and 0.4 s into the last
    one (its vectors are being written): what was committed stays, nothing else shows."""
    folder = tmp_path / "pdfs"
    _make_docs(folder)
    data = tmp_path / "data"
    _ingest_and_kill(data, folder, start, delay_s)
    visible = _assert_consistent(data)
    assert "Contract 0" in visible and len(visible) < N_DOCS

    with Service(data, Settings()) as svc:
        summary = svc.ingest([folder])
        assert not summary.failed
        assert len(summary.unchanged) == len(visible)
    assert len(_assert_consistent(data)) == N_DOCS
