"""What a policy document is, read from the document itself: its full title, issuer, 文号,
level (national, provincial, municipal, college), region and dates (adopted, revised,
effective).

Sources, first found wins per field:

* front matter (``title:``, ``issuer:``, ``doc_number:``, ``level:``, ``region:``,
  ``adopted:``, ``revised:``, ``effective:``), which an author sets on purpose;
* the enactment history of a law file (LawRefBook's lines before ``<!-- INFO END -->``):
  "2017年4月20日 上海市第十四届人民代表大会常务委员会第三十七次会议通过" gives the adoption date
  and the issuer (the body, without its term "第十四届"); a line that ends in 修订 or 修正 a
  revision (the latest is kept); a line with 施行 the effective date;
* the first lines of the text (a PDF's or a Word file's): a 文号 such as 国办发〔2017〕95号,
  "自2022年5月1日起施行";
* the title and the file name.

A summary of other documents (front matter ``summary: true``: the starter corpus's policy
landscape) takes none of the 文号, dates or level it mentions: it is not those documents, and
its citations are never labelled as their official text.

The level and region follow from the title and issuer: 中华人民共和国…, 全国人大, 国务院 and its
ministries are national; a province, autonomous region or one of the four municipalities
directly under the central government is provincial; another 市 is municipal; a college's own
rules are ``college``. An administrator can correct any field (``kb edit``, the
knowledge-base page).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from textrules import HAN, ZH_NUMERAL

LEVELS = ("national", "provincial", "municipal", "college", "other")
STATUSES = ("current", "superseded", "unknown")
#: the fields an administrator may set (``kb edit``), besides status and superseded_by
EDITABLE = ("title", "issuer", "doc_number", "level", "region", "adopted", "revised", "effective")

PROVINCES = (
    "北京市",
    "天津市",
    "上海市",
    "重庆市",
    "河北省",
    "山西省",
    "辽宁省",
    "吉林省",
    "黑龙江省",
    "江苏省",
    "浙江省",
    "安徽省",
    "福建省",
    "江西省",
    "山东省",
    "河南省",
    "湖北省",
    "湖南省",
    "广东省",
    "海南省",
    "四川省",
    "贵州省",
    "云南省",
    "陕西省",
    "甘肃省",
    "青海省",
    "台湾省",
    "内蒙古自治区",
    "广西壮族自治区",
    "西藏自治区",
    "宁夏回族自治区",
    "新疆维吾尔自治区",
    "香港特别行政区",
    "澳门特别行政区",
)
_NATIONAL_ISSUER_RE = re.compile(
    rf"^(?:全国人民代表大会|国务院|中共中央|中华人民共和国|国家[{HAN}]{{1,12}}(?:部|委员会|局|署))"
    r"|^(?:教育部|财政部|科学技术部|工业和信息化部|人力资源和社会保障部)"
)
_CITY = re.compile(rf"^([{HAN}]{{2,6}}?市)")
_COLLEGE = re.compile(r"(?:学院|学校|大学)")
_HISTORY_LINE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*(.*)$")
_TERM = re.compile(f"第[{ZH_NUMERAL}]+届")
_MEETING = re.compile(f"第[{ZH_NUMERAL}]+次(?:全体)?会议.*$")
_DOC_NUMBER = re.compile(rf"[{HAN}]{{1,10}}[〔［\[（(]\d{{4}}[〕］\]）)]\s*\d{{1,4}}\s*号")
_EFFECTIVE = re.compile(r"自\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日起施行")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_STARTS = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日起?施行")
#: a history clause about the revision that replaced this version, not about this version
_LAPSED = re.compile(
    r"本(?:版本|版|法|条例|办法|规定|决定|细则)[^，。；]{0,6}?(?:随之|同时)?(?:失效|废止)"
)
_STEM_DATE = re.compile(r"[（(]\d{4}-\d{2}-\d{2}[)）]$")


@dataclass(slots=True)
class DocumentMeta:
    title: str
    issuer: str = ""
    doc_number: str = ""
    level: str = "other"
    region: str = ""
    adopted: str | None = None
    revised: str | None = None
    effective: str | None = None
    status: str = "unknown"
    superseded_by: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)


def check_fields(fields: Mapping[str, str | None]) -> dict[str, str | None]:
    """Validate fields an administrator sets; raise ``ValueError`` with what is wrong."""
    out: dict[str, str | None] = {}
    for key, value in fields.items():
        if key not in (*EDITABLE, "status", "superseded_by"):
            raise ValueError(f"unknown field {key!r}")
        value = (value or "").strip() or None
        if key == "level" and value not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}")
        if key == "status" and value not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        if key in ("adopted", "revised", "effective") and value and not _ISO.match(value):
            raise ValueError(f"{key} must be a date as YYYY-MM-DD (or empty)")
        if key == "title" and not value:
            raise ValueError("a document needs a title")
        out[key] = value
    return out


def extract_metadata(
    *, title: str, meta: Mapping[str, str], text_head: str, file_stem: str, kind: str
) -> DocumentMeta:
    """The document's metadata from its front matter (``meta``), enactment history
    (``meta["history"]``), the first lines of its text and its names."""
    doc = DocumentMeta(title=_full_title(meta.get("title") or title, file_stem))
    adopted_body = ""
    for clause in _history_clauses(meta.get("history") or ""):
        found = _HISTORY_LINE.match(clause)
        if not found:
            continue
        date = f"{int(found[1]):04d}-{int(found[2]):02d}-{int(found[3]):02d}"
        body, _, rest = found[4].strip().partition("，")
        if _LAPSED.search(found[4]):
            continue  # a later revision this version gave way to ("…本版本随之失效")
        if body.endswith("通过") and doc.adopted is None:
            doc.adopted, adopted_body = date, body
        elif body.endswith(("修订", "修正")):
            doc.revised = max(doc.revised or date, date)
            starts = _STARTS.search(rest)  # "…修订，2022年5月1日起施行"
            if starts:
                doc.effective = _iso(starts)
        elif "施行" in body:
            doc.effective = date
    doc.issuer = _issuer(adopted_body)
    head = text_head[:800]
    # a summary of other documents (front matter "summary: true", the starter corpus's policy
    # landscape) mentions their 文号 and dates: none of them is its own
    summary = (meta.get("summary") or "").strip().lower() in ("true", "yes", "1")
    number = None if summary else _DOC_NUMBER.search(head)
    if number:
        doc.doc_number = re.sub(r"\s+", "", number.group())
    if doc.effective is None and not summary:
        starts = _EFFECTIVE.search(text_head)
        if starts:
            doc.effective = f"{int(starts[1]):04d}-{int(starts[2]):02d}-{int(starts[3]):02d}"
    doc.level, doc.region = (
        ("other", "") if summary else _level_and_region(doc.title, doc.issuer, kind)
    )
    for key in EDITABLE:  # front matter wins: its author meant it
        value = (meta.get(key) or "").strip()
        if key in ("adopted", "revised", "effective") and value and not _ISO.match(value):
            continue  # "2024/03/01" is no ISO date: the text's own date stands
        if value and key != "title":
            setattr(doc, key, value)
    if doc.level not in LEVELS:
        doc.level = "other"
    return doc


def _history_clauses(history: str) -> list[str]:
    """A law's history lines, each split at "；" into its dated clauses."""
    return [
        c.strip() for line in history.splitlines() for c in re.split("[；;]", line) if c.strip()
    ]


def _iso(found: re.Match[str]) -> str:
    return f"{int(found[1]):04d}-{int(found[2]):02d}-{int(found[3]):02d}"


def _full_title(title: str, file_stem: str) -> str:
    title = title.strip().lstrip("#").strip()
    if title:
        return title
    return _STEM_DATE.sub("", file_stem).strip() or file_stem


def _issuer(adopted_body: str) -> str:
    """The adoption line's body without its meeting and term: "上海市第十四届人民代表大会常务
    委员会第三十七次会议通过" → "上海市人民代表大会常务委员会"."""
    if not adopted_body:
        return ""
    body = _MEETING.sub("", adopted_body)
    return _TERM.sub("", body).strip()


def _level_and_region(title: str, issuer: str, kind: str) -> tuple[str, str]:
    names = (issuer, title)
    if title.startswith("中华人民共和国") or any(_NATIONAL_ISSUER_RE.match(n) for n in names if n):
        return "national", ""
    for name in names:
        for province in PROVINCES:
            if name.startswith(province):
                return "provincial", province
    for name in names:
        city = _CITY.match(name)
        if city:  # 吉林市 is a city of 吉林省: the full name decides
            return "municipal", city.group(1)
    for name in names:
        for province in PROVINCES:  # "浙江…条例" without 省
            if name.startswith(province.removesuffix("省").removesuffix("市")):
                return "provincial", province
    if kind == "plan" or any(_COLLEGE.search(n) for n in names if n):
        return "college", ""
    return "other", ""
