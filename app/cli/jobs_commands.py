"""``dossier jobs | resume | dismiss``: jobs that a crash or a kill cut short (app/jobs_journal.py),
and the note other commands print when there are some.

Exit codes: 0 ok; 1 no such interrupted job, or the resumed job failed; 3 a resumed ingest
left some files failed; 130 cancelled.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cli.main import EXIT_CANCELLED, EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, print_json

COMMANDS = ("jobs", "resume", "dismiss")
#: Commands after which a pending interrupted job is mentioned (on stderr).
NOTICE_AFTER = ("ingest", "list", "info", "search", "ask", "summarize", "risks")


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("jobs", help="jobs that were interrupted (app killed or crashed) and can be resumed")
    s.add_argument("--all", action="store_true", help="also the recent finished jobs")
    s.add_argument("--json", action="store_true")
    s = sub.add_parser("resume", help="finish an interrupted job (all of them without an id)")
    s.add_argument("job_id", nargs="?", type=int)
    s.add_argument("--password", help="password for encrypted PDFs of an interrupted ingest (never stored)")
    s = sub.add_parser("dismiss", help="forget an interrupted job without running it")
    s.add_argument("job_id", nargs="?", type=int)
    s.add_argument("--all", action="store_true", help="all interrupted jobs")


def notice(service: Any, args: argparse.Namespace) -> None:
    """After a command: say which earlier jobs were interrupted and how to finish them."""
    if args.command not in NOTICE_AFTER:
        return
    try:
        jobs = service.interrupted_jobs()
    except Exception:  # noqa: BLE001 - a note must never turn a command into a failure
        return
    if len(jobs) == 1:
        j = jobs[0]
        _err(f"note: an earlier {j.describe()} was interrupted (started {_when(j.started_at)}). "
             f"Run 'dossier resume {j.id}' to finish it, or 'dossier dismiss {j.id}'.")
    elif jobs:
        _err(f"note: {len(jobs)} earlier jobs were interrupted: " + "; ".join(f"[{j.id}] {j.describe()}" for j in jobs[:3])
             + ("; …" if len(jobs) > 3 else "") + ". Run 'dossier resume' to finish them, 'dossier jobs' to see them.")


def cmd_jobs(service: Any, args: argparse.Namespace) -> int:
    pending = service.interrupted_jobs()
    shown = service.jobs.jobs(limit=30) if args.all else pending
    if args.json:
        print_json([j.to_dict() for j in shown])
        return EXIT_OK
    if not shown:
        print("No interrupted jobs.")
    for j in shown:
        print(f"[{j.id:>3}] {j.state:11} {_when(j.started_at)}  {j.describe()}" + (f"  ({j.message})" if j.message else ""))
    if pending:
        print(f"\nRun 'dossier resume ID' to finish one (or 'dossier resume' for all), 'dossier dismiss ID' to forget it.")
    return EXIT_OK


def cmd_dismiss(service: Any, args: argparse.Namespace) -> int:
    ids = [j.id for j in service.interrupted_jobs()] if args.all else [args.job_id] if args.job_id else []
    if not ids:
        _err("error: give the id of an interrupted job (see 'dossier jobs') or --all.")
        return EXIT_ERROR
    for job_id in ids:
        service.dismiss(job_id)
        print(f"dismissed job {job_id}")
    return EXIT_OK


def cmd_resume(service: Any, args: argparse.Namespace) -> int:
    ids = [args.job_id] if args.job_id else [j.id for j in service.interrupted_jobs()]
    if not ids:
        print("No interrupted jobs.")
        return EXIT_OK
    code = EXIT_OK
    for job_id in ids:
        code = max(code, _resume_one(service, job_id, args.password))
    return code


def _resume_one(service: Any, job_id: int, password: str | None) -> int:
    from app.cli import commands
    from app.cli.progress import ProgressBar
    from app.types import CancelToken

    job = service.jobs.interrupted_job(job_id)
    print(f"resuming [{job.id}] {job.describe()}")
    if job.kind == "ingest" and job.args.get("password") and not password:
        _err("note: that ingest was given a password, which is never stored; files that need it will ask again "
             "(add --password).")
    bar, cancel = ProgressBar(), CancelToken()
    stream = (lambda piece: (sys.stdout.write(piece), sys.stdout.flush())) if job.kind == "ask" else None
    try:
        _, result = service.resume(job_id, password=password, on_progress=bar, cancel=cancel, on_token=stream)
    except KeyboardInterrupt:
        cancel.cancel()
        raise
    finally:
        bar.close()
    return _print_result(service, job, result, commands)


def _print_result(service: Any, job: Any, result: Any, commands: Any) -> int:
    if job.kind == "ingest":
        for d in result.added:
            print(f"added      {d.id[:12]}  {d.page_count:4d} pages  {d.chunk_count:5d} chunks  {d.title}")
        for f in result.failed:
            _err(f"failed     {f.path}: {f.message}")
        print(f"{len(result.added)} added, {len(result.unchanged)} already indexed, {len(result.failed)} failed"
              + (" (cancelled)" if result.cancelled else ""))
        return EXIT_CANCELLED if result.cancelled else EXIT_PARTIAL if result.failed else EXIT_OK
    if job.kind == "ask":
        print(("\n" + result.text) if result.abstained else "")
        commands._print_support(result)
        commands._print_evidence(result)
        return EXIT_CANCELLED if result.cancelled else EXIT_OK
    if job.kind == "summarize":
        print(result.to_markdown(), end="")
        return EXIT_OK
    sys.stdout.write(commands._risk_table(result, service.document(job.args["doc_id"]).title))
    return EXIT_OK


def _when(iso: str) -> str:
    return iso.replace("T", " ")[:16] + " UTC" if iso else "?"


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)
