"""An answer stays in the question's language (advisor/drift.py), with the real glossary."""

from __future__ import annotations

import pytest

from advisor.drift import one_language
from advisor.glossary import load_glossary


@pytest.fixture(scope="module")
def glossary():
    return load_glossary()


def test_chinese_answer_loses_english_words_no_passage_has(glossary) -> None:
    text = "政府可以引导银行和其他 financing机构提供贷款[1]。教育 authorities 负责统筹[2]。"
    mended = one_language(text, "zh", ["银行提供贷款。", "教育行政部门负责统筹。"], glossary)
    assert "financing" not in mended.text and "authorities" not in mended.text
    assert "其他融资机构" in mended.text, "the glossary's term replaces a word it knows"
    assert "教育负责统筹[2]" in mended.text, "an unknown word goes, with its spaces"
    assert mended.changes == ["financing→融资", "-authorities"]
    assert mended.text.count("[1]") == 1 and mended.text.count("[2]") == 1


def test_chinese_answer_keeps_latin_the_sources_use(glossary) -> None:
    passages = ["学校与华为共建ICT学院，开设PLC实训课程，引入Siemens设备。"]
    text = "可与华为共建 ICT 学院，开设PLC课程，并引入 Siemens 设备[1]。"
    assert one_language(text, "zh", passages, glossary).text == text


def test_english_sentence_in_a_chinese_answer_is_dropped(glossary) -> None:
    text = "企业提供设备[1]。The college should also provide teachers and space for training[2]。"
    mended = one_language(text, "zh", ["企业提供设备。"], glossary)
    assert mended.text == "企业提供设备[1]。"
    assert mended.dropped and mended.dropped[0].startswith("The college")


def test_english_answer_brackets_or_translates_chinese(glossary) -> None:
    text = (
        "The school must have 章程 and qualified teachers [1]. "
        "It may hire 双师型 staff and the term 学历证书 (学历证书) stays [2]."
    )
    mended = one_language(text, "en", [], glossary)
    assert "articles of association (章程)" in mended.text
    assert "dual-qualified (双师型)" in mended.text
    # an unknown term is bracketed, a bracketed one kept
    assert "(学历证书) (学历证书)" in mended.text
    assert "[1]" in mended.text and "[2]" in mended.text


def test_a_chinese_run_glued_to_english_words_is_set_off_by_spaces(glossary) -> None:
    # seen in the eval (fw-en-05): "teaching and(学籍管理)" as the mended text
    text = "The college organizes teaching and学籍管理, and hires双师型teachers [1]."
    mended = one_language(text, "en", [], glossary).text
    assert "teaching and (学籍管理)," in mended, mended
    assert "hires dual-qualified (双师型) teachers [1]." in mended, mended
    assert "  " not in mended


def test_chinese_sentence_in_an_english_answer_is_dropped(glossary) -> None:
    text = "The main risks are unclear property rights [1]. 产权不清、国有资产流失、审批周期长[1]。"
    mended = one_language(text, "en", [], glossary)
    assert mended.text.strip() == "The main risks are unclear property rights [1]."
    assert len(mended.dropped) == 1


def test_clean_answers_are_untouched(glossary) -> None:
    zh = "职业教育实行政府统筹、分级管理[1]。企业按岗位总量的一定比例设立学徒岗位[2]。"
    en = "The law took effect on 1 May 2022 and has 69 articles (六十九条) [1]."
    assert one_language(zh, "zh", [], glossary).text == zh
    mended = one_language(en, "en", [], glossary)
    assert mended.text == en and not mended.changes and not mended.dropped
