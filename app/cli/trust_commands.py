"""``dossier doctor [--check [--repair]]`` and ``dossier audit verify|export``.

Exit codes: 0 all is well; 1 the doctor found a problem, the store check found damage it
did not (or could not) repair, or the audit trail failed verification.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cli.main import EXIT_ERROR, EXIT_OK, print_json

COMMANDS = ("doctor", "audit")


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("doctor", help="network guard, versions, model hash, data folder; --check the index")
    s.add_argument("--check", action="store_true", help="check that every document has its vectors and "
                                                         "lexical-index rows (and nothing is orphaned)")
    s.add_argument("--repair", action="store_true", help="check and repair what can be repaired (implies --check)")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("audit", help="verify or export the audit trail of questions, answers, summaries, reviews")
    a = s.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    v = a.add_parser("verify", help="check the hash chain; non-zero exit naming the first bad entry")
    v.add_argument("--anchor", help="an entry hash (or its first 12+ characters) written down earlier: it must "
                                    "still be in the chain")
    v.add_argument("--json", action="store_true")
    e = a.add_parser("export", help="write a report of the audit trail")
    e.add_argument("--format", choices=["md", "json", "csv"], default="md")
    e.add_argument("--out", required=True, help="output file")


# -- doctor ------------------------------------------------------------------------------

def cmd_doctor(service: Any, args: argparse.Namespace) -> int:
    from app.doctor import diagnose

    report = diagnose(service)
    store = None
    if args.check or args.repair:
        from app.cli.progress import ProgressBar

        bar = ProgressBar()
        try:
            store = service.check_store(repair=args.repair, on_progress=bar)
        finally:
            bar.close()
        report["store_check"] = store.to_dict()
    failed = bool(report["problems"]) or (store is not None and not store.ok)
    if args.json:
        print_json(report)
    else:
        _print_doctor(report)
        if store is not None:
            _print_store(store, args.repair)
    return EXIT_ERROR if failed else EXIT_OK


def _print_doctor(r: dict[str, Any]) -> None:
    v, g, m, d = r["versions"], r["network_guard"], r["model"], r["data"]
    print(f"Dossier {v['dossier']} — Python {v['python']} ({v['platform']})")
    servers = ", ".join(g["allowed_servers"]) or "none"
    print(f"{'Network guard':16}{g['mode']}{' (installed)' if g['installed'] else ''}; allowed servers: {servers}; "
          f"outbound attempts this run: {g['outbound_attempts']} ({g['refused']} refused)")
    print(f"{'Offline flags':16}" + " ".join(f"{k}={val or '(unset)'}" for k, val in g["offline_env"].items()))
    if m.get("kind") == "remote":
        print(f"{'Model':16}server {m['url']} ({m['model']})")
    elif m.get("error"):
        print(f"{'Model':16}{m['path']}: {m['error']}")
    else:
        print(f"{'Model':16}{m['name']} ({m['quantization'] or '?'}, {m['parameters'] / 1e6:.0f} M parameters)"
              f"{' — bundled' if m.get('bundled') else ''}")
        print(f"{'':16}{m['path']} ({m['bytes'] / 2**20:.0f} MB)")
        print(f"{'':16}sha256 {m['sha256']}")
    e = r["embedder"]
    print(f"{'Embedder':16}{e.get('identity') or e.get('error')}" + (f" ({e['folder']})" if e.get("folder") else ""))
    print(f"{'Data folder':16}{d['data_dir']} ({'writable' if d['writable'] else 'NOT writable'}"
          f"{', read-only: another Dossier is using it' if d['read_only'] else ''}; {d['free_bytes'] / 2**30:.1f} GB free)"
          f" — workspace {d['workspace']}: {d['documents']} documents, {d['indexed']} indexed ({d['index_mode']} index)")
    s = r["secure_store"]
    print(f"{'Secure store':16}" + (f"available ({s['backend']})" if s["available"] else f"not available: {s['detail']}"))
    a = r["audit"]
    print(f"{'Audit trail':16}{a['entries']} entries, {'intact' if a['intact'] else 'FAILED: ' + a['first_problem']}; "
          f"head {a['head_hash'][:16]}")
    libs = ", ".join(f"{k} {val}" for k, val in v["libraries"].items() if val)
    print(f"{'Libraries':16}{libs}")
    missing = [k for k, val in v["libraries"].items() if not val]
    if missing:
        print(f"{'Not installed':16}{', '.join(missing)}")
    for p in r["problems"]:
        print(f"PROBLEM: {p}")
    for w in r["warnings"]:
        print(f"warning: {w}")


def _print_store(store: Any, repaired: bool) -> None:
    print(f"\nStore check — workspace {store.workspace} (collection {store.collection})")
    for d in store.documents:
        problems = d.problems()
        state = "failed" if d.marked_failed else ("repaired" if d.repaired else "DAMAGED") if problems else "ok"
        note = "  (indexed with other index settings: add the file again to re-index)" if d.other_settings else ""
        print(f"  {state:9} {d.doc_id[:12]}  {d.title}{note}")
        for p in problems:
            print(f"              - {p}")
        for a in d.repaired:
            print(f"              repaired: {a}")
        if d.marked_failed:
            print(f"              {d.marked_failed}")
    store_level = [p for p in store.problems() if not any(p.startswith(f"{d.title} (") for d in store.documents)]
    for p in store_level:
        print(f"  store: {p}")
    for a in store.actions:
        print(f"  done: {a}")
    if store.ok:
        print("Result: the index is consistent." if not repaired or not store.actions else
              "Result: repaired; the index is consistent now.")
    else:
        left = store.remaining if store.remaining is not None else store.problems()
        hint = "" if repaired else " Run 'dossier doctor --repair' to fix what can be fixed."
        print(f"Result: {len(left)} problem(s) remain.{hint}")


def reopen_repaired(args: argparse.Namespace, err: Exception, opener: Any) -> Any:
    """``doctor --repair`` when the catalog cannot even be opened because its FTS index is too
    damaged to load (SQLite: "vtable constructor failed: chunks_fts"): rebuild that index from
    the stored chunks, then open the data folder; None when this is not that case or it fails."""
    if args.command != "doctor" or not args.repair or "chunks_fts" not in str(err):
        return None
    from app.paths import resolve_data_dir
    from app.store.integrity import rebuild_fts

    catalog = resolve_data_dir(args.data_dir) / "catalog.sqlite"
    try:
        rebuild_fts(catalog)
        service = opener(args)
    except Exception:  # noqa: BLE001 - the caller reports the original error
        return None
    print(f"repaired: the lexical index in {catalog} could not be opened; it was rebuilt from the stored chunks")
    return service


# -- audit -------------------------------------------------------------------------------

def cmd_audit(service: Any, args: argparse.Namespace) -> int:
    log = service.audit.log
    if args.audit_command == "export":
        from app.audit.export import export

        check = export(log, args.out, args.format)
        print(f"wrote {args.out} ({check.entries} entries)")
        if not check.ok:
            print(f"error: the audit trail failed verification: {check.first_problem()}", file=sys.stderr)
            return EXIT_ERROR
        return EXIT_OK
    check = log.verify(anchor=args.anchor)
    if args.json:
        print_json(check.to_dict())
    elif check.ok:
        print(f"The audit trail is intact: {check.entries} entries, {log.path}")
        print(f"head #{check.head_seq} {check.head_hash}")
        for n in check.notices:
            print(f"note: {n}")
    else:
        print(f"error: the audit trail at {log.path} failed verification: {check.first_problem()}", file=sys.stderr)
        for p in check.problems[1:]:
            print(f"  also: {p.message}", file=sys.stderr)
    return EXIT_OK if check.ok else EXIT_ERROR
