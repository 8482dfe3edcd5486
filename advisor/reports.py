"""What every output shows of a citation, written once: the chat, ``ask``, batch files,
review reports and conversation exports all render ``[n] source p.X: “quote”`` here, and
``p.X (OCR)`` when that page's text was read from a scan.
A citation is a ``Citation`` or its record (``Citation.to_json``, as stored and exported)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from advisor.schemas import Citation

CitationLike = Citation | Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class _Fields:
    n: int
    source: str
    page: int | None
    quote: str
    ocr: bool
    label: str
    status: str


def _fields(c: CitationLike) -> _Fields:
    if isinstance(c, Citation):
        return _Fields(c.n, c.source, c.page, c.quote, c.ocr, c.label, c.status)
    return _Fields(
        int(c["n"]),
        str(c["source"]),
        c.get("page"),
        str(c.get("quote", "")),
        bool(c.get("ocr", False)),
        str(c.get("label") or ""),
        str(c.get("status") or "unknown"),
    )


#: next to a citation into a superseded version
SUPERSEDED_MARK = "（已被取代 superseded）"


def source_label(
    n: int,
    source: str,
    page: int | None,
    *,
    ocr: bool = False,
    label: str = "",
    status: str = "unknown",
) -> str:
    """``[n] source p.X`` for a cited or a retrieved passage (no page for a file without
    pages), ``p.X (OCR)`` for a page read with OCR. A citation with a label (a law's title,
    version and article) shows the label instead of the file name, and a superseded
    version is marked as such."""
    where = f" p.{page}" if page else ""
    mark = SUPERSEDED_MARK if status == "superseded" else ""
    return f"[{n}] {label or source}{where}" + (" (OCR)" if ocr else "") + mark


def cite_label(c: CitationLike) -> str:
    """``[n] label-or-source p.X`` (``p.X (OCR)``, superseded marked)."""
    f = _fields(c)
    return source_label(f.n, f.source, f.page, ocr=f.ocr, label=f.label, status=f.status)


def cite_line(c: CitationLike) -> str:
    """``[n] source p.X: “quote”``."""
    return f"{cite_label(c)}: “{_fields(c).quote}”"
