"""What every output shows of a citation, written once: the chat, ``ask``, batch files,
review reports and conversation exports all render ``[n] source p.X: “quote”`` here.
A citation is a ``Citation`` or its record (``Citation.to_json``, as stored and exported)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from advisor.schemas import Citation

CitationLike = Citation | Mapping[str, Any]


def _fields(c: CitationLike) -> tuple[int, str, int | None, str]:
    if isinstance(c, Citation):
        return c.n, c.source, c.page, c.quote
    return int(c["n"]), str(c["source"]), c.get("page"), str(c.get("quote", ""))


def source_label(n: int, source: str, page: int | None) -> str:
    """``[n] source p.X`` for a cited or a retrieved passage (no page for a file without
    pages)."""
    return f"[{n}] {source}" + (f" p.{page}" if page else "")


def cite_label(c: CitationLike) -> str:
    """``[n] source p.X``."""
    n, source, page, _ = _fields(c)
    return source_label(n, source, page)


def cite_line(c: CitationLike) -> str:
    """``[n] source p.X: “quote”``."""
    return f"{cite_label(c)}: “{_fields(c)[3]}”"
