"""detect_lang: a passage is Chinese when Han characters are a large enough share of its letters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.lang import ZH_LETTER_SHARE, count_han, detect_lang


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("第一条 为了发展高等教育事业，实施科教兴国战略，制定本法。", "zh"),
        ("The government is one of the most critical subjects.", "en"),
        ("采用 Transformer 和 BERT 模型进行检索增强生成实验", "zh"),
        ("推进“双高计划”建设，深化 industry-education integration。", "zh"),
        ("The policy of 产教融合 (industry-education integration) matters to colleges.", "en"),
        ("中", "zh"),
        ("ひらがなとカタカナ", "en"),  # kana are not Han: only zh and en pools exist
        ("Русский текст о профессиональном образовании", "en"),
        ("", "en"),
        ("2021-04-29 123 ……", "en"),
        ("。，！？", "en"),
        ("\U00020000\U0002a6d6", "zh"),  # Extension B ideographs
    ],
)
def test_detect_lang_examples(text: str, expected: str) -> None:
    assert detect_lang(text) == expected


def test_threshold_is_a_share_of_letters() -> None:
    assert ZH_LETTER_SHARE == 0.25
    assert detect_lang("中" + "a" * 3) == "zh"  # exactly 25 %
    assert detect_lang("中" + "a" * 4) == "en"  # 20 %
    # Digits, spaces and punctuation are not letters and do not dilute the share.
    assert detect_lang("中 1234567890 !!! ... aaa") == "zh"


def test_count_han_counts_only_han() -> None:
    assert count_han("第一条 abc，。中华") == 5
    assert count_han("") == 0
    assert count_han("\uf900\u3400") == 2  # compatibility ideograph, Extension A


@given(st.text())
def test_detect_lang_is_total(text: str) -> None:
    assert detect_lang(text) in ("zh", "en")


@given(st.text(), st.text(alphabet="0123456789 \n\t.,;:!?()[]-，。；：！？、"))
def test_non_letters_do_not_change_the_result(text: str, noise: str) -> None:
    assert detect_lang(text + noise) == detect_lang(text)


def test_detect_lang_on_mixed_and_english_chunks() -> None:
    """Its speed per chunk is measured in bench/text_rules_bench.py."""
    mixed = "第一条 为了发展高等教育事业，实施科教兴国战略 The government is critical. " * 20
    english = "The government is one of the most critical subjects in the mechanism. " * 20
    assert detect_lang(mixed) == "zh"
    assert detect_lang(english) == "en"
