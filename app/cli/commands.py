"""The ``dossier`` subcommands: each takes the Service and the parsed arguments, returns an exit code."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
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
            print(f"added      {d.id[:12]}  {d.page_count:4d} pages  {d.chunk_count:5d} chunks  {d.title}"
                  f"{_page_notes(d, getattr(service.settings, 'ocr', True))}")
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


def _page_notes(d: Any, ocr_on: bool) -> str:
    """What the summary line adds about scanned pages, e.g. '; OCR: pages 3, 4' (1-based)."""
    note = ""
    if getattr(d, "ocr_pages", None):
        note += f"; OCR: page{'s' if len(d.ocr_pages) > 1 else ''} {', '.join(str(p + 1) for p in d.ocr_pages[:20])}"
    if d.textless_pages:
        note += f"; {len(d.textless_pages)} page(s) without text ({'OCR found none' if ocr_on else 'OCR not run'})"
    return note


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


def cmd_ask(service: Any, args: argparse.Namespace) -> int:
    """Stream the answer to stdout (unless --json), then its sources and support status."""
    cancel = CancelToken()
    stream = None if args.json else (lambda piece: (sys.stdout.write(piece), sys.stdout.flush()))
    try:
        answer = service.ask(args.question, doc_ids=args.doc, on_token=stream, cancel=cancel)
    except KeyboardInterrupt:
        cancel.cancel()
        raise
    if args.json:
        print_json(answer.to_dict())
        return EXIT_OK
    if answer.abstained:  # the streamed text (if any) was replaced by the abstention
        print(("\n" if answer.stats.get("answer_tokens") else "") + answer.text)
    else:
        print()
    _print_support(answer)
    _print_evidence(answer)
    return EXIT_CANCELLED if answer.cancelled else EXIT_OK


def _print_support(answer: Any) -> None:
    if answer.sentences:
        print("\nSupport:")
        for s in answer.sentences:
            mark = "supported  " if s.supported else "UNSUPPORTED"
            why = f"  ({'; '.join(s.reasons)})" if s.reasons and not s.supported else ""
            print(textwrap.shorten(f"  {mark} {s.text}", 160) + why)
    if answer.citations:
        print("\nSources:")
        for c in answer.citations:
            quote = textwrap.shorten(c.quote, 140) if c.quote else ""
            print(f"  [{c.number}] {c.doc_title} — p. {c.page + 1}" + (f": \u201c{quote}\u201d" if quote else ""))
    for note in answer.notes:
        print(f"note: {note}")


def _print_evidence(answer: Any) -> None:
    if not answer.evidence:
        return
    print("\nEvidence:")
    for e in answer.evidence:
        print(f"  #{e.rank} {e.doc_title} — {page_label(e.page_start, e.page_end)}" + (f"  § {e.section}" if e.section else ""))
        if e.best_sentence:
            print(textwrap.indent(textwrap.fill("\u25b6 " + e.best_sentence, 100), "      "))


def cmd_summarize(service: Any, args: argparse.Namespace) -> int:
    summary = service.summarize(args.doc_id, force=args.force, on_progress=ProgressBar(), cancel=CancelToken())
    if args.format == "json":
        print_json(summary.to_dict())
    else:
        print(summary.to_markdown(), end="")
    return EXIT_OK


def cmd_risks(service: Any, args: argparse.Namespace) -> int:
    from app.risks import export

    if args.all or args.format == "xlsx":
        ids = [d.id for d in service.documents() if d.status == "indexed"] if args.all else [args.doc_id] if args.doc_id else []
        if not ids:
            _err("error: no indexed documents to review. Give a document id or --all after adding documents.")
            return EXIT_ERROR
        if not args.out or args.format not in ("xlsx", "csv"):
            _err("error: a register needs --format xlsx or csv and --out FILE, e.g. --all --format xlsx --out register.xlsx")
            return EXIT_ERROR
        path = service.export_register(ids, args.out, args.format, on_progress=ProgressBar())
        print(f"wrote {path} ({len(ids)} documents)")
        return EXIT_OK
    if not args.doc_id:
        _err("error: give a document id (see 'dossier list') or --all.")
        return EXIT_ERROR
    report = service.review(args.doc_id, force=args.force, on_progress=ProgressBar(), cancel=CancelToken())
    title = service.document(args.doc_id).title
    text = {"json": export.to_json, "csv": export.to_csv}.get(args.format)
    out = text(report) if text else export.to_markdown(report, title) if args.format == "md" else _risk_table(report, title)
    if args.out:
        Path(args.out).write_text(out, encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(out)
    return EXIT_OK


def _risk_table(report: Any, title: str) -> str:
    from app.risks.export import report_to_table

    lines = [f"Risk review: {title}  ({len(report.present())} findings, {len(report.missing())} missing clauses)", ""]
    for row in report_to_table(report):
        where = row["pages"] or "—"
        value = f"  [{row['value']}]" if row["value"] else ""
        lines.append(f"{row['severity'].upper():6} {row['category'][:34]:34} {row['kind']:7} {where:14} {row['confidence']:.2f}{value}")
        if row["quote"]:
            lines.append(textwrap.indent(textwrap.shorten(row["quote"], 150), "         "))
    return "\n".join(lines) + "\n"


def cmd_models(service: Any, args: argparse.Namespace) -> int:
    """The model in use (or a GGUF file's header facts), without loading it."""
    s = service.settings
    if args.path or not s.llm_remote_url:
        info = service.inspect_model(args.path or s.llm_model or None)
        facts = {"name": info.name, "path": info.path, "architecture": info.architecture,
                 "parameters": info.parameters, "quantization": info.quantization,
                 "trained_context": info.trained_context, "chat_template": info.has_chat_template}
        if not args.path:
            facts["in_use"] = True
    else:
        facts = {"remote_url": s.llm_remote_url, "remote_model": s.llm_remote_model or "(server default)"}
    if args.json:
        print_json(facts)
        return EXIT_OK
    for k, v in facts.items():
        if k == "parameters":
            v = f"{v / 1e9:.2f} B" if v >= 1e9 else f"{v / 1e6:.0f} M"
        print(f"{k:16} {v}")
    if not args.path and not s.llm_remote_url:
        from app.llm.bundled import installed_gguf_files

        others = [str(p) for p in installed_gguf_files() if str(p) != facts["path"]]
        if others:
            print("also installed:  " + "\n                 ".join(others))
    return EXIT_OK
