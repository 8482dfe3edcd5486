"""Scoring of the own question set: key facts, refusals, citations, and the groupings the
benchmarks report (id group, language, question type)."""

from __future__ import annotations

import json
from pathlib import Path

from advisor.evaluation import EvalReport, load_eval_set, score_item
from advisor.schemas import Answer, Citation
from devkit.fakes import make_passage
from vectorstore.retrieval import Passage


def _passage(rank: int, source: str, text: str) -> Passage:
    return make_passage(text, rank, source=source)


def _answer(text: str, refused: bool = False, contexts=(), citations=()) -> Answer:
    return Answer(
        question="q",
        answer=text,
        refused=refused,
        citations=list(citations),
        contexts=list(contexts),
        lang="zh",
        llm="test",
    )


def test_set_rows_are_typed_and_grouped(tmp_path: Path) -> None:
    rows = [
        {
            "id": "ver-zh-01",
            "lang": "zh",
            "type": "version",
            "question": "1996年版分几级？",
            "answerable": True,
            "expected_sources": ["a.md"],
            "key_facts": [["初等"], ["中等"]],
        },
        {"id": "neg-en-01", "lang": "en", "question": "salary?", "answerable": False},
        {
            "id": "fu-zh-01",
            "lang": "zh",
            "question": "那呢？",
            "answerable": True,
            "history": [{"role": "user", "content": "x"}],
            "key_facts": ["单个"],
        },
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    items = load_eval_set(path)
    assert [i.kind for i in items] == ["version", "unanswerable", "follow-up"]
    assert [i.group for i in items] == ["ver-zh", "neg-en", "fu-zh"]
    assert items[2].key_facts == [["单个"]]

    ctx = [_passage(1, "b.md", "无关"), _passage(2, "a.md", "分为初等、中等、高等三级")]
    cite = Citation(n=2, chunk_id="c2", source="a.md", page=None, quote="初等、中等")
    results = [
        score_item(items[0], _answer("分为初等和中等 [2]", contexts=ctx, citations=[cite])),
        score_item(items[1], _answer("", refused=True)),
        score_item(items[2], _answer("单个", refused=True)),
    ]
    assert results[0].rank_of_expected == 2 and results[0].facts_found == 2
    assert results[0].citations_valid == 1
    assert results[2].facts_found == 0, "a refused answer holds no key fact"

    report = EvalReport(results, "test")
    figures = report.figures()
    assert figures["unanswerable_refused"] == 1.0
    assert figures["answerable_refused"] == 0.5
    assert figures["key_fact_coverage"] == round(2 / 3, 4)
    assert set(report.by_type()) == {"version", "unanswerable", "follow-up"}
    assert report.by_language()["en"]["questions"] == 1
    assert report.by_group()["ver-zh"]["hit_at_5"] == 1.0


def test_article_labels_are_confirmed_against_the_chunk_text() -> None:
    from advisor.evaluation import article_confirmed

    text = "第十二条 国家鼓励企业举办职业教育。\n依照本法第五条规定，企业可以设立实训基地。"
    assert article_confirmed("第十二条", "国家鼓励企业举办职业教育。", text)
    # a reference inside a sentence ("本法第五条") is not a label
    assert article_confirmed("第十二条", "依照本法第五条规定，企业可以设立实训基地。", text)
    assert not article_confirmed("第五条", "依照本法第五条规定，企业可以设立实训基地。", text)
    # a chunk continuing an article has no label before the quote
    assert article_confirmed("第十二条", "（三）提供实习岗位。", "（三）提供实习岗位。")
    assert not article_confirmed("第十二条", "国家鼓励。", "第十三条 国家鼓励。")
