"""Zero outbound network attempts in a whole real session: ingest, ask, summarize, review.

The session (``tests/offline_workflow.py``) runs in a child process with the guard in strict
mode and uses every real part: PDF parse worker processes, the MiniLM embedder, Chroma on
disk, the bundled GGUF model in its own process. Three independent counts must be zero:

1. attempts the guard saw in the main process (refused or allowed);
2. attempts the guard saw in the child processes (appended to ``$DOSSIER_NETWORK_RECORD``);
3. where ``strace`` is installed: ``connect``/``sendto``/``sendmsg`` system calls to any
   non-loopback IPv4/IPv6 address by any process of the tree, which also covers native
   code that bypasses Python's socket module. Where it is not installed the first two
   counts still run (the test says which in its output).

It also checks that the session really did the work (so "zero" is not the count of a run
that did nothing) and that the audit trail recorded it with the model file's hash.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
_INET = re.compile(r'sa_family=AF_INET6?, sin6?_port=htons\((\d+)\), (?:sin_addr=inet_addr\("([^"]+)"\)|'
                   r'sin6_flowinfo=[^,]+, inet_pton\(AF_INET6, "([^"]+)"\))')


def outbound_syscalls(trace: str) -> list[str]:
    """Lines of an strace log that reach an IPv4/IPv6 address other than loopback."""
    bad = []
    for line in trace.splitlines():
        if "AF_INET" not in line:
            continue
        m = _INET.search(line)
        addr = (m.group(2) or m.group(3)) if m else "?"
        if not (addr.startswith("127.") or addr in ("::1", "::ffff:127.0.0.1")):
            bad.append(line)
    return bad


def test_outbound_syscalls_parser_flags_public_and_ignores_loopback() -> None:
    trace = ('1 connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("203.0.113.1")}, 16) = -1\n'
             '1 connect(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}, 16) = 0\n'
             '1 connect(4, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1\n'
             '2 connect(5, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), '
             'inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), sin6_scope_id=0}, 28) = -1\n')
    bad = outbound_syscalls(trace)
    assert len(bad) == 2 and "203.0.113.1" in bad[0] and "2001:db8::1" in bad[1]


def _strace_works(tmp: Path) -> bool:
    if shutil.which("strace") is None:
        return False
    probe = subprocess.run(["strace", "-f", "--seccomp-bpf", "-qq", "-e", "trace=connect", "-o", str(tmp / "p.txt"),
                            sys.executable, "-c", "pass"], capture_output=True, timeout=60)
    return probe.returncode == 0


def test_whole_session_makes_zero_outbound_attempts(tmp_path: Path) -> None:
    record, result, trace = tmp_path / "net.jsonl", tmp_path / "result.json", tmp_path / "trace.txt"
    # no Dossier settings and no offline flags from the test runner: the app must set them itself
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOSSIER_", "HF_", "TRANSFORMERS_"))}
    env.update({"DOSSIER_NETWORK_RECORD": str(record), "PYTHONPATH": str(ROOT)})
    cmd = [sys.executable, str(ROOT / "tests" / "offline_workflow.py"), str(tmp_path / "data"), str(result)]
    traced = _strace_works(tmp_path)
    if traced:
        cmd = ["strace", "-f", "--seccomp-bpf", "-qq", "-e", "trace=connect,sendto,sendmsg,sendmmsg,execve",
               "-e", "signal=none", "-o", str(trace), *cmd]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(result.read_text())

    # the session really worked, with the real parts
    assert out["added"] == 2 and not out["failed"]
    assert out["embedder"].startswith("all-MiniLM-L6-v2")
    assert out["answer_evidence_pages"] and out["answer_text"].strip()
    assert out["summary_bullets"] >= 1 and out["review_findings"] >= 1 and out["store_ok"]
    assert out["guard_mode_in_session"] == "strict" and out["model_process_guard"] == "strict"
    assert out["audit"]["ok"] and out["audit"]["events"] == [
        "question", "answer", "summary_request", "summary", "review_request", "review"]
    from app.llm.bundled import bundled_model_path

    model_sha = hashlib.sha256(bundled_model_path().read_bytes()).hexdigest()
    assert out["audit"]["model_sha256"][:4] == [model_sha] * 4

    # zero outbound attempts: main process, child processes, and (where possible) the kernel's view
    assert out["attempts"] == []
    assert not record.exists() or record.read_text() == ""
    if traced:
        text = trace.read_text()
        pythons = {line.split()[0] for line in text.splitlines() if "execve(" in line and "python" in line}
        assert len(pythons) >= 3, "the trace must cover the parse worker and model processes too"
        assert outbound_syscalls(text) == []
    print(f"outbound attempts: 0 (guard, main process), 0 (guard, child processes)"
          + (f", 0 (strace over {len(pythons)} processes)" if traced else "; strace not available"))


def _ort_store(home: Path) -> list[Path]:
    """ONNX Runtime's telemetry files (device id, event store) under ``home``."""
    return [p for p in home.rglob("*") if p.is_file() and ".onnxruntime" in p.as_posix()]


def test_ocr_leaves_no_onnxruntime_telemetry(tmp_path: Path) -> None:
    """OCR (ONNX Runtime) through the real CLI ingest of a scanned PDF: no telemetry device id
    or event store. A control run of plain RapidOCR in a fresh home shows the check can fail:
    this onnxruntime build does write them when nobody turns its telemetry off."""
    from app.samples.pdf_writer import write_mixed_pdf
    from ocr_helpers import clean_scan

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOSSIER_", "HF_", "TRANSFORMERS_", "ORT_"))}
    control_home = tmp_path / "control-home"
    control_home.mkdir()
    control = ("import numpy as np; from rapidocr_onnxruntime import RapidOCR; "
               "RapidOCR()(np.full((64, 256, 3), 255, np.uint8))")
    subprocess.run([sys.executable, "-c", control], env={**env, "HOME": str(control_home),
                   "XDG_CACHE_HOME": str(control_home / ".cache")}, check=True, capture_output=True, timeout=300)
    if not _ort_store(control_home):
        pytest.skip("this onnxruntime build writes no telemetry files, so there is nothing to check")

    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    pdf = write_mixed_pdf(tmp_path / "scanned.pdf", [clean_scan().image], title="Scanned letter")
    proc = subprocess.run([sys.executable, "-m", "app.cli.main", "--data-dir", str(data), "ingest", "--json", str(pdf)],
                          env={**env, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"),
                               "DOSSIER_EMBEDDER": "fake", "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [added] = json.loads(proc.stdout)["added"]
    assert added["ocr_pages"] == [0], added  # the page really went through ONNX Runtime
    assert _ort_store(home) == []
