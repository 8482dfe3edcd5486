"""Which documents a question names (vectorstore/names.py)."""

from __future__ import annotations

import pytest

from vectorstore.names import document_names, named_documents

DOCS = {
    "edu": document_names("教育法(2021-04-29).md", "中华人民共和国教育法"),
    "voc": document_names("职业教育法(2022-04-20).md", "中华人民共和国职业教育法"),
    "higher": document_names("高等教育法(2018-12-29).md", "中华人民共和国高等教育法"),
    "ningbo": document_names("宁波市职业技能培训条例(2016-04-20).md", "宁波市职业技能培训条例"),
    "sh_tt": document_names("上海市促进科技成果转化条例(2017-04-20).md", ""),
    "sh_he": document_names("上海市高等教育促进条例(2017-12-28).md", ""),
    "paper": document_names("collaborative_innovation.txt", "Collaborative innovation"),
}


def test_names_drop_the_state_prefix_and_the_date() -> None:
    assert DOCS["voc"] == ["中华人民共和国职业教育法", "职业教育法"]
    assert DOCS["paper"] == []  # an English file name names nothing a Chinese citation uses


@pytest.mark.parametrize(
    ("question", "terms", "expected"),
    [
        ("根据职业教育法，职业教育实行怎样的管理体制？", [], {"voc"}),
        ("《中华人民共和国教育法》对学校的权利有什么规定？", [], {"edu"}),
        ("教育法规定了哪些受教育权？", [], {"edu"}),
        ("高等教育法里高校的自主权有哪些？", [], {"higher"}),
        ("宁波市的培训条例对企业有什么要求？", [], {"ningbo"}),
        ("上海市高等教育促进条例怎么规定产学研合作？", [], {"sh_he"}),
        ("What does the Vocational Education Law say?", ["职业教育法"], {"voc"}),
        ("What does the Ningbo regulation require?", ["宁波", "条例"], {"ningbo"}),
        ("职业教育法和宁波市的培训条例各怎么规定？", [], {"voc", "ningbo"}),  # two at once
        ("职业教育有哪些办学形式？", [], set()),  # names no document
        ("校企合作怎样分配利益？", [], set()),
    ],
)
def test_named_documents(question: str, terms: list[str], expected: set[str]) -> None:
    assert named_documents(question, DOCS, terms) == expected


def test_a_name_inside_a_longer_name_is_not_cited() -> None:
    only_edu = {"edu": DOCS["edu"]}
    assert named_documents("职业教育法怎么规定？", only_edu) == set()
    assert named_documents("根据中华人民共和国教育法", only_edu) == {"edu"}


def test_the_version_a_question_asks_for() -> None:
    from vectorstore.names import prefer_version

    labels = {
        "old": "职业教育法(1996-05-15).md",
        "new": "职业教育法(2022-04-20).md",
        "nb": "宁波市职业技能培训条例(2016-04-20).md",
    }
    both = {"old", "new"}
    assert prefer_version("1996年版《职业教育法》一共几章几条？", both, labels) == {"old"}
    assert prefer_version("2022年修订的职业教育法从什么时候施行？", both, labels) == {"new"}
    assert prefer_version("现行的《职业教育法》用的是什么提法？", both, labels) == {"new"}
    assert prefer_version("the Vocational Education Law as currently in force", both, labels) == {
        "new"
    }
    assert prefer_version("职业教育法怎么规定学徒制？", both, labels) == both, "no version asked"
    assert prefer_version("现行职业教育法跟1996年版相比有什么变化？", both, labels) == both
    # another document named alongside keeps its place; one document is left alone
    assert prefer_version("现行职业教育法和宁波的条例", {"old", "new", "nb"}, labels) == {
        "new",
        "nb",
    }
    assert prefer_version("1996年的职业教育法", {"new"}, labels) == {"new"}
