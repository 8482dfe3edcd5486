"""Documents a question names: "根据职业教育法…", "宁波市…条例", "the Vocational Education Law".

An administrator who names a law wants that law's articles, not passages that merely share its
words: in a mixed corpus, "根据职业教育法，职业教育实行怎样的管理体制？" ranked four English
abstracts about "vocational education" above the law it names. Retrieval therefore finds the
documents a question names and ranks their passages first (``HybridRetriever``).

A document's names come from its title and file name: the whole name, and the name without
"中华人民共和国" (how laws are usually cited) or a date in brackets. A Chinese question names a
document when it contains one of these, not as the tail of a longer name (教育法 inside
职业教育法 or 高等教育法 names neither 教育法). It also names a local regulation by its place
and its kind ("宁波市的培训条例"), when that leaves one best match. An English question names a
document through the glossary's Chinese terms for its words (``translated_terms``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence

from textrules import HAN, HAN_CHAR

_BRACKETED = re.compile(r"[（(][^()（）]*[)）]")
_SUFFIX = re.compile(r"\.(?:md|txt|pdf|docx)$", re.I)
_PREFIX = "中华人民共和国"
_HAN = HAN_CHAR
#: what comes right before a name that starts a citation: 根据/依照/按照…, 《, a particle
_BOUNDARY_BEFORE = set("据照依按在《〈“\"'的和与及、，,：: 对将把从")
_PLACE = re.compile(rf"^([{HAN}]{{2,8}}?(?:省|市|自治区|特别行政区|县|区))")
_KIND = re.compile(r"(条例|办法|规定|决定|细则|法|意见|通知|方案|规划)$")
#: a name this short is too common a word to count as naming a document
MIN_NAME_CHARS = 3


def document_names(source: str, title: str = "") -> list[str]:
    """The names by which a document may be cited, longest first."""
    names: set[str] = set()
    for raw in (title, _SUFFIX.sub("", source)):
        name = _BRACKETED.sub("", raw.replace("《", "").replace("》", "")).strip()
        name = re.sub(r"\s+", "", name)
        if not name or not _HAN.search(name):
            continue
        names.add(name)
        if name.startswith(_PREFIX) and len(name) > len(_PREFIX) + 1:
            names.add(name[len(_PREFIX) :])
    return sorted((n for n in names if len(n) >= MIN_NAME_CHARS), key=len, reverse=True)


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("《", "").replace("》", ""))


def _cited_at(text: str, name: str) -> bool:
    """``name`` occurs in ``text`` other than as the tail of a longer name."""
    start = text.find(name)
    while start >= 0:
        before = text[start - 1] if start > 0 else ""
        if not before or before in _BOUNDARY_BEFORE or not _HAN.match(before):
            return True
        if text[max(0, start - len(_PREFIX)) : start] == _PREFIX:
            return True
        start = text.find(name, start + 1)
    return False


def named_documents(
    query: str,
    documents: Mapping[str, Sequence[str]],
    translated_terms: Iterable[str] = (),
) -> set[str]:
    """The ids of the ``documents`` (doc id -> names) that ``query`` names."""
    texts = [_compact(query), *(_compact(t) for t in translated_terms if _HAN.search(t))]
    exact: dict[str, str] = {}  # doc id -> the longest name cited
    for doc_id, names in documents.items():
        for name in names:
            if any(_cited_at(text, name) for text in texts):
                exact[doc_id] = name
                break
    # a name cited only as part of another cited name does not count (教育法 in 职业教育法)
    cited = set(exact.values())
    found = {d for d, n in exact.items() if not any(n != o and n in o for o in cited)}
    # a question may name a law and a local regulation at once ("…the national technology
    # transfer law… and what does Zhejiang's regulation set?")
    return found | _by_place_and_kind(texts, documents)


def _by_place_and_kind(texts: list[str], documents: Mapping[str, Sequence[str]]) -> set[str]:
    """ "宁波市的培训条例": the documents of that place and kind; the closest when several."""
    joined = "".join(texts)
    scored: dict[str, int] = {}
    for doc_id, names in documents.items():
        for name in names:
            place, kind = _PLACE.match(name), _KIND.search(name)
            if not place or not kind:
                continue
            short_place = re.sub(r"(省|市|自治区|特别行政区)$", "", place.group(1))
            if short_place not in joined or kind.group(1) not in joined:
                continue
            core = name[place.end() : kind.start()]
            overlap = sum(1 for ch in set(core) if ch in joined)
            scored[doc_id] = max(scored.get(doc_id, 0), overlap)
            break
    if not scored:
        return set()
    best = max(scored.values())
    return {d for d, s in scored.items() if s == best}


_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
_CURRENT = re.compile(
    r"现行|现在|目前|最新|新修订|修订后|当前|\bcurrent(?:ly)?\b|\bin force\b|\bnow\b|\blatest\b",
    re.I,
)


def names_a_year(query: str, label: str) -> bool:
    """Whether ``query`` names a year that ``label`` (a version's file name or title) has."""
    return bool(set(_YEAR.findall(query)) & set(_YEAR.findall(label)))


def prefer_version(
    query: str,
    found: set[str],
    labels: Mapping[str, str],
    superseded: Collection[str] = (),
) -> set[str]:
    """Of several versions of one named document (labels: doc id -> its file name or title,
    which carry the version's date, e.g. 职业教育法(1996-05-15)), the one the question asks
    for: the version of a year it names ("1996年版…"), the latest when it asks for the one in
    force ("现行…", "as currently in force"); otherwise the versions not ``superseded`` (the
    catalogue's status, ``KnowledgeBase.link_versions``), or all when that leaves none."""
    if len(found) < 2:
        return found
    groups: dict[str, set[str]] = {}
    for doc_id in found:
        names = document_names(labels.get(doc_id, ""))
        groups.setdefault(names[-1] if names else doc_id, set()).add(doc_id)
    years = set(_YEAR.findall(query))
    kept: set[str] = set()
    for versions in groups.values():
        dated = {d: _YEAR.findall(labels.get(d, "")) for d in versions}
        if len(versions) < 2:
            kept |= versions
            continue
        chosen = {d for d, ys in dated.items() if years & set(ys)}
        if _CURRENT.search(query) and all(dated.values()):
            # "现行…跟1996年版相比": the one in force, and the year's as well
            chosen.add(max(versions, key=lambda d: max(dated[d])))
        in_force = {d for d in versions if d not in superseded}
        kept |= chosen or in_force or versions
    return kept
