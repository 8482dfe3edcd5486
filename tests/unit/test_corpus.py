"""The starter knowledge base (corpus/): complete front matter, both languages for every topic,
the glossary document in step with the retrieval glossary, and written in the project's own
words (no long word sequence copied from the seed paper)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.loaders import split_front_matter

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"
SEED = ROOT.parent / "shared" / "seed" / "collaborative_innovation_talent_training.txt"
DOCS = sorted(CORPUS.glob("*.md"))


def test_every_topic_in_chinese_and_english() -> None:
    names = {p.stem for p in DOCS}
    for topic in ("framework", "patterns", "policy_landscape"):
        assert {f"{topic}_zh", f"{topic}_en"} <= names
    assert "glossary" in names


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_front_matter_names_title_kind_lang_and_sources(path: Path) -> None:
    meta, body = split_front_matter(path.read_text(encoding="utf-8"))
    assert meta.get("title") and meta.get("sources")
    assert meta.get("kind") in ("policy", "case", "other")
    assert meta.get("lang") in ("zh", "en")
    if path.stem.endswith("_en"):
        assert meta["lang"] == "en"
    assert len(body) > 1000


def test_glossary_document_matches_the_retrieval_glossary() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "build_glossary_doc", ROOT / "scripts" / "build_glossary_doc.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (CORPUS / "glossary.md").read_text(encoding="utf-8") == module.render(), (
        "run scripts/build_glossary_doc.py after editing advisor/data/glossary.tsv"
    )
    assert len(module.rows()) >= 150


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def test_english_corpus_does_not_copy_the_seed_paper() -> None:
    """Facts carry over, sentences do not: no run of 8 words is shared with the seed."""
    if not SEED.is_file():
        pytest.skip("../shared/seed is not present")
    seed = _words(SEED.read_text(encoding="utf-8"))
    seed_runs = {tuple(seed[i : i + 8]) for i in range(len(seed) - 7)}
    for path in CORPUS.glob("*_en.md"):
        words = _words(split_front_matter(path.read_text(encoding="utf-8"))[1])
        copied = [" ".join(words[i : i + 8]) for i in range(len(words) - 7)]
        copied = [run for run in copied if tuple(run.split()) in seed_runs]
        assert not copied, f"{path.name} repeats the seed paper: {copied[:3]}"
