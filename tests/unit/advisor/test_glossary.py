"""The glossary carries an English question's terms into Chinese: an inflected word finds the
entry of its base form, and words that only look inflected are left alone."""

from __future__ import annotations

import pytest

from advisor.glossary import _base, load_glossary


@pytest.mark.parametrize(
    ("word", "base"),
    [
        ("penalties", "penalty"),
        ("enrols", "enrol"),
        ("approvals", "approval"),
        ("taxes", "tax"),
        ("branches", "branch"),
        ("status", "status"),
        ("analysis", "analysis"),
        ("economics", "economics"),
        ("business", "business"),
        ("fees", "fees"),  # four letters or fewer after the s: left as written
    ],
)
def test_base_form(word: str, base: str) -> None:
    assert _base(word) == base


def test_an_inflected_english_word_finds_its_entry() -> None:
    glossary = load_glossary()
    question = "Under the Education Law, what penalties can a school face if it enrols students?"
    terms = glossary.translate_terms(question, "en")
    assert "教育法" in terms
    assert {"罚款", "处罚"} <= set(terms)  # the entry is "penalty"
    assert "招生" in terms  # the entry is "enrol"


def test_a_word_written_as_the_entry_is_found_once() -> None:
    glossary = load_glossary()
    found = glossary.matches("fines and subsidies for enterprises", "en")
    terms = [term for term, _ in found]
    assert sorted(terms) == ["enterprises", "fines", "subsidies"], terms
