"""The ``dossier`` subcommands: each takes the Service and the parsed arguments, returns an exit code."""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import Any

from app.cli.main import EXIT_CANCELLED, EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, print_json
from app.cli.progress import ProgressBar
from app.types import CancelToken, SearchHit


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


def cmd_ingest(service: Any, args: argparse.Namespace) -> int:
    bar = ProgressBar()
    cancel = CancelToken()
    try:
        summary = service.ingest(args.paths, password=args.password, on_progress=bar, cancel=cancel)
    except KeyboardInterrupt:
        cancel.cancel()
        raise
    finally:
        bar.close()
    if args.json:
        print_json(summary.to_dict())
    else:
        for d in summary.added:
            note = f"; {len(d.textless_pages)} page(s) without text (OCR not run)" if d.textless_pages else ""
            print(f"added      {d.id[:12]}  {d.page_count:4d} pages  {d.chunk_count:5d} chunks  {d.title}{note}")
        for d in summary.unchanged:
            print(f"unchanged  {d.id[:12]}  {d.title}")
        for f in summary.failed:
            _err(f"failed     {f.path}: {f.message}")
        print(f"{len(summary.added)} added, {len(summary.unchanged)} unchanged, {len(summary.failed)} failed" + (" (cancelled)" if summary.cancelled else ""))
    if summary.cancelled:
        return EXIT_CANCELLED
    if summary.failed:
        return EXIT_PARTIAL if (summary.added or summary.unchanged) else EXIT_ERROR
    return EXIT_OK


def cmd_list(service: Any, args: argparse.Namespace) -> int:
    docs = service.documents()
    if args.json:
        print_json([d.to_dict() for d in docs])
        return EXIT_OK
    if not docs:
        print("No documents yet. Add some with: dossier ingest PATH…")
        return EXIT_OK
    for d in docs:
        status = d.status if d.status == "indexed" else f"{d.status}: {d.error}"
        print(f"{d.id[:12]}  {d.page_count:4d}p  {d.doc_type:16}  {d.title[:60]:60}  {status}")
    return EXIT_OK


def cmd_search(service: Any, args: argparse.Namespace) -> int:
    hits = service.search(args.query, doc_ids=args.doc, k=args.k, section=args.section)
    if args.json:
        print_json([hit_json(h) for h in hits])
        return EXIT_OK
    if not hits:
        print("No matches.")
    for i, h in enumerate(hits, 1):
        print(f"[{i}] {h.doc_title} — {page_label(h.page_start, h.page_end)}  (score {h.score:.3f})")
        if h.section:
            print(f"    § {h.section}")
        print(textwrap.indent(textwrap.fill(h.text[:600] + ("…" if len(h.text) > 600 else ""), 100), "    "))
    return EXIT_OK


def hit_json(h: SearchHit) -> dict[str, Any]:
    """Stable field names for scripts."""
    return {
        "document_id": h.doc_id,
        "document_title": h.doc_title,
        "page_span": [h.page_start, h.page_end],
        "char_span": [h.char_start, h.char_end],
        "section": h.section,
        "score": round(h.score, 6),
        "text": h.text,
        "chunk_id": h.chunk_id,
    }


def page_label(start: int, end: int) -> str:
    """Pages are stored 0-based; people read them 1-based."""
    return f"p. {start + 1}" if start == end else f"pp. {start + 1}–{end + 1}"


def cmd_remove(service: Any, args: argparse.Namespace) -> int:
    service.remove(args.doc_id)
    print(f"removed {args.doc_id}")
    return EXIT_OK


def cmd_info(service: Any, args: argparse.Namespace) -> int:
    info = service.info()
    if args.json:
        print_json(info)
    else:
        for k, v in info.items():
            print(f"{k:16} {v}")
    return EXIT_OK


def _unavailable(what: str) -> int:
    _err(f"error: {what} is not available in this build.")
    return EXIT_ERROR
