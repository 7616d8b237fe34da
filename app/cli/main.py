"""``dossier`` command line. With no subcommand it starts the desktop app.

Exit codes: 0 ok, 1 a command failed (message on stderr), 2 bad usage, 3 some files
failed to ingest (the others were indexed), 130 cancelled with Ctrl+C.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any, Sequence

from app.errors import DossierError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_PARTIAL, EXIT_CANCELLED = 0, 1, 2, 3, 130


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dossier", description="Dossier: local document analyst. With no command, opens the app.")
    p.add_argument("--data-dir", help="data folder (default: $DOSSIER_DATA_DIR or the platform's user data folder)")
    p.add_argument("--workspace", help="workspace (collection) to use; default from settings ('default')")
    p.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    p.add_argument("--self-test", action="store_true",
                   help="check this installation end to end in a temporary folder (ingest, ask, review) and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    g = sub.add_parser("gui", help="open the desktop app (the default)")
    g.add_argument("--no-sample", action="store_true", help="do not add the sample document on first run")

    s = sub.add_parser("ingest", help="add PDF files or folders (recursive) to the index")
    s.add_argument("paths", nargs="+")
    s.add_argument("--password", help="password for encrypted PDFs (never stored)")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("list", help="list documents")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("search", help="hybrid search with page citations")
    s.add_argument("query")
    s.add_argument("--doc", action="append", help="limit to a document id (repeatable; a unique prefix is enough)")
    s.add_argument("-k", type=int, default=5, help="number of hits (default 5)")
    s.add_argument("--section", help="limit to sections whose path contains this text")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("remove", help="remove a document from the index")
    s.add_argument("doc_id")

    s = sub.add_parser("info", help="data folder, models, index settings")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("ask", help="ask a question; the answer cites pages")
    s.add_argument("question")
    s.add_argument("--doc", action="append", help="limit to a document id (repeatable)")
    s.add_argument("--json", action="store_true", help="print the whole result as JSON")

    s = sub.add_parser("summarize", help="structured summary of a document with page citations")
    s.add_argument("doc_id")
    s.add_argument("--format", choices=["md", "json"], default="md")
    s.add_argument("--force", action="store_true", help="ignore the cached summary")

    s = sub.add_parser("risks", help="risk review of a document, or a register of all")
    s.add_argument("doc_id", nargs="?")
    s.add_argument("--all", action="store_true", help="all indexed documents (a register)")
    s.add_argument("--format", choices=["table", "json", "csv", "md", "xlsx"], default="table")
    s.add_argument("--out", help="output file (required for xlsx)")
    s.add_argument("--force", action="store_true", help="ignore cached reviews")

    s = sub.add_parser("models", help="show the model in use, or inspect a GGUF file")
    s.add_argument("path", nargs="?", help="a .gguf file to inspect")
    s.add_argument("--json", action="store_true")

    from app.cli import jobs_commands, team, trust_commands

    team.add_parsers(sub)
    trust_commands.add_parsers(sub)
    jobs_commands.add_parsers(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    import multiprocessing

    multiprocessing.freeze_support()  # frozen bundle: a spawned child (parser, model) runs its target here and exits
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from app import netguard

    with netguard.session():  # offline flags and the network guard (DOSSIER_NETWORK_GUARD) for the whole command
        if getattr(args, "url", ""):  # a server address typed on the command line (team-login) is the user's choice
            netguard.allow_urls([args.url], key="command-line")
        return _dispatch(args)


def _dispatch(args: argparse.Namespace) -> int:
    if args.self_test:
        from app.selftest import run_self_test

        return run_self_test()
    if args.command in (None, "gui"):
        return _run_gui(args)
    from app.cli import team

    if args.command in team.COMMANDS:  # no Service: the server has no data folder of its own
        return team.run(args)
    from app.cli import commands, jobs_commands, trust_commands

    module = next((m for m in (trust_commands, jobs_commands) if args.command in m.COMMANDS), commands)
    handler = getattr(module, f"cmd_{args.command}")
    try:
        service = _open_service(args)
    except DossierError as err:
        service = trust_commands.reopen_repaired(args, err, _open_service)  # doctor --repair: an unopenable FTS
        if service is None:
            print(f"error: {err}", file=sys.stderr)
            return EXIT_ERROR
    try:
        return int(handler(service, args))
    except KeyboardInterrupt:
        print("\ncancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except DossierError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        jobs_commands.notice(service, args)  # "an earlier ingest of 4 files was interrupted; run 'dossier resume 3'"
        service.close()


def _open_service(args: argparse.Namespace) -> Any:
    from app.paths import resolve_data_dir
    from app.service import Service
    from app.settings import Settings

    data_dir = resolve_data_dir(args.data_dir)
    settings = Settings.load(data_dir)
    if args.workspace:
        settings.workspace = args.workspace
    return Service(data_dir, settings)


def _run_gui(args: argparse.Namespace) -> int:
    try:
        from app.gui.main import run_gui
    except ImportError as err:
        print(f"The desktop app is not available ({err}). Use a subcommand; see 'dossier --help'.", file=sys.stderr)
        return EXIT_ERROR
    return run_gui(args.data_dir, sample=not getattr(args, "no_sample", False))


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
