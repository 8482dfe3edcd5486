"""Structure-aware chunking of Chinese policy / legal text and English prose.

The document is first cut into *units* at its structure: Markdown headings, 第X编/章/节, Chinese
list headings (一、 （一） …), English numbered and ALL-CAPS headings, and articles (第X条). A
unit is one heading's own text, or one article. A chunk never spans two units, so it never
straddles two articles, and each chunk carries its unit's section path
(``第四章 高等学校的组织和活动 > 第四十条``). A heading with no text of its own (a chapter heading
directly followed by its first article) is carried into the next unit's first chunk, so a
heading always stays with the text below it.

A unit that is too long for one chunk is cut into pieces at the coarsest boundary that works:
paragraphs (and list items), then sentence ends (。！？ . ! ?), then ；： , then ，、 , then
spaces, and only as the very last resort inside a run of characters. Pieces are packed
greedily into chunks of about equal size, and each chunk after the first starts with the tail
of the previous one (``overlap_tokens``, on a sentence boundary when possible).

Token counts: the model's tokenizer costs ~0.4 µs per Chinese and ~1.7 µs per English
character, so counting every candidate would dominate the run time. Packing decisions use an
estimate from character classes, calibrated on the document by the real counts; every emitted
chunk is then counted once for real, and a chunk that is over the limit is shrunk and counted
again. No chunk over ``max_tokens`` is ever emitted.

Chunk texts are exact slices of the document text (pages joined with ``"\\n"``), stripped of
surrounding whitespace, so quotes can be checked against them. The section path is *not* in
the text; the pipeline adds it where retrieval needs it.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from ingest.lang import count_han, detect_lang
from ingest.types import Chunk, Page, ScreenedDocument
from textrules import HAN, ZH_NUMERAL

TokenCounter = Callable[[str], int]

SECTION_SEPARATOR = " > "
PAGE_SEPARATOR = "\n"
# Section labels are shown to retrieval and to people; a wrapped English heading can run to
# two lines, and anything longer than this is body text mistaken for a heading anyway.
MAX_LABEL_CHARS = 100
# The smallest useful room for text in a chunk once the model's special tokens are paid for.
MIN_TEXT_TOKENS = 16


@dataclass(frozen=True, slots=True)
class ChunkSpan:
    """Where a chunk's text sits in the joined document text: ``text[start:end]``."""

    start: int
    end: int
    section: str


def chunk_document(
    doc: ScreenedDocument,
    *,
    max_tokens: int,
    overlap_tokens: int,
    count_tokens: TokenCounter,
) -> list[Chunk]:
    """Cut a screened document into retrievable chunks, in document order.

    ``count_tokens`` is the embedding model's own counter (special tokens included); no chunk's
    text has more than ``max_tokens`` by it. ``page`` is the page where the chunk's first
    character is (None for formats without pages).
    """
    text, page_starts = join_pages(doc.pages)
    spans = plan_chunks(
        text, max_tokens=max_tokens, overlap_tokens=overlap_tokens, count_tokens=count_tokens
    )
    chunks: list[Chunk] = []
    for index, span in enumerate(spans):
        chunk_text = text[span.start : span.end]
        page = doc.pages[bisect.bisect_right(page_starts, span.start) - 1].number
        breaks = tuple(
            (start - span.start, number)
            for start, number in zip(page_starts, (p.number for p in doc.pages), strict=True)
            if span.start < start < span.end and number is not None
        )
        chunks.append(
            Chunk(
                text=chunk_text,
                page=page,
                section=span.section,
                lang=detect_lang(chunk_text),
                index=index,
                page_breaks=breaks,
            )
        )
    return chunks


def join_pages(pages: Sequence[Page]) -> tuple[str, list[int]]:
    """The document as one text, and the offset where each page starts in it.

    Pages are joined with a newline so that an article continuing on the next page stays one
    unit, while a marker at the top of a page still starts a line.
    """
    starts: list[int] = []
    offset = 0
    for page in pages:
        starts.append(offset)
        offset += len(page.text) + len(PAGE_SEPARATOR)
    return PAGE_SEPARATOR.join(page.text for page in pages), starts


def plan_chunks(
    text: str,
    *,
    max_tokens: int,
    overlap_tokens: int,
    count_tokens: TokenCounter,
) -> list[ChunkSpan]:
    """Chunk boundaries for ``text``; see :func:`chunk_document`."""
    overhead = count_tokens("")
    if max_tokens - overhead < MIN_TEXT_TOKENS:
        raise ValueError(
            f"max_tokens={max_tokens} leaves fewer than {MIN_TEXT_TOKENS} tokens for text "
            f"(the model adds {overhead} special tokens)"
        )
    if not 0 <= overlap_tokens <= (max_tokens - overhead) // 2:
        raise ValueError(f"overlap_tokens={overlap_tokens} must be in [0, max_tokens / 2]")
    sections = _merge_lone_headings(text, _OutlineScanner(text).scan())
    planner = _Planner(text, max_tokens, overlap_tokens, count_tokens, overhead)
    return planner.plan(sections)


# --------------------------------------------------------------------------- structure

_ZH_NUMERAL = ZH_NUMERAL
_HAN = HAN
_WS_RUN = re.compile(r"\s+")
_SPACE_BETWEEN_HAN = re.compile(rf"(?<=[{_HAN}]) (?=[{_HAN}])")

_MD_HEADING_RE = re.compile(r" {0,3}(#{1,6})(?:[ \t]+|(?=[^\x00-\x7f]))(.*?)(?:[ \t]+#+)?[ \t]*")
_FENCE_RE = re.compile(r"(```|~~~)")
_ARTICLE_RE = re.compile(rf"\**(第[{_ZH_NUMERAL}]+条(?:之[一二三四五六七八九十]+)?)\**(.?)")
# What follows 条 when "第三十条" is a reference that a hard line wrap put at a line start
# ("第三十条规定的…", "第二十条第二款"), not an article heading.
_ARTICLE_REFERENCE_FOLLOWERS = frozenset("的规至、，,和或中所及与款项第（(之。；")
_ZH_DIVISION_RE = re.compile(rf"\**(第[{_ZH_NUMERAL}]+(分编|编|部分|章|节))\**(.*)")
_ZH_DIVISION_DEPTH = {"编": 1, "部分": 1, "分编": 2, "章": 3, "节": 4}
_ZH_LIST_HEADING_RE = re.compile(
    r"(?:(?P<d1>[一二三四五六七八九十]+)[、．.]"
    r"|(?P<d2>[（(][一二三四五六七八九十]+[）)])"
    rf"|(?P<d3>\d{{1,2}}[、．.](?=\s*[{_HAN}]))"
    r"|(?P<d4>[（(]\d{1,2}[）)]))"
)
_ZH_LIST_MAX_CHARS = 40
_ZH_HEADING_FORBIDDEN = re.compile(r"[。；！？，;!?]")
_EN_NUMBERED_RE = re.compile(r"(\d{1,2}(?:\.\d{1,2}){0,3})(\.?)[ \t]+([A-Z].*)")
_EN_HEADING_MAX_WORDS = 20
_EN_HEADING_MAX_CHARS = 160
_CAPS_LINE_RE = re.compile(r"[A-Z0-9][A-Z0-9 ,:&'’()\-–—/.]*")
_CAPS_MAX_WORDS = 10
# A line ending like this closes its sentence, so the next line may start a heading.
_CLOSING_CHARS = tuple("。！？；：.!?;:”’\"')）】」』")


@dataclass(frozen=True, slots=True)
class _Heading:
    label: str
    # (scheme, depth) pairs: a heading can be "## 第一章 总则", i.e. Markdown level 2 *and*
    # chapter; a new heading closes every open heading of the same scheme at its depth or deeper.
    ranks: tuple[tuple[str, int], ...]
    end: int  # end offset of the heading text (a wrapped English heading spans two lines)
    next_line: int  # index of the first line after the heading


@dataclass(frozen=True, slots=True)
class _Article:
    label: str


@dataclass(frozen=True, slots=True)
class _Unit:
    start: int
    head_end: int  # end of the heading line(s); == start when the unit has no heading
    end: int
    path: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Section:
    """A unit to chunk, with the lone headings carried into it (``sticky`` spans)."""

    start: int
    end: int
    body_start: int
    path: tuple[str, ...]
    sticky: tuple[tuple[int, int], ...]


def _normalize_label(raw: str) -> str:
    label = _WS_RUN.sub(" ", raw.strip().strip("*").strip())
    # "总 则" in a chapter title is typesetting, not two words.
    label = _SPACE_BETWEEN_HAN.sub("", label)
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def _split_lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line, ``end`` before the newline."""
    spans: list[tuple[int, int]] = []
    start = 0
    for line in text.split("\n"):
        spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


def _zh_division(stripped: str) -> tuple[str, int] | None:
    """(label, depth) for 第X编/分编/部分/章/节 headings."""
    match = _ZH_DIVISION_RE.fullmatch(stripped)
    if match is None:
        return None
    marker, kind, rest = match.group(1), match.group(2), match.group(3)
    title = rest.strip().strip("*").strip()
    if title:
        separated = rest[:1].isspace()
        too_long = len(title) > (40 if separated else 20)
        # Without a space, "第三章规定的…" is a wrapped reference, not a heading.
        looks_like_reference = not separated and title[0] in _ARTICLE_REFERENCE_FOLLOWERS
        if too_long or looks_like_reference or _ZH_HEADING_FORBIDDEN.search(title):
            return None
    label = marker + (" " + _normalize_label(title) if title else "")
    return label, _ZH_DIVISION_DEPTH[kind]


def _zh_list_depth(stripped: str) -> int | None:
    """Depth of a short Chinese list heading such as 一、总体要求 or （二）基本原则."""
    match = _ZH_LIST_HEADING_RE.match(stripped)
    if match is None or match.end() >= len(stripped):
        return None
    if len(stripped) > _ZH_LIST_MAX_CHARS or _ZH_HEADING_FORBIDDEN.search(stripped):
        return None
    for depth, group in enumerate(("d1", "d2", "d3", "d4"), start=1):
        if match.group(group):
            return depth
    return None


def _article_label(stripped: str, prev_closed: bool) -> str | None:
    match = _ARTICLE_RE.match(stripped)
    if match is None:
        return None
    follower = match.group(2)
    if follower == "" or follower.isspace():
        return match.group(1)
    if prev_closed and follower not in _ARTICLE_REFERENCE_FOLLOWERS:
        return match.group(1)  # "第一条为了…" in PDF text that lost the space
    return None


class _OutlineScanner:
    """Walks the lines once, keeping the open headings, and cuts the text into units."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = _split_lines(text)
        # Running headers of PDFs repeat on every page; a real ALL-CAPS heading does not.
        self.caps_lines = Counter(
            stripped
            for stripped in (text[s:e].strip() for s, e in self.lines)
            if stripped and _CAPS_LINE_RE.fullmatch(stripped)
        )

    def scan(self) -> list[_Unit]:
        units: list[_Unit] = []
        stack: list[_Heading] = []
        article: str | None = None
        unit_start, head_end = 0, 0
        path: tuple[str, ...] = ()
        prev_closed, in_fence = True, False
        index = 0
        while index < len(self.lines):
            start, end = self.lines[index]
            line = self.text[start:end].rstrip("\r")
            stripped = line.strip()
            index += 1
            if not stripped:
                prev_closed = True
                continue
            if _FENCE_RE.match(stripped):
                in_fence = not in_fence
                continue
            if in_fence:
                continue  # "# comment" in a code block is not a heading
            found = self._classify(line, stripped, index - 1, prev_closed, article is not None)
            prev_closed = stripped.endswith(_CLOSING_CHARS)
            if found is None:
                continue
            if start > unit_start:
                units.append(_Unit(unit_start, head_end, start, path))
            unit_start = start
            if isinstance(found, _Article):
                article = found.label
                head_end = start
                path = (*(h.label for h in stack), article)
            else:
                _open_heading(stack, found)
                article = None
                head_end = found.end
                path = tuple(h.label for h in stack)
                index = found.next_line
                prev_closed = True
        units.append(_Unit(unit_start, head_end, len(self.text), path))
        return units

    def _classify(
        self, line: str, stripped: str, index: int, prev_closed: bool, in_article: bool
    ) -> _Heading | _Article | None:
        end = self.lines[index][1]
        markdown = _MD_HEADING_RE.fullmatch(line)
        if markdown is not None and markdown.group(2).strip():
            return self._markdown_heading(markdown, end, index)
        article = _article_label(stripped, prev_closed)
        if article is not None:
            return _Article(article)
        division = _zh_division(stripped)
        if division is not None:
            label, division_depth = division
            ranks = (("zh", division_depth),)
            title = self._division_title_below(label, index)
            if title is not None:
                next_end = self.lines[index + 1][1]
                return _Heading(f"{label} {title}", ranks, next_end, index + 2)
            return _Heading(label, ranks, end, index + 1)
        if not in_article:  # inside an article, （一）（二） are its items, not headings
            list_depth = _zh_list_depth(stripped)
            if list_depth is not None:
                label = _normalize_label(stripped)
                return _Heading(label, (("zhlist", list_depth),), end, index + 1)
        if prev_closed:
            return self._english_heading(stripped, index)
        return None

    def _division_title_below(self, label: str, index: int) -> str | None:
        """The title of a bare "第一章" whose title a PDF put on the next line ("总则")."""
        if " " in label or index + 1 >= len(self.lines):
            return None
        start, end = self.lines[index + 1]
        title = self.text[start:end].strip()
        if not title or len(title) > 20 or _ZH_HEADING_FORBIDDEN.search(title):
            return None
        if _ARTICLE_RE.match(title) or _ZH_DIVISION_RE.match(title) or title.startswith("#"):
            return None
        if _ZH_LIST_HEADING_RE.match(title) or _MD_HEADING_RE.fullmatch(title):
            return None
        return _normalize_label(title)

    def _markdown_heading(self, match: re.Match[str], end: int, index: int) -> _Heading | _Article:
        level, title = len(match.group(1)), match.group(2).strip().strip("*").strip()
        article = _ARTICLE_RE.match(title)
        if article is not None and (article.group(2) == "" or article.group(2).isspace()):
            return _Article(article.group(1))
        ranks: list[tuple[str, int]] = [("md", level)]
        label = _normalize_label(title)
        division = _zh_division(title)
        if division is not None:
            label = division[0]
            ranks.append(("zh", division[1]))
        elif (depth := _zh_list_depth(title)) is not None:
            ranks.append(("zhlist", depth))
        elif (numbered := _EN_NUMBERED_RE.fullmatch(title)) is not None:
            ranks.append(("en", numbered.group(1).count(".") + 1))
        return _Heading(label, tuple(ranks), end, index + 1)

    def _english_heading(self, stripped: str, index: int) -> _Heading | None:
        end = self.lines[index][1]
        numbered = _EN_NUMBERED_RE.fullmatch(stripped)
        if numbered is not None:
            number, dot, title = numbered.groups()
            depth = number.count(".") + 1
            title = title.rstrip()
            if _is_numbered_heading(number, dot, title, depth, len(stripped)):
                label, end, next_line = self._with_continuation(stripped, title, index)
                return _Heading(label, (("en", depth),), end, next_line)
        if self.caps_lines.get(stripped) == 1 and _is_caps_heading(stripped):
            return _Heading(_normalize_label(stripped), (("en", 1),), end, index + 1)
        return None

    def _with_continuation(self, stripped: str, title: str, index: int) -> tuple[str, int, int]:
        """A PDF wraps long headings; take a lower-case next line as the heading's second line."""
        end = self.lines[index][1]
        if index + 1 >= len(self.lines) or title.endswith(_CLOSING_CHARS):
            return _normalize_label(stripped), end, index + 1
        next_start, next_end = self.lines[index + 1]
        follower = self.text[next_start:next_end].strip()
        if not follower or not follower[0].islower() or len(follower) > 100:
            return _normalize_label(stripped), end, index + 1
        after = ""
        if index + 2 < len(self.lines):
            after_start, after_end = self.lines[index + 2]
            after = self.text[after_start:after_end].strip()
        if after and _EN_NUMBERED_RE.fullmatch(after) is None:
            return _normalize_label(stripped), end, index + 1
        return _normalize_label(stripped + " " + follower), next_end, index + 2


def _is_numbered_heading(number: str, dot: str, title: str, depth: int, length: int) -> bool:
    if length > _EN_HEADING_MAX_CHARS or len(title.split()) > _EN_HEADING_MAX_WORDS:
        return False
    if title.endswith((",", ";", ":")):
        return False
    if depth == 1:
        # "1. Open the file." is a list item; "2019 The year…" is a wrapped line.
        return not title.endswith(".") and (dot == "." or int(number) <= 30)
    return True


def _is_caps_heading(stripped: str) -> bool:
    return (
        len(stripped) <= 80
        and len(stripped.split()) <= _CAPS_MAX_WORDS
        and sum(c.isupper() for c in stripped) >= 3
        and not stripped.endswith((",", ";"))
    )


def _open_heading(stack: list[_Heading], heading: _Heading) -> None:
    """Close the open headings that ``heading`` ends (same scheme, same or deeper), then push."""
    cut = len(stack)
    for scheme, depth in heading.ranks:
        for position, open_heading in enumerate(stack):
            if any(s == scheme and d >= depth for s, d in open_heading.ranks):
                cut = min(cut, position)
                break
    del stack[cut:]
    stack.append(heading)


def _merge_lone_headings(text: str, units: list[_Unit]) -> list[_Section]:
    """Carry headings without text of their own into the next unit that has text.

    Lone headings at the very end come back as a last section with no body
    (``body_start == end``); the planner attaches it to the previous chunk when it fits.
    """
    sections: list[_Section] = []
    pending: list[_Unit] = []
    for position, unit in enumerate(units):
        has_body = not text[unit.head_end : unit.end].isspace() and unit.head_end < unit.end
        lone_title = position == 0 and len(units) > 1 and _is_title_line(text, unit)
        if (unit.head_end > unit.start and not has_body) or lone_title:
            pending.append(unit)
            continue
        if not has_body:
            continue  # whitespace only (e.g. blank lines before the first heading)
        sticky = [(p.start, p.end) for p in pending]
        if unit.head_end > unit.start:
            sticky.append((unit.start, unit.head_end))
        start = pending[0].start if pending else unit.start
        sections.append(_Section(start, unit.end, unit.head_end, unit.path, tuple(sticky)))
        pending = []
    if pending:
        end = pending[-1].end
        trailing = tuple((p.start, p.end) for p in pending)
        sections.append(_Section(pending[0].start, end, end, pending[-1].path, trailing))
    return sections


def _is_title_line(text: str, unit: _Unit) -> bool:
    """A first unit that is one short line without a sentence end, before the first heading
    or article: the document's title (a plain-text file's first line, a PDF's title line).
    It goes with the first section instead of becoming a chunk of its own."""
    if unit.path or unit.head_end > unit.start:
        return False
    body = text[unit.start : unit.end].strip()
    return (
        0 < len(body) <= _TITLE_MAX_CHARS
        and "\n" not in body
        and not body.endswith(_CLOSING_CHARS[:10])
        and not any(mark in body for mark in "。！？，；")
    )


_TITLE_MAX_CHARS = 60


# --------------------------------------------------------------------------- boundaries

# Levels of cut points, coarsest first.
PARAGRAPH, SENTENCE, SEMICOLON, CLAUSE, WORD, CHARACTER = range(6)
_HEADING_LEVEL = -1  # sticky heading pieces

_PARAGRAPH_RE = re.compile(r"\n[ \t\u3000\r\f\v]*\n\s*")
_LIST_ITEM_START_RE = re.compile(
    r"\n[ \t\u3000]*(?=[（(][一二三四五六七八九十\d]+[）)]|[一二三四五六七八九十]+、"
    r"|\d{1,2}[、．.]\D|[①-⑳]|[-*•·]\s)"
)
_SENTENCE_END_RE = re.compile(
    r"(?:[。！？]+|…+|(?P<ascii>[.!?]+))[\"'”’」』）)\]】]*(?P<space>\s*)"
)
_HAN_CHAR_RE = re.compile(rf"[{_HAN}]")
_SEMICOLON_RE = re.compile(r"[；：]\s*|[;:]\s+")
_CLAUSE_RE = re.compile(r"[，、]\s*|,\s+")
_WORD_GAP_RE = re.compile(r"\s+")
# Lower-case words that end with a period without ending the sentence.
_ABBREVIATION_WORDS = (
    "mr mrs ms dr prof sr jr st no nos nr fig figs vs al approx dept est inc ltd co corp art "
    "arts sec vol vols pp cf ed eds rev gen gov jan feb mar apr jun jul aug sep sept oct nov dec "
    "e.g i.e u.s u.k ph.d a.m p.m"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())


def _is_abbreviation(text: str, dot: int) -> bool:
    """Whether the period at ``dot`` belongs to the word before it (e.g. "Dr.", "e.g.", "J.")."""
    begin = dot
    while begin > 0 and not text[begin - 1].isspace() and text[begin - 1] not in "([\"'“‘（":
        begin -= 1
    word = text[begin:dot]
    if not word:
        return False
    if word.lower() in _ABBREVIATIONS:
        return True
    if len(word) == 1 and word.isalpha():
        return True  # an initial: "J. Smith"
    return "." in word and word.replace(".", "").isalpha() and len(word) <= 6


def _sentence_cuts(text: str, start: int, end: int) -> list[int]:
    cuts: list[int] = []
    for match in _SENTENCE_END_RE.finditer(text, start, end):
        cut = match.end()
        if match.group("ascii") is not None:
            if cut >= end:
                continue
            if not match.group("space") and not _HAN_CHAR_RE.match(text, cut):
                continue  # "3.5", "example.com"; but "吗?然后" does end a sentence
            if text[cut].islower():
                continue  # "… approx. three …"
            if match.group("ascii") == "." and _is_abbreviation(text, match.start()):
                continue
        cuts.append(cut)
    return cuts


def _regex_cuts(pattern: re.Pattern[str], text: str, start: int, end: int) -> list[int]:
    return [match.end() for match in pattern.finditer(text, start, end)]


def find_cuts(text: str, start: int, end: int, level: int) -> list[int]:
    """Cut positions of ``level`` strictly inside ``text[start:end]``, ascending.

    A cut is where the next piece starts, so the whitespace after a boundary stays with the
    piece before it and the pieces tile the text.
    """
    if level == PARAGRAPH:
        found = set(_regex_cuts(_PARAGRAPH_RE, text, start, end))
        found.update(m.start() + 1 for m in _LIST_ITEM_START_RE.finditer(text, start, end))
        cuts = sorted(found)
    elif level == SENTENCE:
        cuts = _sentence_cuts(text, start, end)
    elif level == SEMICOLON:
        cuts = _regex_cuts(_SEMICOLON_RE, text, start, end)
    elif level == CLAUSE:
        cuts = _regex_cuts(_CLAUSE_RE, text, start, end)
    elif level == WORD:
        cuts = _regex_cuts(_WORD_GAP_RE, text, start, end)
    else:
        raise ValueError(f"no cut pattern for level {level}")
    return [cut for cut in cuts if start < cut < end]


def _piece_bounds(text: str, start: int, end: int, cuts: list[int]) -> list[int]:
    """``[start, *cuts, end]`` without the cuts that would leave a piece of only whitespace.

    A blank-only piece would let a chunk consist of nothing but its overlap.
    """
    bounds = [start]
    for cut in cuts:
        if not text[bounds[-1] : cut].isspace():
            bounds.append(cut)
    if len(bounds) > 1 and text[bounds[-1] : end].isspace():
        bounds.pop()
    bounds.append(end)
    return bounds


# --------------------------------------------------------------------------- packing


class _TokenEstimator:
    """Guesses a text's token count (without specials) from its characters.

    Base weights are the means measured on the zh_policy corpus and an English paper with the
    e5 tokenizer (Han ~0.55 tokens per character with its punctuation, English ~0.23 per
    non-space character). A correction factor starts a bit above 1, so first guesses err on the
    small side, and then follows the real counts the planner makes anyway, which also adapts it
    to any other ``count_tokens``.
    """

    HAN_WEIGHT = 0.6
    OTHER_WEIGHT = 0.23
    PRIOR_FACTOR = 1.15
    PRIOR_WEIGHT = 300.0  # raw tokens of evidence the prior is worth

    def __init__(self) -> None:
        self._seen_raw = 0.0
        self._seen_real = 0.0
        self.factor = self.PRIOR_FACTOR

    @classmethod
    def raw(cls, text: str) -> float:
        han = count_han(text)
        visible = len(_WS_RUN.sub("", text))
        return cls.HAN_WEIGHT * han + cls.OTHER_WEIGHT * (visible - han)

    def observe(self, raw: float, real_tokens: int) -> None:
        self._seen_raw += raw
        self._seen_real += real_tokens
        self.factor = (self._seen_real + self.PRIOR_FACTOR * self.PRIOR_WEIGHT) / (
            self._seen_raw + self.PRIOR_WEIGHT
        )


@dataclass(slots=True)
class _Piece:
    start: int
    end: int
    level: int  # the level whose cuts produced it (refinement continues below it)
    raw: float
    sticky: bool = False  # a heading line: never the last piece of a chunk with text


class _Planner:
    # Pack to this share of the room by estimate, so that most chunks pass the real count.
    FILL = 0.95
    # Try the real count of a whole unit when its estimate is at most this share of the room.
    WHOLE_UNIT_SLACK = 1.25

    def __init__(
        self,
        text: str,
        max_tokens: int,
        overlap_tokens: int,
        count_tokens: TokenCounter,
        overhead: int,
    ) -> None:
        self.text = text
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens
        self.count_tokens = count_tokens
        self.overhead = overhead
        self.room = max_tokens - overhead  # tokens available for text
        self.estimator = _TokenEstimator()
        self._counts: dict[tuple[int, int], int] = {}

    # ---- helpers over spans of the text

    def _stripped(self, start: int, end: int) -> tuple[int, int] | None:
        segment = self.text[start:end]
        left = len(segment) - len(segment.lstrip())
        if left == len(segment):
            return None
        right = len(segment) - len(segment.rstrip())
        return start + left, end - right

    def _real_tokens(self, span: tuple[int, int]) -> int:
        """Real count without specials, learnt into the estimator."""
        if span not in self._counts:
            count = self.count_tokens(self.text[span[0] : span[1]]) - self.overhead
            self._counts[span] = count
            self.estimator.observe(_TokenEstimator.raw(self.text[span[0] : span[1]]), count)
        return self._counts[span]

    def _estimate(self, start: int, end: int) -> float:
        return self.estimator.factor * _TokenEstimator.raw(self.text[start:end])

    def _cost(self, piece: _Piece) -> float:
        return self.estimator.factor * piece.raw

    def _piece(self, start: int, end: int, level: int, sticky: bool = False) -> _Piece:
        return _Piece(start, end, level, _TokenEstimator.raw(self.text[start:end]), sticky)

    # ---- document

    def plan(self, sections: list[_Section]) -> list[ChunkSpan]:
        spans: list[ChunkSpan] = []
        for section in sections:
            label = SECTION_SEPARATOR.join(section.path)
            if section.body_start >= section.end and spans:
                merged = self._attach_to_previous(spans[-1], section)
                if merged is not None:
                    spans[-1] = merged
                    continue
            spans.extend(ChunkSpan(s, e, label) for s, e in self._chunk_section(section))
        return spans

    def _attach_to_previous(self, previous: ChunkSpan, trailing: _Section) -> ChunkSpan | None:
        """Headings at the very end of the text join the last chunk when there is room."""
        span = self._stripped(previous.start, trailing.end)
        if span is None or self._real_tokens(span) > self.room:
            return None
        return ChunkSpan(span[0], span[1], previous.section)

    # ---- one section

    def _chunk_section(self, section: _Section) -> Iterator[tuple[int, int]]:
        whole = self._stripped(section.start, section.end)
        if whole is None:
            return
        room = self.room
        if (
            self._estimate(*whole) <= self.WHOLE_UNIT_SLACK * room
            and self._real_tokens(whole) <= room
        ):
            yield whole
            return
        pieces = deque(self._initial_pieces(section))
        target = self._balanced_target(pieces)
        overlap: int | None = None  # where the next chunk starts, inside the previous one
        while pieces:
            taken, overlap = self._fill(pieces, overlap, target)
            span = self._fit(taken, pieces, overlap)
            if span is None:
                overlap = None
                continue
            yield span
            overlap = self._next_overlap(taken, span, pieces) if pieces else None

    def _initial_pieces(self, section: _Section) -> list[_Piece]:
        pieces = [self._piece(s, e, _HEADING_LEVEL, sticky=True) for s, e in section.sticky]
        body_start, end = section.body_start, section.end
        if body_start < end:
            cuts = find_cuts(self.text, body_start, end, PARAGRAPH)
            bounds = _piece_bounds(self.text, body_start, end, cuts)
            pieces.extend(self._piece(a, b, PARAGRAPH) for a, b in itertools.pairwise(bounds))
        return pieces

    def _balanced_target(self, pieces: deque[_Piece]) -> float:
        """Aim for equal chunk sizes, so a long unit does not end in a scrap."""
        limit = self.FILL * self.room
        total = sum(self._cost(p) for p in pieces)
        overlap = min(self.overlap_tokens, limit / 4)
        count = max(1, math.ceil((total - overlap) / max(limit - overlap, 1.0)))
        return min(limit, (total + (count - 1) * overlap) / count)

    def _fill(
        self,
        pieces: deque[_Piece],
        overlap: int | None,
        target: float,
        taken: list[_Piece] | None = None,
    ) -> tuple[list[_Piece], int | None]:
        """Take pieces from the front for one chunk (by estimate), after ``taken`` if given.

        Drops the overlap when even the first new piece does not fit after it, and splits a
        piece that cannot fit at all. Returns the pieces and the overlap start kept.
        """
        limit = self.FILL * self.room
        taken = taken if taken is not None else []
        used = sum(self._cost(p) for p in taken)
        if overlap is not None:
            used += self._estimate(overlap, pieces[0].start)
        has_text = any(not p.sticky for p in taken)
        while pieces:
            piece = pieces[0]
            cost = self._cost(piece)
            too_big = cost > self.room or (cost > limit and piece.level < CHARACTER)
            if too_big and self._can_split(piece):
                self._refine_front(pieces)
                continue
            if used + cost > limit:
                if has_text:
                    break
                if overlap is not None:
                    overlap, used = None, sum(self._cost(p) for p in taken)
                    continue
                if taken and self._can_split(piece):
                    self._refine_front(pieces)  # bring part of the text under its heading
                    continue
                if taken:
                    break
            if has_text and used + cost / 2 > target:
                break
            taken.append(pieces.popleft())
            used += cost
            has_text = has_text or not piece.sticky
        # A heading stays with the text below it.
        while taken[-1].sticky and any(not p.sticky for p in taken):
            pieces.appendleft(taken.pop())
        return taken, overlap

    def _fit(
        self, taken: list[_Piece], pieces: deque[_Piece], overlap: int | None
    ) -> tuple[int, int] | None:
        """Shrink ``taken`` (returning pieces to the front) until the real count fits.

        Terminates: every round drops pieces, drops the overlap, or splits the last piece into
        strictly smaller ones; a heading is only left alone when the text after it cannot be
        split any further.
        """
        while True:
            start = overlap if overlap is not None else taken[0].start
            span = self._stripped(start, taken[-1].end)
            if span is None:
                return None
            real = self._real_tokens(span)
            if real <= self.room:
                return span
            headings = sum(1 for p in taken if p.sticky)
            if len(taken) > headings + 1:
                keep = self._estimate(*span) * self.room / real * self.FILL
                while len(taken) > headings + 1 and self._estimate(start, taken[-1].end) > keep:
                    pieces.appendleft(taken.pop())
                continue
            if overlap is not None:
                overlap = None
                continue
            piece = taken.pop()
            pieces.appendleft(piece)
            if not self._can_split(piece):
                if taken:
                    continue  # the heading goes out alone; the text follows in the next chunk
                raise ValueError(
                    f"one character needs more than max_tokens={self.max_tokens} tokens: "
                    f"{self.text[piece.start : piece.end]!r}"
                )
            self._refine_front(pieces)
            taken, overlap = self._fill(pieces, None, self.FILL * self.room, taken)

    def _can_split(self, piece: _Piece) -> bool:
        """Whether the piece has two visible characters to put in different chunks."""
        return len(self.text[piece.start : piece.end].strip()) >= 2

    def _refine_front(self, pieces: deque[_Piece]) -> None:
        """Replace the first piece by its parts at the next finer level that cuts it."""
        piece = pieces.popleft()
        for level in range(max(piece.level + 1, PARAGRAPH), CHARACTER):
            cuts = find_cuts(self.text, piece.start, piece.end, level)
            bounds = _piece_bounds(self.text, piece.start, piece.end, cuts)
            if len(bounds) > 2:
                pieces.extendleft(
                    reversed([self._piece(a, b, level) for a, b in itertools.pairwise(bounds)])
                )
                return
        pieces.extendleft(reversed(self._split_characters(piece)))

    def _split_characters(self, piece: _Piece) -> list[_Piece]:
        """Last resort: equal runs of characters small enough by estimate (at least two).

        Only called for pieces with no space inside (every cut level failed), so cutting the
        visible stretch gives parts that all have visible text.
        """
        visible = self._stripped(piece.start, piece.end)
        assert visible is not None and visible[1] - visible[0] >= 2, "caller checks _can_split"
        length = visible[1] - visible[0]
        parts = max(2, math.ceil(self._cost(piece) / (0.8 * self.FILL * self.room)))
        parts = min(parts, length)
        cuts = [visible[0] + length * i // parts for i in range(1, parts)]
        bounds = _piece_bounds(self.text, piece.start, piece.end, cuts)
        return [self._piece(a, b, CHARACTER) for a, b in itertools.pairwise(bounds)]

    # ---- overlap

    def _next_overlap(
        self, taken: list[_Piece], span: tuple[int, int], pieces: deque[_Piece]
    ) -> int | None:
        """Start of the tail of the chunk just made that the next chunk repeats, if any."""
        if self.overlap_tokens == 0:
            return None
        text_starts = [p.start for p in taken if not p.sticky]
        if not text_starts:
            return None  # a heading emitted alone: nothing to repeat
        # Headings lead a chunk only before any overlap, so this is the chunk's own text.
        content_start = span[0] if not taken[0].sticky else max(span[0], text_starts[0])
        chunk_tokens = self._estimate(content_start, span[1])
        next_cost = self._cost(pieces[0])
        if next_cost > self.FILL * self.room:
            next_cost = 0.0  # it will be split, and any overlap leaves room for some of it
        limit = min(self.overlap_tokens, chunk_tokens / 2, self.FILL * self.room - next_cost)
        if limit < max(2.0, self.overlap_tokens / 4):
            return None
        return self._tail_start(content_start, span[1], limit)

    def _tail_start(self, start: int, end: int, limit: float) -> int | None:
        """Earliest boundary in (start, end) whose tail has at most ``limit`` tokens.

        Prefers the coarsest level whose tail is at least half the limit, so the overlap is a
        whole sentence when sentences are short, and a clause or words when they are long.
        """
        # English runs ~5 characters per token and Chinese ~2: ten per token is a safe window.
        window_start = max(start + 1, end - int(limit * 10) - 16)
        best: int | None = None
        for level in (SENTENCE, SEMICOLON, CLAUSE, WORD):
            cuts = find_cuts(self.text, window_start - 1, end, level)
            candidate = self._earliest_within(cuts, end, limit)
            if candidate is None:
                continue
            if best is None or candidate < best:
                best = candidate
            if self._estimate(candidate, end) >= limit / 2:
                return candidate
        if best is not None:
            return best
        positions = list(range(window_start, end))
        return self._earliest_within(positions, end, limit)

    def _earliest_within(self, starts: list[int], end: int, limit: float) -> int | None:
        """Binary search: the tail estimate only shrinks as its start moves right."""
        low, high = 0, len(starts)
        while low < high:
            middle = (low + high) // 2
            if self._estimate(starts[middle], end) <= limit:
                high = middle
            else:
                low = middle + 1
        if low == len(starts) or self.text[starts[low] : end].isspace():
            return None
        return starts[low]
