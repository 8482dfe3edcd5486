"""Advice by party (advisor/parties.py): each party's clauses, verbatim, from the decisive
sentences of the project's own corpus."""

from __future__ import annotations

import re
from pathlib import Path

from advisor.evidence import decisive_sentences
from advisor.parties import format_parties, is_advisory, party_clauses, party_of
from devkit.fakes import make_passage
from vectorstore.retrieval import Passage

CORPUS = Path(__file__).resolve().parents[3] / "corpus"


def _passage(text: str, rank: int, lang: str) -> Passage:
    return make_passage(text, rank, source=f"p{rank}.md", lang=lang, kind="case")


def _section(path: Path, heading: str) -> str:
    text = path.read_text(encoding="utf-8")
    start = text.index(heading)
    end = text.find("\n### ", start + len(heading))
    return text[start + len(heading) : end].strip()


def test_subjects_are_recognised() -> None:
    assert party_of("地方政府在用地、财政奖补上给予支持", "zh") == "政府"
    assert party_of("企业投入设备、真实项目", "zh") == "企业"
    assert party_of("院校提供场地、教师", "zh") == "院校"
    assert party_of("科研院所可以进入技术研发中心", "zh") == "科研院所"
    assert party_of("章程中应写明投入的折算办法", "zh") is None
    assert party_of("and enterprises invest equipment and real projects", "en") == "Enterprises"
    assert party_of("The college provides space and teachers", "en") == "Colleges"
    assert party_of("The charter should state the exit rules", "en") is None


def test_advisory_questions() -> None:
    assert is_advisory("我校想与企业共建产业学院，怎样设计利益分配机制？", "zh")
    assert is_advisory("How should we keep an enterprise motivated after the first year?", "en")
    assert not is_advisory("2022年修订的职业教育法从什么时候开始施行？", "zh")
    assert not is_advisory("When did the revised law take effect?", "en")


def test_industry_college_division_of_work_by_party() -> None:
    text = _section(CORPUS / "patterns_zh.md", "### 分工")
    question = "我们想和龙头企业共建产业学院，政府、学校、企业和科研院所各自应该怎么分工？"
    ranked, _ = decisive_sentences(question, [_passage(text, 1, "zh")], "zh")
    clauses = party_clauses(ranked, "zh")
    assert list(dict.fromkeys(c.party for c in clauses)) == ["政府", "院校", "企业", "科研院所"]
    for c in clauses:
        assert c.text in text, "a clause is quoted verbatim"
        assert c.n == 1
    block = format_parties(clauses, "zh")
    assert block.startswith("**各方做法（原文）**\n- 政府：地方政府在用地")
    assert len(re.findall(r"\[1\]", block)) == len(clauses)


def test_english_passages_by_party_and_none_from_the_other_language() -> None:
    text = _section(CORPUS / "patterns_en.md", "### Who does what")
    question = "How should the parties divide the work in an industry college?"
    ranked, _ = decisive_sentences(question, [_passage(text, 1, "en")], "en")
    clauses = party_clauses(ranked, "en")
    assert {c.party for c in clauses} >= {"Colleges", "Enterprises"}
    assert all(c.text in text for c in clauses)
    # an English answer over Chinese passages quotes no Chinese clause
    zh = _section(CORPUS / "patterns_zh.md", "### 分工")
    ranked, _ = decisive_sentences(question, [_passage(zh, 1, "zh")], "en")
    assert party_clauses(ranked, "en") == []


def test_one_party_is_not_a_structure() -> None:
    text = "企业提供设备和师傅。企业还应安排实习岗位。章程写明退出办法。"
    ranked, _ = decisive_sentences("企业怎样参与？", [_passage(text, 1, "zh")], "zh")
    assert party_clauses(ranked, "zh") == []
