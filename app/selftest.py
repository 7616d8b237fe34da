"""``dossier --self-test``: prove that an installation works, end to end, offline.

Why: an installer can lose a part without anyone noticing until a user drops in a PDF —
a model file left out of the bundle, llama.cpp's shared library not found, ONNX Runtime's
OCR models missing, a Python module PyInstaller did not see. This check runs the real parts
the way the app does (PDF parser and model in their own processes, Chroma on disk, the
bundled embedder and language model, OCR, the risk taxonomy) in a throw-away data folder,
so it never touches the user's library, and says which step failed and why.

Steps: locate the bundled parts ► open a fresh data folder ► write a 3-page PDF (two text
pages, one scanned page) ► ingest it (the scanned page must come back through OCR) ► ask a
question about the scanned page with the bundled model (the top evidence must be the OCR'd
sentence on page 3 that holds the answer; every citation must point at real text) ► risk
review of the bundled sample contract (its governing-law and renewal clauses must be found
on their pages) ► no outbound network attempt.

Exit 0 when every step passed; 1 with ``self-test FAILED at <step>: <why>`` otherwise (the
data folder is then kept for inspection and its path printed).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TextIO

from app.errors import DossierError

#: Asked about the scanned page, so the answer has to come through OCR; with this question the
#: bundled model reliably writes a sentence the verifier accepts (measured), but only the
#: evidence and the citations decide pass/fail: a 135M model's prose is not a test oracle.
QUESTION = "What was the dividend per share?"
ANSWER_FIGURE = "42 cents"
ANSWER_PAGE = SCAN_PAGE = 2  # 0-based: the third page, an image only
TEXT_FIGURE = "1,577"  # on the second page's text layer
SCAN_LINES = ["Dividend policy", "The board declared a dividend of 42 cents per share."]
REPORT_PAGES = [
    "Selftest Industries Inc.\nAnnual Report 2019\nItem 1. Business\n"
    "Selftest Industries makes industrial pumps and valves for water utilities in Europe.",
    "Item 7. Management's Discussion and Analysis\n"
    "Capital expenditures were $1,577 million in 2019, up from $1,204 million in 2018.\n"
    "Revenue was $9,310 million in 2019.",
]
#: Clauses of the bundled sample contract that the review must find: category id -> 0-based page.
SAMPLE_CLAUSES = {"governing_law": 3, "renewal_term": 1}


class SelfTestError(DossierError):
    """A self-test step found something wrong; the message says what."""


@dataclass
class SelfTest:
    """State shared by the steps: the temporary data folder, the service, what was found."""

    root: Path
    out: TextIO
    service: Any = None
    facts: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def step(self, name: str, fn: Callable[["SelfTest"], str]) -> None:
        """Run one step; print ``ok`` with its time and detail, or raise naming the step."""
        t0 = time.perf_counter()
        try:
            detail = fn(self)
        except SelfTestError:
            raise
        except Exception as err:  # noqa: BLE001 - any failure of a real part is the finding
            raise SelfTestError(f"{name}: {type(err).__name__}: {err}") from err
        line = f"  ok  {name:<12} {time.perf_counter() - t0:6.1f} s  {detail}"
        self.lines.append(line)
        print(line, file=self.out, flush=True)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise SelfTestError(message)


# -- steps ------------------------------------------------------------------------------

def step_components(t: SelfTest) -> str:
    """The bundled model, the embedder folder, the taxonomy and the sample are all there."""
    from app.embed.minilm import bundled_model_dir
    from app.llm.bundled import bundled_model_path
    from app.paths import RESOURCES
    from app.samples.sample_docs import bundled_sample_path

    gguf = bundled_model_path()
    minilm = bundled_model_dir()
    _check((minilm / "config.json").is_file(), f"components: the embedding model folder {minilm} is incomplete")
    taxonomy = RESOURCES / "taxonomy" / "default.json"
    _check(taxonomy.is_file(), f"components: the risk taxonomy {taxonomy} is missing")
    _check(bundled_sample_path().is_file(), f"components: the sample contract {bundled_sample_path()} is missing")
    return f"model {gguf.name} ({gguf.stat().st_size / 1e6:.0f} MB), embedder {minilm.parent.name}"


def step_open(t: SelfTest) -> str:
    """A fresh data folder (catalog, lock, audit trail) with the bundled parts selected."""
    from app.service import Service

    data = t.root / "data"
    t.service = Service(data, _settings(data))
    return str(data)


def step_write_pdf(t: SelfTest) -> str:
    """A PDF whose text we know: two text pages and one page that is only an image (a scan)."""
    from app.samples.pdf_writer import write_mixed_pdf
    from app.samples.scan import render_scan

    scan = render_scan(SCAN_LINES, dpi=200, font_pt=12).image
    path = write_mixed_pdf(t.root / "selftest-report.pdf", [*REPORT_PAGES, scan], title="Selftest Annual Report 2019")
    t.facts["report"] = path
    return f"{path.name} ({path.stat().st_size // 1024} KB, 3 pages, page 3 scanned)"


def step_ingest(t: SelfTest) -> str:
    """Parse (child process) ► OCR ► chunk ► embed (MiniLM) ► Chroma + SQLite."""
    summary = t.service.ingest([t.facts["report"]])
    if summary.failed:
        raise SelfTestError("ingest: " + "; ".join(f.message for f in summary.failed))
    _check(len(summary.added) == 1, f"ingest: expected 1 new document, got {len(summary.added)}")
    doc = summary.added[0]
    _check(doc.page_count == 3, f"ingest: expected 3 pages, the index has {doc.page_count}")
    pages = t.service.page_texts(doc.id)
    _check(TEXT_FIGURE in pages[1].text, f"ingest: page 2's text layer was not read (got {pages[1].text[:80]!r})")
    scanned = pages[SCAN_PAGE]
    _check(scanned.ocr and "dividend" in scanned.text.lower(),
           f"ingest: OCR did not read the scanned page (got {scanned.text[:80]!r})")
    t.facts["doc"], t.facts["pages"] = doc, pages
    return f"{doc.chunk_count} chunks; OCR read page 3: {scanned.text.splitlines()[0][:40]!r}"


def step_ask(t: SelfTest) -> str:
    """The bundled model answers; the evidence and any citations point at the right page."""
    doc, pages = t.facts["doc"], t.facts["pages"]
    answer = t.service.ask(QUESTION, doc_ids=[doc.id])
    _check(bool(answer.evidence), "ask: no evidence was retrieved for the question")
    top = answer.evidence[0]
    _check(top.doc_id == doc.id and top.page == ANSWER_PAGE and ANSWER_FIGURE in top.best_sentence,
           f"ask: the top evidence is not the sentence on page {ANSWER_PAGE + 1} "
           f"(got page {top.page + 1}: {top.best_sentence[:80]!r})")
    span = top.best_sentence_spans[0]
    _check(ANSWER_FIGURE in pages[span.page].text[span.start:span.end],
           f"ask: the evidence span does not cover the answer on page {span.page + 1}")
    _check(bool(answer.text.strip()) and not answer.cancelled, "ask: the model returned no answer")
    for c in answer.citations:
        _check(c.doc_id == doc.id and bool(c.spans), f"ask: citation [{c.number}] has no source span")
        s = c.spans[0]
        _check(bool(pages[s.page].text[s.start:s.end].strip()), f"ask: citation [{c.number}] points at empty text")
    cited = sorted({c.page + 1 for c in answer.citations})
    t.facts["answer"] = answer
    what = f"cites p. {', '.join(map(str, cited))}" if cited else "no citation"
    verdict = "supported" if answer.fully_supported else "abstained" if answer.abstained else "NOT supported (small model)"
    return f"{answer.text.strip()[:50]!r}: {verdict}, {what}, evidence p. {top.page + 1}"


def step_review(t: SelfTest) -> str:
    """Risk review of the bundled sample contract finds its known clauses on their pages."""
    from app.samples.sample_docs import sample_agreement

    summary = t.service.ingest([sample_agreement(t.root / "sample")])
    _check(summary.ok and len(summary.added) == 1, "review: the bundled sample contract could not be added")
    report = t.service.review(summary.added[0].id)
    found = {f.category_id: f for f in report.present()}
    for category, page in SAMPLE_CLAUSES.items():
        f = found.get(category)
        _check(f is not None, f"review: the sample's {category} clause was not found")
        _check(f.page == page, f"review: {category} found on page {(f.page or 0) + 1}, expected page {page + 1}")
    high = sum(1 for f in report.present() if f.severity == "high")
    return f"{len(report.present())} findings ({high} high), {len(report.missing())} missing clauses"


def step_offline(t: SelfTest) -> str:
    """Nothing above tried to reach the network."""
    from app import netguard

    tried = netguard.attempts()
    _check(not tried, "offline: outbound network attempts: " + ", ".join(f"{a.host}:{a.port}" for a in tried[:5]))
    return f"0 outbound attempts (network guard: {netguard.mode()})"


STEPS: list[tuple[str, Callable[[SelfTest], str]]] = [
    ("components", step_components), ("data folder", step_open), ("write PDF", step_write_pdf), ("ingest", step_ingest),
    ("ask", step_ask), ("risk review", step_review), ("offline", step_offline),
]


# -- driver -----------------------------------------------------------------------------

def _settings(root: Path) -> Any:
    """Default settings with the bundled parts forced: the self-test checks what ships, not
    a model or server the user configured (``DOSSIER_LLM_THREADS`` etc. still apply)."""
    from app.settings import Settings

    s = Settings.load(root)
    s.embedder, s.llm_model, s.llm_remote_url, s.index_server_url, s.ocr = "minilm", "", "", "", True
    s.workspace = "selftest"
    return s


def process_age() -> float | None:
    """Seconds since this process started (Linux), i.e. the start-up cost before our code."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _header(out: TextIO) -> None:
    from app import __version__

    age = process_age()
    kind = "bundle" if getattr(sys, "frozen", False) else "source"
    started = f", started in {age:.1f} s" if age is not None else ""
    print(f"Dossier {__version__} self-test ({kind}: {sys.executable}{started})", file=out, flush=True)


def run_self_test(out: TextIO | None = None, keep: bool = False) -> int:
    """Run every step in a temporary data folder; 0 when all pass, 1 (with the reason) otherwise."""
    from app import netguard

    out = out or sys.stdout
    _header(out)
    root = Path(tempfile.mkdtemp(prefix="dossier-selftest-"))
    t = SelfTest(root=root, out=out)
    t0 = time.perf_counter()
    failed = True
    with netguard.session():
        netguard.reset_attempts()
        try:
            for name, fn in STEPS:
                t.step(name, fn)
            failed = False
        except SelfTestError as err:
            print(f"self-test FAILED at {err}", file=out, flush=True)
            print("This installation is incomplete or damaged: reinstall Dossier. If it keeps failing, "
                  "send this output and the logs in the folder below to your administrator.", file=out)
        finally:
            if t.service is not None:
                t.service.close()
    if failed or keep:
        print(f"data folder kept for inspection: {root}", file=out)
    else:
        shutil.rmtree(root, ignore_errors=True)
    if not failed:
        print(f"self-test passed: {len(STEPS)} steps in {time.perf_counter() - t0:.1f} s", file=out, flush=True)
    return 1 if failed else 0
