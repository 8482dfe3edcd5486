"""Which documents a question is answered from: by level, region, kind, status and date.

An administrator asks what the law in force requires, or what Zhejiang's regulations add; the
catalogue knows each document's level, region, status and dates (``ingest/metadata.py``,
``KnowledgeBase.link_versions``), so a scope is the set of documents whose record matches, given
to retrieval as ``RetrievalFilter.docs``. The metadata lives in the catalogue, not in the
chunks, because an administrator can correct it after ingest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from advisor.errors import ConfigError
from ingest.metadata import LEVELS

if TYPE_CHECKING:
    from vectorstore.store import DocumentRecord


_DATE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")


@dataclass(frozen=True, slots=True)
class Scope:
    levels: Sequence[str] = ()  # national | provincial | municipal | college | other
    #: a record matches when its region contains one of these ("宁波" matches 浙江省宁波市)
    regions: Sequence[str] = ()
    kinds: Sequence[str] = ()
    current_only: bool = False  # leave out superseded versions
    #: ISO date prefixes ("2020", "2020-06"): the document's latest date (revised, else
    #: adopted, else effective) is on or after ``since`` and on or before ``until``
    since: str = ""
    until: str = ""

    def __post_init__(self) -> None:
        bad = [level for level in self.levels if level not in LEVELS]
        if bad:
            raise ConfigError(f"level must be one of {', '.join(LEVELS)} (got {', '.join(bad)})")
        for name, value in (("since", self.since), ("until", self.until)):
            if value and not _DATE.match(value):
                raise ConfigError(f"--{name} must be YYYY, YYYY-MM or YYYY-MM-DD (got {value!r})")

    @property
    def restricts(self) -> bool:
        """Whether the scope restricts by the catalogue (kinds alone are a chunk filter)."""
        return bool(self.levels or self.regions or self.current_only or self.since or self.until)

    def matches(self, record: DocumentRecord) -> bool:
        if self.levels and record.level not in self.levels:
            return False
        if self.regions and not any(r and r in record.region for r in self.regions):
            return False
        if self.kinds and record.kind not in self.kinds:
            return False
        if self.current_only and record.status == "superseded":
            return False
        latest = record.revised or record.adopted or record.effective
        if self.since and (not latest or latest[: len(self.since)] < self.since):
            return False
        return not (self.until and (not latest or latest[: len(self.until)] > self.until))

    def describe(self) -> str:
        parts = []
        if self.levels:
            parts.append("level " + "/".join(self.levels))
        if self.regions:
            parts.append("region " + "/".join(self.regions))
        if self.kinds:
            parts.append("kind " + "/".join(self.kinds))
        if self.current_only:
            parts.append("current versions only")
        if self.since or self.until:
            parts.append(f"dated {self.since or '…'} to {self.until or '…'}")
        return ", ".join(parts)


def select(records: Sequence[DocumentRecord], scope: Scope, kb: str) -> set[str]:
    """The doc ids of ``records`` within ``scope``; a clear error when none is."""
    chosen = {r.doc_id for r in records if scope.matches(r)}
    if not chosen:
        raise ConfigError(
            f"no document of knowledge base {kb!r} matches {scope.describe()} "
            f"({len(records)} document(s) there; see `kb docs`)"
        )
    return chosen
