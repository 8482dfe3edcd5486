"""Hard-wrapped English text is joined into sentences at ingest (ingest.loaders
``join_latin_line_wraps``), so that quotes, excerpts and extractive answers never end at a line
break inside a sentence, while headings, list items and paragraphs stay apart."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from advisor.citations import split_sentences
from ingest.chunking import chunk_document
from ingest.loaders import join_latin_line_wraps, load_document, normalize_text

SEED = Path(__file__).resolve().parents[4] / "shared" / "seed"

WRAPPED = """1. Introduction
Many higher vocational colleges have begun to practice collaborative
innovation theory in teaching. However, the mechanism is still not mature,
and some problems have also been exposed in the specific practice process.

2.1 The main body of government
The government plays a dual role of instructor and manager, and plays a
very important role in driving and regulating.
- first, laws and regulations
- second, financial leverage
"""


def test_wrapped_sentences_become_one_line_and_structure_stays() -> None:
    lines = join_latin_line_wraps(WRAPPED).splitlines()
    assert lines[0] == "1. Introduction"
    assert lines[1] == (
        "Many higher vocational colleges have begun to practice collaborative innovation "
        "theory in teaching. However, the mechanism is still not mature, and some problems "
        "have also been exposed in the specific practice process."
    )
    assert lines[2] == ""
    assert lines[3] == "2.1 The main body of government"
    assert lines[4].endswith("very important role in driving and regulating.")
    assert lines[5:] == ["- first, laws and regulations", "- second, financial leverage"]


def test_a_blank_line_keeps_its_paragraph_break() -> None:
    """Paragraphs are kept as they are, even where a page break cut a sentence (the seed
    paper's "experiencing rapid / changes"): joining across blank lines broke the loaders'
    paragraph-count property."""
    text = (
        "Led by the rapid development of science and technology, today's society is "
        "experiencing rapid\n"
        "\n"
        "changes. Various industries have put forward higher requirements for talent training.\n"
    )
    assert join_latin_line_wraps(text).count("\n\n") == 1


def test_short_lines_and_chinese_lines_are_left_alone() -> None:
    text = (
        "Abstract\nThe collaboration of industry, learning and research.\n"
        "第一条 为了促进职业教育\n发展，制定本法。\nKeywords: talent"
    )
    assert join_latin_line_wraps(text).splitlines()[0] == "Abstract"
    assert "第一条 为了促进职业教育" in normalize_text(text)


@pytest.mark.skipif(not SEED.is_dir(), reason="../shared/seed is not present")
def test_seed_paper_chunks_hold_whole_sentences(embeddings) -> None:
    """The seed paper's text layer is broken every ~100 characters; after ingest no sentence
    of its chunks ends at one of those breaks (a sentence of 40+ characters ending in a
    lower-case word with no punctuation), and the abstract's sentence is whole."""
    raw = load_document(SEED / "collaborative_innovation_talent_training.txt")
    chunks = chunk_document(
        raw, max_tokens=384, overlap_tokens=48, count_tokens=embeddings.count_tokens
    )
    text = "\n".join(c.text for c in chunks)
    assert (
        "Many higher vocational colleges have begun to practice collaborative innovation "
        "theory in teaching." in text
    )
    sentences = [s for c in chunks for s in split_sentences(c.text)]

    def heading(s: str) -> bool:  # "2.2 The main body of colleges and universities"
        return len(s.split()) <= 26

    broken = [s for s in sentences if len(s) >= 40 and re.search(r"[a-z]$", s) and not heading(s)]
    # one sentence runs into a page footer ("Advances in Social Science ..., volume 294"),
    # which the .txt file keeps; it is counted twice (chunk overlap)
    assert len(broken) <= 2, broken
