"""Figures in an answer must come from the evidence.

Policy advice lives on its numbers (a 50 % reward, a 15-day notice, a fine of 10,000 to 50,000
yuan, the year 2011), and a small model is most tempted to invent exactly those. This module
reads the numeric values written in Arabic digits, Chinese numerals (十五日, 百分之七十, 一万元)
and English number words (thirty days, fifty thousand), so that a figure stated in one form in
the answer is matched against the same value in another form in the evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from advisor.citations import strip_markers

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10_000, "亿": 100_000_000}
_CN_RUN = re.compile(r"[零〇一二两三四五六七八九十百千万亿]+")
# 1,000 / 10000 / 2.5 / 50%; a digit run glued to letters (e.g. "e5", "GB18030") is a name
_ARABIC = re.compile(r"(?<![A-Za-z\d.])\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![A-Za-z\d.,])\d+(?:\.\d+)?")
_ARABIC_WAN = re.compile(r"(\d+(?:\.\d+)?)\s*(万|亿)")

_EN_SMALL = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_EN_SCALE = {"hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}
_EN_WORD = "|".join(sorted([*_EN_SMALL, *_EN_SCALE], key=len, reverse=True))
_EN_RUN = re.compile(rf"\b(?:{_EN_WORD})(?:[\s-]+(?:and[\s-]+)?(?:{_EN_WORD}))*\b", re.I)

# citation markers and list labels are not figures
_LIST_LABEL = re.compile(r"^\s*(?:\d{1,2}[.)、]|[（(]\d{1,2}[)）])\s*", re.M)
# ordinal words in Chinese (第一, 其一, 一是, 之一) carry no figure
_CN_ORDINAL = re.compile(
    r"第[零〇一二两三四五六七八九十百千]+(?![零〇一二两三四五六七八九十百千条款项章节编])"
    r"|[一二三四五六七八九十]是|之一|其[一二三四五]"
)
_CN_HAS_DIGIT = re.compile(r"[零〇一二两三四五六七八九]")


def _chinese_value(run: str) -> int | None:
    if len(run) > 18:  # no figure is written with so many numerals (and int() would refuse)
        return None
    if all(ch in _CN_DIGITS for ch in run):  # digit by digit: 二〇一一 -> 2011
        return int("".join(str(_CN_DIGITS[ch]) for ch in run)) if len(run) > 1 else _CN_DIGITS[run]
    total, section, digit = 0, 0, None
    for ch in run:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            section += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
        elif ch in _CN_BIG:
            section += digit or 0
            total += (section or 1) * _CN_BIG[ch]
            section, digit = 0, None
    return total + section + (digit or 0)


def _english_value(run: str) -> int:
    total, current = 0, 0
    for word in re.split(r"[\s-]+", run.lower()):
        if word == "and":
            continue
        if word in _EN_SMALL:
            current += _EN_SMALL[word]
        elif word == "hundred":
            current = (current or 1) * 100
        else:
            total += (current or 1) * _EN_SCALE[word]
            current = 0
    return total + current


def _number(value: float) -> float:
    return round(value, 4)


def figures(text: str) -> set[float]:
    """The numeric values written in ``text``, whatever the notation."""
    text = strip_markers(text, " ")
    text = _LIST_LABEL.sub(" ", text)
    found: set[float] = set()
    for match in _ARABIC_WAN.finditer(text):  # 5万 -> 50000
        found.add(_number(float(match.group(1)) * _CN_BIG[match.group(2)]))
    text = _ARABIC_WAN.sub(" ", text)
    for match in _ARABIC.finditer(text):
        found.add(_number(float(match.group().replace(",", ""))))
    text = text.replace("百分之", " ").replace("千分之", " ")  # 百分之七十 -> 70
    scanned = _CN_ORDINAL.sub(" ", text)
    for match in _CN_RUN.finditer(scanned):
        if not _CN_HAS_DIGIT.search(match.group()) and not (
            _BARE_MAGNITUDE.fullmatch(match.group())
            and scanned[match.end() : match.end() + 1] in _COUNTED
        ):
            continue  # 十分, 千万 (by all means), 万一: words, not figures; 十万元 is one
        value = _chinese_value(match.group())
        if value is not None:
            found.add(_number(value))
    for match in _EN_RUN.finditer(text):
        found.add(_number(_english_value(match.group())))
    return found


#: values too small to police: counts like "two ways", "three parties" are written freely
SMALL = 10


def known_figures(evidence: Iterable[str]) -> set[float]:
    """Every value the evidence texts state (parse once, check many claims against it)."""
    known: set[float] = set()
    for text in evidence:
        known |= figures(text)
    return known


def unsupported_figures(
    claim: str, evidence: Iterable[str] | set[float], small: float = SMALL
) -> set[float]:
    """Values in ``claim`` above ``small`` that no evidence text contains; ``evidence`` may be
    the texts or their ``known_figures``. A question asking how many lowers ``small`` to 1:
    then the count is the answer and "10 pilot cities" needs a passage that says 10."""
    known = evidence if isinstance(evidence, set) else known_figures(evidence)
    return {v for v in figures(claim) if v > small and v not in known}


# ---- figures of a Chinese sentence, written for an English answer --------------------------

_NUM_CN = r"\d[\d,，.]*|[零〇一二两三四五六七八九十百千万亿]+"
_UNITS_EN = {
    "个工作日": ("working day", "working days"),
    "工作日": ("working day", "working days"),
    "日": ("day", "days"),
    "天": ("day", "days"),
    "周": ("week", "weeks"),
    "个月": ("month", "months"),
    "年": ("year", "years"),
    "小时": ("hour", "hours"),
    "学时": ("class hour", "class hours"),
    "元": ("yuan", "yuan"),
    "万元": ("yuan", "yuan"),
    "亿元": ("yuan", "yuan"),
    "倍": ("times", "times"),
    "名": ("person", "people"),
    "人": ("person", "people"),
    "章": ("chapter", "chapters"),
    "条": ("article", "articles"),
}
_UNIT_RE = "|".join(sorted(map(re.escape, _UNITS_EN), key=len, reverse=True))
_AMOUNT = re.compile(
    rf"(?P<a>{_NUM_CN})\s*(?P<ua>{_UNIT_RE})?\s*(?:以上|至|到|-|—|～|~)\s*"
    rf"(?P<b>{_NUM_CN})\s*(?P<ub>{_UNIT_RE})(?:以下|以内)?"
    rf"|(?P<c>{_NUM_CN})\s*(?P<uc>{_UNIT_RE})(?P<rel>以上|以下|以内)?"
)
_PERCENT_CN = re.compile(rf"百分之(?P<p>{_NUM_CN})|(?P<q>\d+(?:\.\d+)?)\s*[%％]")
_DATE_CN = re.compile(
    r"(?P<y>\d{4}|[〇零一二三四五六七八九]{4})\s*年\s*(?P<m>\d{1,2}|[一二三四五六七八九十]{1,2})\s*月"
    r"(?:\s*(?P<d>\d{1,2}|[一二三四五六七八九十]{1,3})\s*日)?"
)
_YEAR_DIGITS = r"(?:1[89]|20)\d\d|[〇零一二][〇零一二三四五六七八九]{3}"
#: the start of a period ("自2011年起", "2015年以来"): a year an English answer must give
_SINCE_YEAR = re.compile(
    rf"(?:自|从)\s*(?P<y>{_YEAR_DIGITS})\s*年\s*(?:起|以来|开始)?"
    rf"|(?P<z>{_YEAR_DIGITS})\s*年\s*(?:起|以来)"
)
_ARTICLE_CN = re.compile(r"第([零〇一二两三四五六七八九十百千\d]+)([条章款项])")
_PART_EN = {"条": "Article", "章": "Chapter", "款": "Paragraph", "项": "Item"}
_MONTHS = "January February March April May June July August September October November December"
_REL_EN = {"以上": "at least ", "以下": "at most ", "以内": "within "}


#: what an amount in 万元 or 亿元 is multiplied by to be given in yuan
_SCALE = {"万元": 10_000, "亿元": 100_000_000}
_BARE_MAGNITUDE = re.compile(r"[十百千][十百千万亿]*")
#: what a figure without a digit character (十万, 百万) must be followed by to be one
_COUNTED = frozenset("元人名个家项所台")


def _value(text: str) -> float | None:
    text = text.replace(",", "").replace("，", "")
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    # 十, 百 and 十万, 千万 are numbers without a digit character; 万 or 亿 alone (数万元) is not
    if not _CN_HAS_DIGIT.search(text) and not _BARE_MAGNITUDE.fullmatch(text):
        return None
    value = _chinese_value(text)
    return None if value is None else float(value)


def _en_number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,}"


def english_figures(sentence: str) -> list[tuple[str, str]]:
    """The dates, amounts, periods and shares of a Chinese sentence as an English answer
    writes them, each with the Chinese it renders: ("10,000 to 50,000 yuan",
    "一万元以上五万元以下"), ("15 days", "十五日"), ("1 May 2022", "2022年5月1日"), ("50 %",
    "百分之五十"). Figures an English reader cannot take from the Chinese text."""
    text = strip_markers(sentence, " ")
    found: list[tuple[int, str, str]] = []
    taken: list[tuple[int, int]] = []

    def free(span: tuple[int, int]) -> bool:
        return not any(a < span[1] and span[0] < b for a, b in taken)

    for m in _ARTICLE_CN.finditer(text):
        v = _value(m.group(1))
        if v is not None:
            found.append((m.start(), f"{_PART_EN[m.group(2)]} {_en_number(v)}", m.group()))
        taken.append(m.span())
    for m in _CN_ORDINAL.finditer(text):  # 第一, 一是: no figure
        taken.append(m.span())

    for m in _DATE_CN.finditer(text):
        y, mo = _value(m.group("y")), _value(m.group("m"))
        if y is None or mo is None or not 1 <= mo <= 12:
            continue
        day = _value(m.group("d")) if m.group("d") else None
        month = _MONTHS.split()[int(mo) - 1]
        english = f"{int(day)} {month} {int(y)}" if day else f"{month} {int(y)}"
        found.append((m.start(), english, m.group()))
        taken.append(m.span())
    for m in _SINCE_YEAR.finditer(text):
        year = _value(m.group("y") or m.group("z"))
        if year is None or not free(m.span()):
            continue
        found.append((m.start(), f"since {int(year)}", m.group().strip()))
        taken.append(m.span())
    for m in _PERCENT_CN.finditer(text):
        if not free(m.span()):
            continue
        v = _value(m.group("p") or m.group("q"))
        if v is not None:
            found.append((m.start(), f"{_en_number(v)}%", m.group()))
            taken.append(m.span())
    for m in _AMOUNT.finditer(text):
        if not free(m.span()):
            continue
        if m.group("c"):
            v, unit = _value(m.group("c")), m.group("uc")
            if v is None or (unit == "年" and v >= 1900):
                continue  # 2022年 is a date
            scale = _SCALE.get(unit, 1)
            one, many = _UNITS_EN[unit]
            rel = _REL_EN.get(m.group("rel") or "", "")
            english = f"{rel}{_en_number(v * scale)} {one if v == 1 else many}"
        else:
            a, b = _value(m.group("a")), _value(m.group("b"))
            unit = m.group("ub")
            if a is None or b is None or (unit == "年" and b >= 1900):
                continue
            scale = _SCALE.get(unit, 1)
            scale_a = _SCALE.get(m.group("ua") or unit, 1)
            english = f"{_en_number(a * scale_a)} to {_en_number(b * scale)} {_UNITS_EN[unit][1]}"
        found.append((m.start(), english, m.group().strip()))
        taken.append(m.span())
    return [(english, chinese) for _, english, chinese in sorted(found)]
