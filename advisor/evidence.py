"""Decisive sentences and the support check: which sentences of the retrieved passages state the
answer, and whether any does.

Retrieval finds passages on the question's topic; that is not the same as a passage stating the
answer. On a public noise benchmark (RGB zh_int) 15 of 20 questions whose answer was nowhere in
the pool got confident answers built from same-topic passages, because the old gate only asked
whether the passages shared the question's terms. Here each sentence is scored on its own:

- ``share``: the idf-weighted share of the question's content terms that the sentence (with
  the sentence before it, which often names the subject) contains; for a question in the other
  language, of the question's glossary terms;
- ``slot``: whether it holds the kind of thing asked: a date for 什么时候 / when, a figure for
  多少 / how many, a share for 比例 / what percentage, an amount, a period;
- the question's specifics (years, places) must occur in the text of a chosen sentence's
  passage, not in a file name: "2021赛季" is matched by 2021, and 2023年 by "2023-12-20".

The best sentences become the answer's cited basis (shown verbatim under the model's
explanation, "依据 / Basis"), the extractive backend's answer, and the model's prompt. A question
is supported when a sentence that holds its slot reaches ``MIN_SHARE`` (a factoid question) or
``MIN_SHARE_OPEN`` (a question that asks for no slot: how, why, advice).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from advisor.citations import quotable, split_sentences
from advisor.glossary import Glossary
from advisor.grounding import PLACE_SUFFIX, YEAR, specifics
from vectorstore.keyword import tokenize
from vectorstore.retrieval import Passage, near_duplicate

#: calibrated on held-out sets (docs/BENCHMARKS.md "Support check"), never on the benchmark the
#: figures are reported on
MIN_SHARE = 0.5
MIN_SHARE_OPEN = 0.2

_QUESTION_WORDS = frozenset(
    "多少 几 哪些 哪个 哪里 哪年 什么 怎样 如何 为什么 是否 谁 何时 时间 情况 分别 请问 主要 "
    "what which who whom when where how many much why whether does did do is are was were".split()
)

_SLOTS_ZH: list[tuple[str, re.Pattern[str]]] = [
    ("period", re.compile(r"多久|多长时间|期限|年限|几年|几个月|多少天|多少年")),
    ("date", re.compile(r"什么时候|何时|哪一?年|哪一?天|几月|几号|哪个月|日期|时间|哪一?日")),
    (
        "percent",
        re.compile(r"比例|百分之?|增长率|增速|增幅|占比|比重|率是多少|下降了?多少|增长了?多少"),
    ),
    ("money", re.compile(r"多少钱|金额|多少元|多少万元|票房|营收|营业收入|奖金多少")),
    # 哪几个 asks which ones, not how many
    ("number", re.compile(r"多少|(?<!哪)几[个名位家项条次所座人]|数量|人数|排名|第几|规模")),
]
_SLOTS_EN: list[tuple[str, re.Pattern[str]]] = [
    ("period", re.compile(r"\bhow long\b|\bwithin (?:what|which) period\b|\btime limit\b")),
    # "when" asks for a time as a question word ("When did…", "when may the researcher…"),
    # not as a conjunction ("when a university rewards a researcher, …")
    (
        "date",
        re.compile(
            r"\bwhen (?:did|does|do|is|are|was|were|will|would|must|may|might|should|can|could|"
            r"has|have|had)\b|\bwhat (?:year|date|day|month)\b|\bwhich (?:year|date|day)\b"
        ),
    ),
    ("percent", re.compile(r"\bpercent|\bpercentage\b|\bshare of\b|\brate\b|\bproportion\b")),
    (
        "money",
        # "how much monthly living allowance": a sum of money, not any number ("一倍以上三倍
        # 以下罚款" is no allowance)
        re.compile(
            r"\bhow much (?:[a-z-]+ ){0,3}(?:money|funding|allowances?|subsid(?:y|ies)|grants?|"
            r"fees?|pay|salary|bonus(?:es)?|rewards?|fines?|tuition)\b|"
            r"\bamount\b|\bsalary\b|\bwage|\bfee\b|\byuan\b"
        ),
    ),
    ("number", re.compile(r"\bhow many\b|\bhow much\b|\bnumber of\b|\bwhat rank")),
]

_NUM = r"(?:\d[\d,，.]*|[零〇一二三四五六七八九十百千万亿两]+)"
_EN_NUM = r"(?:\d[\d,.]*|a|an|one|two|three|four|five|six|seven|eight|nine|ten|twelve|several)"
_SLOT_IN_SENTENCE: dict[str, re.Pattern[str]] = {
    "date": re.compile(
        rf"{_NUM}\s*年|{_NUM}\s*月|{_NUM}\s*日|\d{{4}}[-/.]\d{{1,2}}|(?<!\d)(?:19|20)\d\d(?!\d)|"
        r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|今年|去年|明年|当天|次日|"
        # a time given as an event: 待分红或者转让时, 自批准之日起, 期满后
        r"(?:待|在|于)[^，。；,;]{1,12}时|之日起|届满|期满",
        re.I,
    ),
    "percent": re.compile(rf"{_NUM}\s*(?:%|％|个百分点)|百分之|\bper ?cent\b", re.I),
    "money": re.compile(
        rf"{_NUM}\s*(?:万|亿)?\s*(?:元|美元|港元|欧元|块)|\$\s*\d|\d\s*(?:yuan|rmb|dollars?)\b",
        re.I,
    ),
    "period": re.compile(
        rf"{_NUM}\s*(?:年|个月|月|日|天|周|小时|学期)|每(?:年|季度?|月|周|学期)|按(?:年|季|月)|"
        rf"\b{_EN_NUM}\s+(?:years?|months?|days?|weeks?)\b|\b(?:annual|quarterly|monthly|weekly)",
        re.I,
    ),
    # 一 alone is a word as often as a numeral (一定, 统一, 一些): it counts before a measure
    # word or another numeral only
    "number": re.compile(
        r"\d|[零〇两二三四五六七八九十百千万亿]|一\s*(?=[个名位家项条次所座人倍级类种批届十百千万亿])|"
        r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten)\b",
        re.I,
    ),
}


_CLAUSES = re.compile(r"[？?]\s*(?=\S)|[；;]|分别|以及|and what|and how|and which|, and ")


def question_slot(question: str, lang: str) -> str | None:
    """The kind of thing a factoid question asks for, or None (how / why / advice, and a
    question of several parts, whose parts may ask different kinds of things)."""
    if _CLAUSES.search(question.strip().rstrip("？?。. ")):
        return None
    table = _SLOTS_ZH if lang == "zh" else _SLOTS_EN
    text = question if lang == "zh" else question.lower()
    for name, pattern in table:
        if pattern.search(text):
            return name
    return None


#: a part of a question that asks how many: 多少个 / 几个 / 第几 / how many (not 没几个
#: "hardly any", 好几次 "several times", 规模 "size", which describe rather than ask)
_ASKS_COUNT = {
    "zh": re.compile(r"多少|(?<![哪没好十])几[个名位家项条次所座人章倍]|第几"),
    "en": re.compile(r"\bhow many\b|\bnumber of\b|\bwhat rank"),
}


def asks_count(question: str, lang: str) -> bool:
    """Some part of the question asks how many ("…多少个…？", "How many … and which …?"),
    even where the whole, a question of several parts, has no single slot."""
    text = question if lang == "zh" else question.lower()
    return bool(_ASKS_COUNT["zh" if lang == "zh" else "en"].search(text))


_ARTICLE_NUMBER = re.compile(
    r"第[零〇一二三四五六七八九十百千两\d]+[条款项章节编]|[（(][一二三四五六七八九十\d]+[)）]"
)
_BIG_AMOUNT = re.compile(r"\d[\d,.]*\s*(?:万|亿)")


def holds_slot(sentence: str, slot: str | None) -> bool:
    if slot is None:
        return True
    sentence = _ARTICLE_NUMBER.sub("", sentence)  # 第十九条 and （一） are labels, not figures
    pattern = _SLOT_IN_SENTENCE[slot]
    if slot == "money" and not pattern.search(sentence):
        return bool(_BIG_AMOUNT.search(sentence))  # 票房36.9亿 without 元
    return bool(pattern.search(sentence))


_PARTS = re.compile(r"[？?；;]\s*(?=\S)")
_DOCUMENT_WORD = re.compile(r"法|条例|办法|规定|方案|意见|\b(?:law|act|regulations?|rules)\b", re.I)


def specific_present(item: str, text: str) -> bool:
    """A year as written anywhere in ``text`` ("2023-12-20" holds 2023; "2021赛季" asked as
    2021), or a place with or without its administrative suffix."""
    year = YEAR.fullmatch(item)
    if year:
        return item in YEAR.findall(text)
    bare = PLACE_SUFFIX.sub("", item) or item
    return item in text or bare in text


@dataclass(frozen=True, slots=True)
class Decisive:
    """One sentence of a retrieved passage, scored against the question."""

    text: str  # verbatim
    passage: Passage
    position: int  # index of the sentence in its passage
    share: float
    slot_ok: bool
    score: float

    @property
    def n(self) -> int:
        return self.passage.rank


@dataclass(slots=True)
class Support:
    supported: bool
    slot: str | None
    sentences: list[Decisive]  # best first
    missing: list[str] = field(default_factory=list)  # specifics found in no chosen passage
    best_share: float = 0.0

    @property
    def reason(self) -> str:
        if self.missing:
            return "missing: " + ", ".join(self.missing)
        if not self.supported:
            return f"no sentence states it (best share {self.best_share:.2f}, slot {self.slot})"
        return "supported"


def _weights(question_terms: set[str], passages: Sequence[Passage]) -> dict[str, float]:
    """idf of each question term over the retrieved passages: a term every passage holds
    (the topic) counts less than the one that singles out the answer."""
    n = max(1, len(passages))
    texts = [set(tokenize(f"{p.section}\n{p.text}")) for p in passages]
    return {
        t: math.log(1 + (n + 1) / (1 + sum(1 for terms in texts if t in terms)))
        for t in question_terms
    }


#: the phrases a question asks for a time with ("在哪一年", "哪一天"): never in the answer's
#: sentence, and the tokenizer's pieces of them ("一年") would count as terms it must hold
_ASKING_FOR_A_TIME = re.compile(r"哪一?[年天日]|哪一?个月|什么时候|几月|几号")


def content_terms(text: str) -> set[str]:
    text = _ASKING_FOR_A_TIME.sub(" ", text)
    return {t for t in tokenize(text) if t not in _QUESTION_WORDS and (len(t) > 1 or t.isdigit())}


_TERM_ROW = re.compile(r"^\s*\|?(?:[^|]{0,40}\|)+\s*[^|]{0,40}$")
_ASKS_TERM = re.compile(
    r"术语|英文|中文|译法|怎么说|叫什么|称为|\bterm\b|\bin (?:chinese|english)\b|\btranslat", re.I
)
#: a table row of short cells (a glossary entry) counts this much, unless a term is asked for
TERM_ROW_WEIGHT = 0.4
#: an English sentence for a Chinese question that has Chinese passages counts this much
OTHER_LANGUAGE_WEIGHT = 0.6


def decisive_sentences(
    question: str,
    passages: Sequence[Passage],
    lang: str,
    extra_terms: Sequence[str] = (),
) -> tuple[list[Decisive], str | None]:
    """Every quotable sentence of ``passages``, best first, and the question's slot.
    ``extra_terms`` are the question's key terms in the other language (glossary)."""
    slot = question_slot(question, lang)
    own = content_terms(question)
    translated = content_terms(" ".join(extra_terms))
    weights = _weights(own | translated, passages)
    own_total = sum(weights[t] for t in own) or 1.0
    translated_total = sum(weights[t] for t in translated) or 1.0
    phrases = [t for t in extra_terms if len(t) >= 2]
    asks_term = bool(_ASKS_TERM.search(question))
    # a Chinese question with Chinese passages: their English twins (parallel documents) say
    # the same in words the answer cannot quote
    damp_other = lang == "zh" and any(p.lang == "zh" for p in passages)
    scored: list[Decisive] = []
    for passage in passages:
        sentences = split_sentences(passage.text)
        tokens = [set(tokenize(sentence)) for sentence in sentences]  # once per sentence
        section_tokens = set(tokenize(passage.section))
        for position, sentence in enumerate(sentences):
            if len(sentence) < 8 or not quotable(sentence):
                continue  # fragments, headings and text addressed to an assistant
            # the sentences around it often name the subject ("第四十五条 … 按照下列标准：
            # （一）…不低于百分之五十"), and the section path names the document's part
            window = section_tokens.union(*tokens[max(0, position - 1) : position + 2])
            share = sum(weights[t] for t in own & window) / own_total
            if translated:
                crossed = sum(weights[t] for t in translated & window) / translated_total
                crossed += 0.1 * sum(1 for t in phrases if t in sentence)
                share = max(share, min(1.0, crossed))
            slot_ok = holds_slot(sentence, slot)
            in_sentence = len(own & tokens[position]) / (len(own) or 1)
            score = (
                share
                + 0.3 * in_sentence
                + (0.35 if slot is not None and slot_ok else 0.0)
                + 0.25 / (passage.rank + 1)  # retrieval rank: carries cross-language matches
            )
            if not asks_term and _TERM_ROW.match(sentence):
                # "| 职业教育法 | vocational education law |": a glossary row holds the
                # question's words and states nothing about them
                score *= TERM_ROW_WEIGHT
            if damp_other and passage.lang != lang:
                score *= OTHER_LANGUAGE_WEIGHT
            scored.append(Decisive(sentence, passage, position, share, slot_ok, score))
    scored.sort(key=lambda d: d.score, reverse=True)
    return scored, slot


def choose(
    sentences: Sequence[Decisive], max_sentences: int, max_chars: int, relative: float = 0.0
) -> list[Decisive]:
    """The best sentences within the limits, one near-copy at most (overlapping chunks);
    with ``relative``, only those scoring at least that share of the best score."""
    chosen: list[Decisive] = []
    used = 0
    floor = relative * sentences[0].score if sentences else 0.0
    for d in sentences:
        if d.score < floor:
            break
        if len(chosen) >= max_sentences:
            break
        if used + len(d.text) > max_chars and chosen:
            continue
        if any(near_duplicate(d.text, c.text) for c in chosen):
            continue  # the same sentence from two overlapping chunks or two reprints
        chosen.append(d)
        used += len(d.text)
    return chosen


#: a sentence that opens a list: "…行使下列权利：", "…按照下列顺序清偿:", "…the following:"
_LIST_HEAD = re.compile(r"(?:下列|以下|如下|the following)[^。.!?！？]{0,40}[：:]|[：:]\s*$", re.I)
#: an item of a list: （一） (1) 1. 1、 a) - •
_LIST_ITEM = re.compile(
    r"^\s*(?:[（(][一二三四五六七八九十\d]{1,3}[)）]|\d{1,2}[.、)](?!\d)|[a-h][.)]\s|[-•·]\s)"
)
_ARTICLE_START = re.compile(r"^\s*第[零〇一二三四五六七八九十百千两\d]+条")
#: a list is quoted whole up to this many items and characters
MAX_LIST_ITEMS, MAX_LIST_CHARS = 12, 900
#: only the lists of sentences scoring this share of the best are completed
LIST_RELATIVE = 0.75


def _list_span(sentences: Sequence[str], position: int) -> tuple[int, int] | None:
    """The head and the end (exclusive) of the list that the sentence at ``position`` opens or
    belongs to, or None."""
    head = position
    if _LIST_ITEM.match(sentences[position]):
        while head > 0 and _LIST_ITEM.match(sentences[head - 1]):
            head -= 1
        head -= 1  # the sentence before the first item opens the list
        if head < 0:
            return None
    if not _LIST_HEAD.search(sentences[head]):
        return None
    end = head + 1
    while end < len(sentences):
        if _LIST_ITEM.match(sentences[end]):
            end += 1
        elif (
            end > head + 1
            and end + 1 < len(sentences)
            and _LIST_ITEM.match(sentences[end + 1])
            and not _LIST_HEAD.search(sentences[end])  # the next list ("…下列义务：（一）")
            and not _ARTICLE_START.match(sentences[end])
        ):
            end += 1  # an item's second sentence: the list goes on after it
        else:
            break
    return (head, end) if end > head + 1 else None


def complete_lists(
    chosen: Sequence[Decisive],
    max_items: int = MAX_LIST_ITEMS,
    max_chars: int = MAX_LIST_CHARS,
) -> list[Decisive]:
    """``chosen`` with every list it quotes in part quoted whole: the head and each item in the
    passage's order. A law's "下列权利：（一）…（七）" answers "哪些"; its first item alone
    answers nothing. Items beyond the limits are left out (the passage is cited). Only the
    lists of the close seconds of the best sentence are completed."""
    out = list(chosen)
    have = {(d.passage.chunk_id, d.position) for d in chosen}
    done: set[tuple[str, int]] = set()
    floor = LIST_RELATIVE * max((d.score for d in chosen), default=0.0)
    split: dict[str, list[str]] = {}  # per passage, split once however many of it are chosen
    for d in chosen:
        if d.score < floor:
            continue  # a weaker sentence's list ("…应当履行下列义务：") is not the answer
        if d.passage.chunk_id not in split:
            split[d.passage.chunk_id] = split_sentences(d.passage.text)
        sentences = split[d.passage.chunk_id]
        if d.position >= len(sentences):
            continue
        span = _list_span(sentences, d.position)
        if span is None or (d.passage.chunk_id, span[0]) in done:
            continue
        done.add((d.passage.chunk_id, span[0]))
        used = 0
        for position in range(span[0], min(span[1], span[0] + 1 + max_items)):
            text = sentences[position]
            used += len(text)
            if used > max_chars:
                break
            if (d.passage.chunk_id, position) in have:
                continue
            if not quotable(text) or any(near_duplicate(text, o.text) for o in out):
                continue  # text addressed to an assistant; the same item from an overlap copy
            have.add((d.passage.chunk_id, position))
            out.append(Decisive(text, d.passage, position, 0.0, d.slot_ok, 0.0))
    return out


def assess_support(
    question: str,
    sentences: Sequence[Decisive],
    slot: str | None,
    lang: str,
    glossary: Glossary,
) -> Support:
    """Does a sentence state the answer? See the module docstring."""
    candidates = [d for d in sentences if d.slot_ok]
    best = max((d.share for d in candidates), default=0.0)
    threshold = MIN_SHARE if slot is not None else MIN_SHARE_OPEN
    # the specifics against every retrieved passage (text and section path): a question of two
    # parts ("2022年一季度中国和美国的…") names things that different passages state; checking
    # only the best sentences' passages refused 4 of RGB's answerable questions
    passages = {d.passage.chunk_id: d.passage for d in sentences}.values()
    parts = [p for p in _PARTS.split(question.strip()) if len(content_terms(p)) >= 2]
    if best < threshold and len(parts) > 1:
        # a question of several parts ("…约定哪些事项？要防哪些风险？"): a sentence that
        # answers one part holds that part's terms, not the whole question's
        for part in parts:
            ranked, _ = decisive_sentences(
                part, list(passages), lang, glossary.translate_terms(part, lang)
            )
            best = max(best, max((d.share for d in ranked if d.slot_ok), default=0.0))
    evidence = "\n".join(f"{p.section}\n{p.text}" for p in passages)
    names = "\n".join(p.source for p in passages)
    missing = []
    names_a_document = bool(_DOCUMENT_WORD.search(question))
    for item in specifics(question, lang, glossary):
        if YEAR.fullmatch(item):
            # a year only in a file name is not evidence, unless the question names a
            # document by its year ("the 2021 Science and Technology Progress Law")
            if not specific_present(item, evidence) and not (
                names_a_document and specific_present(item, names)
            ):
                missing.append(item)
        elif not specific_present(item, evidence) and not specific_present(item, names):
            missing.append(item)
    return Support(
        supported=best >= threshold and not missing,
        slot=slot,
        sentences=list(sentences),
        missing=missing,
        best_share=best,
    )
