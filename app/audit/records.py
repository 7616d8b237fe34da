"""What goes into the audit trail for a question, an answer, a summary and a review.

Why these fields: a compliance officer must be able to show a regulator who asked what,
when, which model file (by hash) and settings produced the reply, from which documents
(by content hash) and which page spans it cited. Secrets never appear: settings hold none
(tokens live in the OS keyring), and user names/passwords embedded in server URLs are
stripped before anything is written.

:class:`AuditTrail` wraps the three service calls: a question is written *before* the
model runs, so a log that cannot be written stops the work up front (:class:`AuditError`)
instead of producing an answer nobody recorded; the outcome (answer, error or cancel)
follows, linked by ``request`` (the question's ``seq``).
"""

from __future__ import annotations

import getpass
import os
import socket
from pathlib import Path
from typing import Any, Callable, TypeVar
from urllib.parse import urlsplit, urlunsplit

from app.audit.log import AuditLog

T = TypeVar("T")
ContextFn = Callable[[Any], dict[str, Any]]


def login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return os.environ.get("USERNAME") or os.environ.get("USER") or "unknown"


def strip_credentials(url: str) -> str:
    """``http://user:pw@host:8080/x`` -> ``http://host:8080/x`` (never log credentials)."""
    if not url or "@" not in url:
        return url
    parts = urlsplit(url if "://" in url else "http://" + url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def model_identity(llm: Any, cache_dir: Path | None) -> dict[str, Any] | None:
    """Name, file and SHA-256 of the model in use (the server address for a remote one)."""
    if llm is None:
        return None
    info = getattr(llm, "info", None)
    if info is None:
        return {"name": type(llm).__name__}
    if info.extra.get("remote"):
        return {"kind": "remote", "name": info.name, "url": strip_credentials(info.path)}
    out: dict[str, Any] = {"kind": "local", "name": info.name, "path": info.path, "quantization": info.quantization}
    if info.path and Path(info.path).is_file():
        from app.filehash import sha256_cached

        out["sha256"] = sha256_cached(info.path, cache_dir)
    return out


def settings_record(settings: Any, index_identity: str) -> dict[str, Any]:
    """The settings that shape a reply (no secrets exist in settings; URLs are cleaned anyway)."""
    return {"workspace": settings.workspace, "embedder": settings.embedder, "index": index_identity,
            "llm_model": settings.llm_model or "(bundled)", "llm_remote_url": strip_credentials(settings.llm_remote_url),
            "llm_remote_model": settings.llm_remote_model, "llm_temperature": settings.llm_temperature,
            "llm_n_ctx": settings.llm_n_ctx, "risk_playbook": settings.risk_playbook,
            "index_server_url": strip_credentials(str(getattr(settings, "index_server_url", "") or ""))}


def base_context(settings: Any, index_identity: str, llm: Any, cache_dir: Path | None) -> dict[str, Any]:
    from app import __version__

    try:
        host = socket.gethostname()
    except OSError:
        host = ""
    return {"user": login_name(), "host": host, "app_version": __version__,
            "model": model_identity(llm, cache_dir), "settings": settings_record(settings, index_identity)}


def _spans(spans: Any) -> list[list[int]]:
    return [[s.page, s.start, s.end] for s in spans]


def answer_record(answer: Any) -> dict[str, Any]:
    docs = {c.doc_id: c.doc_title for c in answer.citations}
    docs.update({e.doc_id: e.doc_title for e in answer.evidence if e.doc_id not in docs})
    status = "cancelled" if answer.cancelled else "abstained" if answer.abstained else "answered"
    return {"status": status, "text": answer.text, "fully_supported": answer.fully_supported,
            "documents": [{"id": k, "title": v} for k, v in docs.items()],
            "citations": [{"number": c.number, "doc_id": c.doc_id, "page": c.page, "spans": _spans(c.spans),
                           "inferred": c.inferred} for c in answer.citations],
            "evidence": [{"doc_id": e.doc_id, "pages": [e.page_start, e.page_end], "chunk_id": e.chunk_id}
                         for e in answer.evidence],
            "unsupported_sentences": sum(1 for s in answer.sentences if not s.supported)}


def summary_record(summary: Any) -> dict[str, Any]:
    return {"status": "summarized", "documents": [{"id": summary.doc_id, "title": summary.doc_title}],
            "sections": [{"title": s.title, "bullets": [{"text": b.text, "pages": list(b.pages),
                                                         "spans": _spans(b.spans), "source": b.source}
                                                        for b in s.bullets]} for s in summary.sections],
            "notes": list(summary.notes)}


def review_record(report: Any, title: str) -> dict[str, Any]:
    return {"status": "reviewed", "documents": [{"id": report.doc_id, "title": title}],
            "taxonomy_version": report.taxonomy_version, "used_llm": report.used_llm,
            "findings": [{"category_id": f.category_id, "severity": f.severity, "kind": f.kind,
                          "confidence": round(float(f.confidence), 4), "page": f.page, "spans": _spans(f.spans),
                          "rule_violated": f.rule_violated} for f in report.findings]}


def _outcome(err: BaseException) -> dict[str, Any]:
    from app.errors import Cancelled

    if isinstance(err, (Cancelled, KeyboardInterrupt)):
        return {"status": "cancelled"}
    return {"status": "error", "error": f"{type(err).__name__}: {err}"[:2000]}


class AuditTrail:
    """The service's audit log; ``context(llm)`` gives user, model and settings fields."""

    def __init__(self, folder: str | os.PathLike[str], context: ContextFn) -> None:
        self.log = AuditLog(folder)
        self._context = context

    def _append(self, event: str, llm: Any, data: dict[str, Any]) -> dict[str, Any]:
        return self.log.append(event, {**self._context(llm), **data})

    def _guarded(self, request: dict[str, Any], event: str, llm: Any, run: Callable[[], T],
                 record: Callable[[T], dict[str, Any]]) -> T:
        try:
            result = run()
        except BaseException as err:
            try:
                self._append(event, llm, {"request": request["seq"], **_outcome(err)})
            except Exception:  # noqa: BLE001 - the original error is the one to report
                pass
            raise
        self._append(event, llm, {"request": request["seq"], **record(result)})
        return result

    def ask(self, question: str, doc_ids: list[str] | None, llm: Any, run: Callable[[], T]) -> T:
        request = self._append("question", llm, {"question": question, "scope": doc_ids or "all"})
        return self._guarded(request, "answer", llm, run, answer_record)

    def summary(self, doc: Any, llm: Any, run: Callable[[], T]) -> T:
        request = self._append("summary_request", llm, {"documents": [{"id": doc.id, "title": doc.title}]})
        return self._guarded(request, "summary", llm, run, summary_record)

    def review(self, doc: Any, llm: Any, run: Callable[[], T]) -> T:
        request = self._append("review_request", llm, {"documents": [{"id": doc.id, "title": doc.title}]})
        return self._guarded(request, "review", llm, run, lambda r: review_record(r, doc.title))
