"""What every output shows of a citation, written once: the chat, ``ask``, batch files,
review reports and conversation exports all render ``[n] source p.X: “quote”`` here, and
``p.X (OCR)`` when that page's text was read from a scan.
A citation is a ``Citation`` or its record (``Citation.to_json``, as stored and exported)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from advisor.schemas import Citation

CitationLike = Citation | Mapping[str, Any]


def _fields(c: CitationLike) -> tuple[int, str, int | None, str, bool]:
    if isinstance(c, Citation):
        return c.n, c.source, c.page, c.quote, c.ocr
    return (
        int(c["n"]),
        str(c["source"]),
        c.get("page"),
        str(c.get("quote", "")),
        bool(c.get("ocr", False)),
    )


def source_label(n: int, source: str, page: int | None, *, ocr: bool = False) -> str:
    """``[n] source p.X`` for a cited or a retrieved passage (no page for a file without
    pages), ``p.X (OCR)`` for a page read with OCR."""
    where = f" p.{page}" if page else ""
    return f"[{n}] {source}{where}" + (" (OCR)" if ocr else "")


def cite_label(c: CitationLike) -> str:
    """``[n] source p.X`` (``p.X (OCR)``)."""
    n, source, page, _, ocr = _fields(c)
    return source_label(n, source, page, ocr=ocr)


def cite_line(c: CitationLike) -> str:
    """``[n] source p.X: “quote”``."""
    return f"{cite_label(c)}: “{_fields(c)[3]}”"
