"""Figures in any notation (advisor/numbers.py)."""

from __future__ import annotations

import pytest

from advisor.numbers import figures, unsupported_figures


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("处一万元以上五万元以下的罚款", {10000, 50000}),
        ("fine of 10,000 to 50,000 yuan [1]", {10000, 50000}),
        ("fifty thousand yuan within thirty days", {50000, 30}),
        ("不低于百分之七十的比例", {70}),
        ("不低于70%", {70}),
        ("公示时间不得少于十五日", {15}),
        ("第四十五条 第三十条规定三十日内", {45, 30}),
        ("5万元", {50000}),
        ("二〇一一年起 2011年", {2011}),
        ("一是制定法律，二是运用财政杠杆；其一", set()),
        ("千万不要忘记；十分重要", set()),
        ("multilingual-e5-small GB18030 [3]", set()),
        ("11. 甲方\n12. 乙方", set()),
    ],
)
def test_values_are_read_in_every_notation(text: str, values: set[int]) -> None:
    assert figures(text) == values


def test_only_figures_above_ten_absent_from_the_evidence_are_unsupported() -> None:
    evidence = ["拒不改正的，处一万元以上五万元以下罚款。", "第四十条"]
    assert unsupported_figures("A fine of 10,000 to 50,000 yuan (Article 40).", evidence) == set()
    assert unsupported_figures("A fine of 1,000 to 5,000 yuan.", evidence) == {1000, 5000}
    assert unsupported_figures("Two or three parties agree.", evidence) == set()


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("处一万元以上五万元以下的罚款", [("10,000 to 50,000 yuan", "一万元以上五万元以下")]),
        # 十万 holds no digit character and is a number; 数万 is none
        ("处以五万元以上十万元以下的罚款", [("50,000 to 100,000 yuan", "五万元以上十万元以下")]),
        ("奖励十万元，另收数万元费用", [("100,000 yuan", "十万元")]),
        ("公示期不少于十五日", [("15 days", "十五日")]),
        ("2022年5月1日起施行", [("1 May 2022", "2022年5月1日")]),
        ("修订后共八章六十九条", [("8 chapters", "八章"), ("69 articles", "六十九条")]),
        ("不低于百分之五十", [("50%", "百分之五十")]),
        ("连续三至五年", [("3 to 5 years", "三至五年")]),
        ("审批机关应当在三个月以内作出决定", [("within 3 months", "三个月以内")]),
        ("依照第二十四条的规定", [("Article 24", "第二十四条")]),
        # the start of a period is a figure; a date's year is the date's
        ("自2011年起，逐步进入实践实施阶段", [("since 2011", "自2011年起")]),
        ("二〇一五年以来，共建基地", [("since 2015", "二〇一五年以来")]),
        ("自2022年5月1日起施行", [("1 May 2022", "2022年5月1日")]),
        # no figure: a year as a date of revision, an ordinal, 一定
        ("2022年修订，一是加强，享受一定标准的补贴", []),
    ],
)
def test_english_figures_of_a_chinese_sentence(sentence: str, expected: list) -> None:
    from advisor.numbers import english_figures

    assert english_figures(sentence) == expected


def test_a_figure_line_with_a_digitless_amount_is_supported_by_its_clause() -> None:
    """十万 holds no digit character: the figure line an English answer gets for
    五万元以上十万元以下 must not be removed as unsupported by the clause it renders; the
    adverb 千万 (by all means) and 十分 stay words."""
    from advisor.numbers import english_figures, figures, unsupported_figures

    clause = "有下列行为的，处以五万元以上十万元以下的罚款；"
    [(english, chinese)] = english_figures(clause)
    line = f"- {english} ({chinese})[1]"
    assert line == "- 50,000 to 100,000 yuan (五万元以上十万元以下)[1]"
    assert figures(clause) == {50_000, 100_000}
    assert unsupported_figures(line, [clause]) == set()
    assert figures("千万不要这样做，这十分重要") == set()
