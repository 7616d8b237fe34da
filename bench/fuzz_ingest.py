"""Long fuzz run over ingestion: mutated PDFs -> ``Service.ingest``, counting what survives.

    .venv/bin/python bench/fuzz_ingest.py --iterations 2000 --out /tmp/fuzz.json [--seed 1] [--minutes 30]

What it does: builds valid PDFs (tests/hostile_corpus.py ``seed_pdfs``: text pages, a
compressed image page, broken fonts, JavaScript/embedded file), then for each iteration
applies a random mutation recipe (1-6 of: byte flip, truncation, insertion, deletion,
duplicated run, number swapped for an extreme, PDF token spliced in, name swapped) and
ingests the result through one real :class:`app.service.Service` (parse child with its
memory and time limits, chunking, SQLite catalog + FTS, Chroma on disk; fake embedder
unless ``--embedder minilm``). Every 50 inputs and at the end it checks the store
(``Service.check_store``) and that the first ("anchor") document is unchanged.

The loop runs in a worker process watched by this supervisor: if the worker (the "parent"
of the parse children, i.e. the app) dies, that is a parent crash; it is recorded with the
input that caused it and the run goes on in a fresh worker on the same data folder.

Writes JSON: ``inputs_tried``, ``parent_crashes`` (must be 0; with the inputs), ``outcomes``
(ingested / unchanged / error kind -> count), ``child_failures_survived`` (inputs whose
parse child crashed, hit its memory limit or timed out; the app carried on), ``unexpected``
(exceptions other than a per-file error escaping ``ingest``: bugs, must be 0),
``store_checks`` (count and failures), ``anchor_intact``, ``seconds``, ``inputs_per_s``,
``examples`` (first message per outcome) and ``inputs`` (per input: seed PDF, recipe,
SHA-256, outcome; ``--no-inputs`` leaves them out).
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

CHECK_EVERY = 50
CHILD_FAILURES = ("reader crashed", "reader stopped", "memory limit", "timeout")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iterations", type=int, default=1000)
    ap.add_argument("--minutes", type=float, default=0, help="stop after this long even if iterations remain")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--workdir", help="keep inputs and data here (default: a temporary folder, removed)")
    ap.add_argument("--embedder", default="fake", help="fake (default) or minilm")
    ap.add_argument("--parse-timeout", type=float, default=30.0)
    ap.add_argument("--no-inputs", action="store_true", help="leave the per-input list out of the JSON")
    ap.add_argument("--no-ocr", action="store_true", help="do not OCR pages without text (faster)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return run_worker(args)
    with tempfile.TemporaryDirectory(prefix="dossier-fuzz-") as tmp:
        work = Path(args.workdir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        report = supervise(args, work)
    Path(args.out).write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k not in ("inputs", "examples")}, indent=1))
    return 0 if not report["parent_crashes"] and not report["unexpected"] and report["anchor_intact"] else 1


# -- supervisor --------------------------------------------------------------------------------

def supervise(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Run workers until every iteration is done (or time is up); a worker that dies is a
    parent crash, charged to the input it was working on."""
    log = work / "inputs.jsonl"
    log.write_text("")
    t0 = time.monotonic()
    deadline = t0 + args.minutes * 60 if args.minutes else float("inf")
    crashes: list[dict[str, Any]] = []
    start = 0
    while start < args.iterations and time.monotonic() < deadline:
        cmd = [sys.executable, __file__, "--worker", "--start", str(start), "--iterations", str(args.iterations),
               "--seed", str(args.seed), "--out", str(log), "--workdir", str(work), "--embedder", args.embedder,
               "--parse-timeout", str(args.parse_timeout), *(["--no-ocr"] if args.no_ocr else []), "--minutes", str(max(0.0, (deadline - time.monotonic()) / 60)
                                                                              if args.minutes else 0)]
        rc = subprocess.run(cmd, env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}).returncode
        done = _records(log)
        start = (max((r["i"] for r in done), default=-1) + 1) if done else start
        if rc == 0:
            break
        begun = work / "current.json"
        crash = json.loads(begun.read_text()) if begun.exists() else {"i": start}
        crash["returncode"] = rc
        crashes.append(crash)
        start = crash["i"] + 1
    return _report(_records(log), crashes, time.monotonic() - t0, args)


def _records(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.exists() else []


def _report(records: list[dict[str, Any]], crashes: list[dict[str, Any]], seconds: float,
            args: argparse.Namespace) -> dict[str, Any]:
    inputs = [r for r in records if r.get("kind") == "input"]
    checks = [r for r in records if r.get("kind") == "check"]
    outcomes = collections.Counter(r["outcome"] for r in inputs)
    examples: dict[str, str] = {}
    for r in inputs:
        examples.setdefault(r["outcome"], r.get("message", ""))
    return {
        "inputs_tried": len(inputs) + len(crashes),
        "parent_crashes": crashes,
        "outcomes": dict(outcomes.most_common()),
        "child_failures_survived": sum(n for k, n in outcomes.items() if k.removeprefix("error: ") in CHILD_FAILURES),
        "unexpected": [r for r in inputs if r["outcome"].startswith("unexpected")],
        "store_checks": {"count": len(checks), "failed": [c for c in checks if not c["ok"]]},
        "anchor_intact": bool(checks) and all(c["anchor_intact"] for c in checks),
        "seconds": round(seconds, 1),
        "inputs_per_s": round(len(inputs) / seconds, 2) if seconds else 0.0,
        "seed": args.seed, "embedder": args.embedder, "ocr": not args.no_ocr, "parse_timeout_s": args.parse_timeout,
        "examples": examples,
        **({} if args.no_inputs else {"inputs": inputs}),
    }


# -- worker ------------------------------------------------------------------------------------

def run_worker(args: argparse.Namespace) -> int:
    import hostile_corpus as hc

    from app.ingest import parse_worker
    from app.service import Service
    from app.settings import Settings

    work, log = Path(args.workdir), Path(args.out)
    real_parse = parse_worker.parse_in_subprocess
    parse_worker.parse_in_subprocess = lambda *a, **kw: real_parse(*a, **{**kw, "timeout_s": args.parse_timeout})
    seeds = hc.seed_pdfs(work / "seeds")
    names = sorted(seeds)
    settings = Settings(embedder=args.embedder, ocr=not args.no_ocr)
    deadline = time.monotonic() + args.minutes * 60 if args.minutes else float("inf")
    inbox = work / "inbox"
    inbox.mkdir(exist_ok=True)
    with Service(work / "data", settings) as svc, open(log, "a", encoding="utf-8") as out:
        anchor = _anchor(svc, work, hc)
        for i in range(args.start, args.iterations):
            if time.monotonic() > deadline:
                break
            rng = random.Random(args.seed * 1_000_003 + i)
            seed, ops = rng.choice(names), hc.random_ops(rng)
            data = hc.mutate(seeds[seed], ops)
            digest = hashlib.sha256(data).hexdigest()
            (work / "current.json").write_text(json.dumps({"i": i, "seed_pdf": seed, "sha256": digest,
                                                           "ops": _ops_json(ops)}))
            rec = {"kind": "input", "i": i, "seed_pdf": seed, "ops": _ops_json(ops), "sha256": digest,
                   "size": len(data), **_ingest_one(svc, inbox, data, digest, hc)}
            out.write(json.dumps(rec) + "\n")
            if (i + 1) % CHECK_EVERY == 0 or i + 1 == args.iterations:
                out.write(json.dumps({"kind": "check", "i": i, **_check(svc, anchor)}) + "\n")
            out.flush()
    return 0


def _anchor(svc: Any, work: Path, hc: Any) -> tuple[str, Any]:
    """The first document; every check (also in a worker started after a crash) compares it
    with its state right after its ingest, kept in ``anchor.json``."""
    from app.samples.pdf_writer import write_text_pdf

    saved = work / "anchor.json"
    if saved.exists():
        doc_id, state = json.loads(saved.read_text())
        return doc_id, state
    summary = svc.ingest([write_text_pdf(work / "anchor.pdf", hc.good_pages("Anchor"), title="Anchor 10-K")])
    doc_id = summary.added[0].id
    saved.write_text(json.dumps([doc_id, _anchor_state(svc, doc_id)]))
    return doc_id, _anchor_state(svc, doc_id)


def _anchor_state(svc: Any, doc_id: str) -> Any:
    chunks = svc.library.catalog.chunks(svc.workspace, doc_id)
    return [svc.document(doc_id).chunk_count, [[c.id, c.text] for c in chunks],
            [h.chunk_id for h in svc.search("Anchor Holdings revenue", doc_ids=[doc_id], k=3)]]


def _ingest_one(svc: Any, inbox: Path, data: bytes, digest: str, hc: Any) -> dict[str, Any]:
    from app.errors import DossierError

    path = inbox / f"fuzz-{digest[:16]}.pdf"
    path.write_bytes(data)
    t = time.perf_counter()
    try:
        summary = svc.ingest([path])
    except DossierError as err:  # the whole call failed (e.g. the store): not a per-file error
        return {"outcome": "unexpected: " + type(err).__name__, "message": str(err)}
    except Exception as err:  # noqa: BLE001 - a bug: recorded, and the run goes on
        return {"outcome": "unexpected: " + type(err).__name__, "message": repr(err)}
    finally:
        path.unlink(missing_ok=True)
    seconds = round(time.perf_counter() - t, 3)
    if summary.failed:
        msg = summary.failed[0].message
        return {"outcome": "error: " + hc.failure_kind(msg), "message": msg, "seconds": seconds}
    if summary.added:
        d = summary.added[0]
        return {"outcome": "ingested", "pages": d.page_count, "chunks": d.chunk_count, "seconds": seconds}
    return {"outcome": "unchanged", "seconds": seconds}


def _check(svc: Any, anchor: tuple[str, Any]) -> dict[str, Any]:
    report = svc.check_store()
    return {"ok": report.ok, "problems": report.problems()[:5],
            "anchor_intact": _anchor_state(svc, anchor[0]) == anchor[1]}


def _ops_json(ops: list[tuple[str, int, bytes]]) -> list[list[Any]]:
    return [[op, pos, payload.hex()] for op, pos, payload in ops]


if __name__ == "__main__":
    sys.exit(main())
