"""Glossed terms under an English answer over Chinese clauses, and citation labels."""

from __future__ import annotations

from dataclasses import dataclass

from advisor.labels import article_of, citation_label, document_label, superseded_note
from advisor.schemas import Citation
from advisor.terms import clause_terms, term_lines

# 就业促进法 第十五条 (the uses of the special employment funds)
FUNDS = (
    "就业专项资金用于职业介绍、职业培训、公益性岗位、职业技能鉴定、特定就业政策和社会保险等的"
    "补贴，小额贷款担保基金和微利项目的小额担保贷款贴息，以及扶持公共就业服务等。"
)
# 科学技术进步法: part-time work of researchers
PART_TIME = (
    "利用财政性资金设立的科学技术研究开发机构、高等学校的科学技术人员，在履行岗位职责、完成本职"
    "工作、不发生利益冲突的前提下，经所在单位同意，可以从事兼职工作获得合法收入。"
)


@dataclass
class _Passage:
    lang: str


@dataclass
class _Sentence:
    text: str
    position: int
    n: int
    passage: _Passage


def test_a_clause_s_terms_are_glossed_in_the_order_written() -> None:
    terms = {t.chinese: t.english for t in clause_terms(FUNDS)}
    assert "subsid" in terms["补贴"]
    assert "guarantee" in terms["担保"] and "loan" in terms["贷款"]
    assert "training" in terms["职业培训"]
    # function words and the article's own words are not terms
    assert not {"的", "等", "以及", "用于"} & set(terms)
    order = [t.chinese for t in clause_terms(FUNDS)]
    assert order.index("职业培训") < order.index("补贴") < order.index("担保")
    # a compound no dictionary holds is glossed by its halves
    part_time = {t.chinese: t.english for t in clause_terms(PART_TIME)}
    assert "conflict" in part_time["利益冲突"]
    assert "part-time" in part_time["兼职"]


def test_term_lines_only_for_english_answers_over_chinese_and_without_the_question_s_terms():
    chosen = [_Sentence(FUNDS, 0, 2, _Passage("zh")), _Sentence(PART_TIME, 0, 1, _Passage("zh"))]
    question = "What may the special employment funds (就业专项资金) pay for?"
    shown = term_lines(chosen, question, "en")
    head, *lines = shown.splitlines()
    assert head == "**Terms in the cited sources**"
    # one line per passage, in passage order, each ending with its marker
    assert lines[0].endswith("[1]") and lines[1].endswith("[2]")
    assert "(兼职)" in lines[0] and "subsidy" in lines[1]
    assert "就业专项资金" not in shown  # the question named it
    for line in lines:
        assert line.count(" · ") + 1 <= 8 and ";" not in line
    assert term_lines(chosen, question, "zh") == ""
    english = [_Sentence("Enterprises provide equipment.", 0, 1, _Passage("en"))]
    assert term_lines(english, question, "en") == ""


def test_a_term_the_question_names_in_english_is_shown_first_with_its_chinese() -> None:
    """Asked for a city-level industry-education consortium, the answer gives the Chinese to
    look for in the source (市域产教联合体), which a word-by-word cut never shows whole."""
    clause = (
        "由院校、行业组织、企业、科研院所和政府部门组成的联合体，按区域（市域产教联合体）"
        "或按行业（行业产教融合共同体）组织。"
    )
    chosen = [_Sentence(clause, 0, 1, _Passage("zh"))]
    question = "What is the Chinese term for a city-level industry-education consortium?"
    [line] = term_lines(chosen, question, "en").splitlines()[1:]
    assert line.startswith("- city-level industry-education consortium (市域产教联合体) · ")
    assert line.count("市域产教联合体") == 1
    # its parts are not glossed again beside it
    assert "(联合体)" not in line and "(市域)" not in line
    # beside the passage's own rarest terms, not instead of them
    assert line.count(" · ") + 1 == 1 + 8
    # a named term the word cut yields whole stays left out (the question names it)
    plain = term_lines(chosen, "What do research institutes (科研院所) do?", "en")
    assert "科研院所" not in plain


@dataclass
class _Record:
    title: str
    level: str = "other"
    doc_number: str = ""
    adopted: str = ""
    revised: str = ""
    status: str = "current"
    superseded_by: str = ""


def test_article_comes_from_the_section_path_else_the_chunk_s_opening() -> None:
    section = "中华人民共和国职业教育法 > 第三章 职业学校和职业培训机构 > 第二十四条"
    assert article_of(section) == "第二十四条"
    assert article_of("某某条例 > 第一章 总则", "第三条 为了促进……") == "第三条"
    assert article_of("framework_en.md > 2. Method", "Enterprises …") is None
    assert article_of("Law > Article 12") == "Article 12"


def test_labels_carry_title_version_and_article() -> None:
    law = _Record("中华人民共和国职业教育法", adopted="1996-05-15", revised="2022-04-20")
    assert (
        citation_label(law, "第二十四条") == "《中华人民共和国职业教育法》（2022年修订）第二十四条"
    )
    titled = _Record(
        "中华人民共和国职业教育法（2022年修订）", adopted="1996-05-15", revised="2022-04-20"
    )
    assert document_label(titled) == "《中华人民共和国职业教育法》（2022年修订）"  # said once
    old = _Record("中华人民共和国职业教育法", adopted="1996-05-15")
    assert citation_label(old, None) == "《中华人民共和国职业教育法》（1996年）"
    notice = _Record("关于深化产教融合的若干意见", doc_number="国办发〔2017〕95号")
    assert document_label(notice) == "《关于深化产教融合的若干意见》"  # issued, no date known
    # a case note whose first heading is its title is cited by its file name
    assert document_label(_Record("某学院产业学院建设案例")) == ""
    assert citation_label(_Record(""), "第三条") == ""  # no title: the file name is shown
    assert citation_label(None, "第三条") == ""


def test_a_superseded_citation_is_named_in_the_answer_s_language() -> None:
    def cite(n: int, status: str) -> Citation:
        return Citation(
            n, "x.md", None, "c", "q", label=f"《某法》（1996年）第{n}条", status=status
        )

    cited = [cite(1, "current"), cite(2, "superseded")]
    assert superseded_note(cited, "zh").startswith("注意：[2] 引自已被新版本取代的文本（《某法》")
    assert superseded_note(cited, "en").startswith("Note: [2] cites a superseded version")
    assert superseded_note([cite(1, "current")], "en") == ""
