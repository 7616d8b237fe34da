"""Team commands: ``serve-index`` (the shared index server), ``index-token``, ``team-login``.

They open no Service: the server runs without a data folder of its own, and ``team-login``
only stores a token in the keyring and an address in settings.json.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

COMMANDS = ("serve-index", "index-token", "team-login")


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("serve-index", help="run the team index server (Chroma behind a token check)")
    s.add_argument("--path", required=True, help="server folder: Chroma database and PDFs (back it up)")
    s.add_argument("--host", default="127.0.0.1", help="interface to listen on (0.0.0.0 = all; default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    s.add_argument("--token-file", help="file of accepted tokens, one per line (plain or 'sha256:<hex>'); "
                                        "re-read when it changes. $DOSSIER_INDEX_TOKEN is accepted too")

    sub.add_parser("index-token", help="print a new random token and the line for the server's token file")

    s = sub.add_parser("team-login", help="use a team index server: store its token in the OS keyring")
    s.add_argument("url", help="server address, e.g. http://index-host:8765 ('' = back to the local index)")
    s.add_argument("--token-stdin", action="store_true", help="read the token from standard input (no prompt)")


def run(args: argparse.Namespace) -> int:
    return int({"serve-index": _serve, "index-token": _token, "team-login": _login}[args.command](args))


def _serve(args: argparse.Namespace) -> int:
    from app.server.serve import run as serve
    from app.server.tokens import ENV_TOKEN, TokenSet

    try:
        tokens = TokenSet(args.token_file, os.environ.get(ENV_TOKEN))
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        return serve(args.path, args.host, args.port, tokens, print_fn=lambda m: print(m, flush=True))
    except (RuntimeError, OSError) as err:
        print(f"error: the index server could not start: {err}", file=sys.stderr)
        return 1


def _token(args: argparse.Namespace) -> int:
    from app.server.tokens import hash_line, new_token

    token = new_token()
    print(f"token (give it to the user; they enter it in Settings → Team): {token}")
    print(f"line for the server's token file: {hash_line(token)}")
    return 0


def _login(args: argparse.Namespace) -> int:
    from app.errors import DossierError
    from app.paths import resolve_data_dir
    from app.secrets import set_secret
    from app.settings import Settings
    from app.store.remote_index import IndexServerClient, index_secret_name, normalize_url

    data_dir = resolve_data_dir(args.data_dir)
    settings = Settings.load(data_dir)
    url = normalize_url(args.url)
    try:
        if url:
            token = sys.stdin.readline().strip() if args.token_stdin else getpass.getpass("Index server token: ")
            client = IndexServerClient(url, token=token)
            try:
                client.check()  # a refused token is not stored
            finally:
                client.close()
            set_secret(index_secret_name(url), token)
    except DossierError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    settings.index_server_url = url
    settings.save(data_dir)
    print(f"Using the team index at {url}." if url else "Using the index on this computer.")
    return 0
