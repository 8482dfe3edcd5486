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


@dataclass(frozen=True, slots=True)
class SkippedPage:
    """A page that was left out of the index, and why (``empty`` or ``garbled``)."""

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
