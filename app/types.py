"""Plain data passed between the core's parts, the CLI and the GUI.

Offsets are always into PDFium's page text for that page (what pypdfium2's
``PdfTextPage.get_text_range()`` and QtPdf's ``QPdfDocument.getAllText(page)`` return),
0-based, end-exclusive. Pages are 0-based. The viewer turns (page, start, end) into
highlight rectangles with ``QPdfDocument.getSelectionAtIndex(page, start, end - start)``.
Scanned pages have no PDF text: their text is OCR's (``PageText.ocr``), offsets are into
it, and the viewer draws their highlights from the OCR boxes (``PageText.layout``).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Literal

DocType = Literal["annual_report", "quarterly_report", "contract", "other"]
DocStatus = Literal["indexed", "failed", "needs_password", "indexing"]


@dataclass(frozen=True)
class PageText:
    page: int
    text: str
    #: False when the page has no (usable) text layer, e.g. a scanned image.
    has_text: bool = True
    #: True when ``text`` came from OCR rather than the PDF's text layer (``has_text`` False
    #: with ``ocr`` True: OCR ran and found nothing).
    ocr: bool = False
    #: OCR pages only: where each character sits on the page, as JSON
    #: (:class:`app.text.layout.PageLayout`); "" for text-layer pages.
    layout: str = field(default="", repr=False, compare=False)


@dataclass(frozen=True)
class Span:
    """A stretch of one page's text: ``page_text[start:end]``."""

    page: int
    start: int
    end: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class Chunk:
    """A retrievable piece of a document.

    ``text`` is normalised (whitespace collapsed, hyphenated line breaks joined); the
    source region is ``page_start:char_start`` .. ``page_end:char_end`` in the raw page
    texts, and :func:`app.text.spans.chunk_offset_to_span` maps any offset in ``text``
    back to a page span.
    """

    doc_id: str
    ordinal: int
    text: str
    section: str
    page_start: int
    page_end: int
    char_start: int
    char_end: int
    kind: Literal["text", "table"] = "text"
    #: Heading/table-header context that is prepended when embedding and indexing
    #: (not part of ``text``, which must stay equal to the normalised raw region).
    context: str = ""

    @property
    def id(self) -> str:
        return f"{self.doc_id}:{self.ordinal}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["id"] = self.id
        return d


@dataclass
class DocumentRecord:
    id: str  # sha256 of the file bytes (hex, first 32 chars)
    path: str
    title: str
    page_count: int
    doc_type: DocType
    status: DocStatus
    error: str = ""
    ingested_at: str = ""
    index_settings: str = ""
    workspace: str = "default"
    #: pages without a text layer (0-based), reported to the user.
    textless_pages: list[int] = field(default_factory=list)
    chunk_count: int = 0
    #: pages whose text was read by OCR (0-based).
    ocr_pages: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SearchHit:
    chunk_id: str
    doc_id: str
    doc_title: str
    section: str
    page_start: int
    page_end: int
    char_start: int
    char_end: int
    score: float
    text: str
    #: Rank in each retriever that found it (1-based), e.g. {"lexical": 3, "dense": 1}.
    ranks: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Progress:
    """One progress event. ``done``/``total`` count ``unit`` (pages, chunks, tokens…)."""

    stage: str  # e.g. "parse", "embed", "index", "generate"
    done: int
    total: int
    unit: str = ""
    message: str = ""
    document: str = ""


ProgressFn = Callable[[Progress], None]


def no_progress(_: Progress) -> None:
    return None


class CancelToken:
    """Cooperative cancellation: long work calls :meth:`raise_if_cancelled` between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            from app.errors import Cancelled

            raise Cancelled()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)
