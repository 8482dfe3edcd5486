"""How a citation names what it cites: the document's title and version, and the article.

An administrator cites a law as "《中华人民共和国职业教育法》（2022年修订）第二十四条", not as
"chunk 17 of 职业教育法(2022-04-20).md". A citation into a document with a title therefore
carries:

- ``label``: the title in 《》, its version (the year of its latest revision, else of its
  adoption) and the article;
- ``article``: "第二十四条", from the chunk's section path (the chunker cuts a law per article
  and records the article in the path), or null;
- ``status``: the document's ``current`` | ``superseded`` | ``unknown``, read from the catalogue
  when the answer is made (a newer version may have arrived since the chunk was written).

A citation into a superseded version is marked next to it, and the answer says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

from advisor.schemas import Citation
from vectorstore.store import version_key

_NUMERAL = "零〇一二两三四五六七八九十百千"
ARTICLE = re.compile(rf"第[{_NUMERAL}\d]+条(?:之[{_NUMERAL}]+)?")
_ARTICLE_EN = re.compile(r"\bArticle\s+\d+\b")
_SEPARATOR = " > "
#: levels of an issuing body: a document at one of them is an issued text, cited by its title
_ISSUED_LEVELS = ("national", "provincial", "municipal")


class DocumentInfo(Protocol):
    """What a label needs of a catalogue record (``vectorstore.store.DocumentRecord``)."""

    title: str
    level: str
    doc_number: str
    adopted: str
    revised: str
    status: str
    superseded_by: str


def article_of(section: str, text: str = "") -> str | None:
    """The article a chunk belongs to: the last article in its section path ("第二章 … >
    第二十四条"), else the article its text opens with."""
    for part in reversed(section.split(_SEPARATOR)):
        part = part.strip()
        match = ARTICLE.match(part) or _ARTICLE_EN.match(part)
        if match:
            return match.group(0)
    match = ARTICLE.match(text.lstrip()) or _ARTICLE_EN.match(text.lstrip())
    return match.group(0) if match else None


def version_note(info: DocumentInfo) -> str:
    """ "（2022年修订）", "（1996年）", or "" when the document has no date."""
    if info.revised:
        return f"（{info.revised[:4]}年修订）"
    if info.adopted:
        return f"（{info.adopted[:4]}年）"
    return ""


def is_issued(info: DocumentInfo) -> bool:
    """Whether the document is an issued text (a law, a regulation, a policy notice): its
    metadata knows a date of adoption or revision, a 文号 or an issuing level. A case note or
    a plan whose first heading is its title is cited by its file name."""
    return bool(info.adopted or info.revised or info.doc_number) or info.level in _ISSUED_LEVELS


def document_label(info: DocumentInfo) -> str:
    """《title》 with its version; "" for a document without a title or not an issued text."""
    title = version_key(info.title)  # the title's own version note gives way to the dates'
    if not title or not is_issued(info):
        return ""
    return f"《{title}》{version_note(info)}"


def citation_label(info: DocumentInfo | None, article: str | None) -> str:
    if info is None:
        return ""
    label = document_label(info)
    return f"{label}{article}" if label and article else label


def label_citations(
    citations: Sequence[Citation],
    passages: Sequence[Any],
    record_of: Any,
) -> list[Citation]:
    """The citations with their ``label``, ``article`` and ``status``. ``passages``: the
    answer's contexts (a citation's ``n`` is its rank there); ``record_of(kb, doc_id)``: the
    document's catalogue record or None."""
    by_n = {i: p for i, p in enumerate(passages, start=1)}
    records: dict[tuple[str, str], Any] = {}
    labelled: list[Citation] = []
    for c in citations:
        passage = by_n.get(c.n)
        if passage is None:
            labelled.append(c)
            continue
        key = (passage.kb, passage.doc_id)
        if key not in records:
            records[key] = record_of(*key) if passage.doc_id else None
        info = records[key]
        article = article_of(passage.section, passage.text)
        status = info.status if info is not None and info.status else "unknown"
        labelled.append(
            replace(c, label=citation_label(info, article), article=article, status=status)
        )
    return labelled


_SUPERSEDED_NOTE = {
    "zh": "注意：{refs} 引自已被新版本取代的文本（{labels}），请以现行版本为准。",
    "en": "Note: {refs} cite{s} a superseded version ({labels}); check the version in force.",
}


def superseded_note(citations: Sequence[Citation], lang: str) -> str:
    """A line for the answer when it cites a superseded version, naming the citations."""
    old = [c for c in citations if c.status == "superseded"]
    if not old:
        return ""
    refs = "".join(f"[{c.n}]" for c in old)
    labels = "、".join(dict.fromkeys(c.label or c.source for c in old))
    template = _SUPERSEDED_NOTE["zh" if lang == "zh" else "en"]
    return template.format(refs=refs, labels=labels, s="" if len(old) > 1 else "s")
