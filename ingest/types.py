"""Plain data passed between the loaders, the text checks, the chunker and the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Kind = Literal["policy", "case", "plan", "other"]
KINDS: tuple[str, ...] = ("policy", "case", "plan", "other")
Lang = Literal["zh", "en"]

SUPPORTED_SUFFIXES: tuple[str, ...] = (".pdf", ".txt", ".md", ".docx")


@dataclass(frozen=True, slots=True)
class Page:
    """Text of one page (PDF) or of the whole file (formats without pages)."""

    number: int | None  # 1-based page number; None for .txt / .md / .docx
    text: str
    #: the OCR engine's mean confidence (0-1) when the text was recognised from the page
    #: image; None for a text layer
    ocr_confidence: float | None = None


@dataclass(frozen=True, slots=True)
class SkippedPage:
    """A page that was left out of the index, and why (``empty``, ``garbled`` or
    ``ocr_low_confidence``)."""

    number: int | None
    reason: str
    detail: str = ""


@dataclass(slots=True)
class RawDocument:
    """What a loader read from a file, before any text check."""

    path: Path
    pages: list[Page]
    page_count: int
    meta: dict[str, str] = field(default_factory=dict)  # front matter: title, kind, lang, sources
    #: pages already left out before the text checks (OCR could not read them well enough)
    skipped: list[SkippedPage] = field(default_factory=list)
    #: OCR has read the pages without a usable text layer (``ingest/ocr.py``)
    ocr_tried: bool = False


@dataclass(slots=True)
class ScreenedDocument:
    """A document whose pages passed the text checks; only ``pages`` are indexed."""

    path: Path
    pages: list[Page]
    page_count: int
    skipped: list[SkippedPage] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Chunk:
    """One retrievable passage. ``section`` is a path such as ``第四章 总则 > 第四十条``."""

    text: str
    page: int | None
    section: str
    lang: Lang
    index: int
    #: (offset in ``text``, page number) for every page that begins inside the chunk, so that
    #: a quote from the chunk can be given the page it is really on
    page_breaks: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class LoadLimits:
    max_bytes: int = 100 * 1024 * 1024
    max_pages: int = 2000


@dataclass(frozen=True, slots=True)
class OcrOptions:
    """When and how scanned or garbled PDF pages are read with OCR (``ingest/ocr.py``)."""

    enabled: bool = True
    dpi: int = 200
    #: a file with more pages to OCR than this is refused (nothing of it is indexed)
    max_pages: int = 300
    #: seconds one page may take; a page over it stops the file (the worker is restarted)
    page_timeout_s: float = 60.0
    #: an OCR'd page whose mean confidence is below this is left out and reported
    min_confidence: float = 0.80

    def __post_init__(self) -> None:
        if not 72 <= self.dpi <= 600:
            raise ValueError("OCR dpi must be between 72 and 600")
        if self.max_pages < 1 or self.page_timeout_s <= 0:
            raise ValueError("OCR max pages and page timeout must be positive")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError("OCR min confidence must be between 0 and 1")


@dataclass(slots=True)
class PreparedDocument:
    """A screened and chunked document, ready to be embedded and written as one unit."""

    source: str  # the file name as ingested; identifies the document within a knowledge base
    sha256: str
    kind: str
    lang: Lang
    title: str
    page_count: int
    size_bytes: int
    chunks: list[Chunk]
    embed_texts: list[str]  # what the embedder reads: a short heading line + the chunk text
    skipped: list[SkippedPage] = field(default_factory=list)
    #: page number -> OCR confidence, for the pages whose text was recognised from the image
    ocr_pages: dict[int, float] = field(default_factory=dict)
    #: what the document is (``ingest/metadata.py``): issuer, 文号, level, region, dates
    doc_meta: dict[str, str | None] = field(default_factory=dict)
