"""The retrieval parts on their own: the keyword index kept in step with the store (BM25
sync), BM25 ranking, the language weights, reciprocal-rank fusion and the dedupe of overlap
copies. The whole retriever is exercised over real knowledge bases elsewhere (test_chain,
the eval); here each rule is pinned where it is defined."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from vectorstore.keyword import KeywordIndex
from vectorstore.retrieval import (
    CROSS_LANGUAGE_OFFSET,
    DEMOTED_LANGUAGE_WEIGHT,
    LANGUAGE_MARGIN,
    HybridRetriever,
    near_duplicate,
)


@dataclass
class Chunk:
    chunk_id: str
    text: str
    metadata: dict[str, Any]
    embedding: Any = None


@dataclass
class FakeSource:
    """The store as the index reads it: committed versions and their chunks."""

    docs: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # id -> (sha, texts)
    reads: list[Any] = field(default_factory=list)

    def committed_versions(self) -> dict[str, str]:
        return {doc_id: sha for doc_id, (sha, _) in self.docs.items()}

    def iter_chunks(self, where: dict[str, Any] | None = None, *, embeddings: bool = False):
        self.reads.append(where)
        wanted = where["doc_id"] if where else None
        ids = set(wanted["$in"]) if isinstance(wanted, dict) else {wanted}
        for doc_id, (sha, texts) in self.docs.items():
            if wanted is None or doc_id in ids:
                for i, text in enumerate(texts):
                    meta = {"doc_id": doc_id, "lang": "zh", "section": "", "sha": sha}
                    yield Chunk(f"{doc_id}-{sha}-{i}", text, meta, [0.0])


@dataclass
class Follower:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def add(self, chunk_id: str, vector: Any, metadata: dict[str, Any], text: str) -> None:
        self.added.append(chunk_id)

    def remove_document(self, doc_id: str) -> int:
        self.removed.append(doc_id)
        return 0


def test_sync_adds_changes_and_drops_only_what_changed() -> None:
    source = FakeSource({"a": ("1", ["学徒制 企业 师傅"]), "b": ("1", ["订单班 录用"])})
    index, follower = KeywordIndex(), Follower()
    assert index.sync(source, follower) == (2, 0)
    assert index.versions == {"a": "1", "b": "1"} and len(index) == 2
    assert sorted(follower.added) == ["a-1-0", "b-1-0"]

    source.reads.clear()
    assert index.sync(source, follower) == (0, 0), "nothing changed: nothing is read"
    assert source.reads == []

    source.docs["a"] = ("2", ["学徒制 补贴", "双导师"])  # edited and ingested again
    del source.docs["b"]  # deleted
    assert index.sync(source, follower) == (1, 2)
    assert index.versions == {"a": "2"}
    assert set(index.chunk_texts()) == {"a-2-0", "a-2-1"}, "the old version's chunk is gone"
    assert follower.removed == ["a", "b"]
    assert [h.chunk_id for h in index.search("订单班")] == [], "a deleted document is not found"


def test_bm25_ranks_the_rare_term_and_filters() -> None:
    index = KeywordIndex()
    texts = {
        "c1": "校企合作 企业 学校 企业 学校",
        "c2": "校企合作 现代学徒制 双导师",
        "c3": "校企合作 学校 企业",
    }
    for chunk_id, text in texts.items():
        index.add(
            chunk_id, text, {"doc_id": chunk_id, "kind": "case" if chunk_id != "c2" else "policy"}
        )
    hits = index.search("现代学徒制的双导师")
    assert hits[0].chunk_id == "c2" and hits[0].score > 0
    assert all(
        h.chunk_id != "c2" for h in index.search("双导师", accept=lambda m: m["kind"] == "case")
    )
    assert index.search("") == [] and index.search("无关词汇完全不在") == []


@pytest.mark.parametrize(
    ("best", "expected"),
    [
        # the question's own language wins by more than the margin: the other is demoted
        (
            {("question", "zh"): 0.90, ("translated", "en"): 0.80},
            {"zh": 1.0, "en": DEMOTED_LANGUAGE_WEIGHT},
        ),
        # within the margin: both count fully
        (
            {("question", "zh"): 0.90, ("translated", "en"): 0.90 - LANGUAGE_MARGIN / 2},
            {"zh": 1.0, "en": 1.0},
        ),
        # the other language holds the evidence
        (
            {("question", "zh"): 0.80, ("translated", "en"): 0.92},
            {"zh": DEMOTED_LANGUAGE_WEIGHT, "en": 1.0},
        ),
        # no translated terms: the plain cross-language similarity plus the offset
        (
            {("question", "zh"): 0.90, ("question", "en"): 0.90 - CROSS_LANGUAGE_OFFSET},
            {"zh": 1.0, "en": 1.0},
        ),
        ({("question", "zh"): 0.90}, {}),  # one language only: no weights
    ],
)
def test_language_weights(best: dict[tuple[str, str], float], expected: dict[str, float]) -> None:
    assert HybridRetriever._language_weights(best, "zh", "en") == expected


def test_near_duplicates_are_overlap_copies_not_related_text() -> None:
    article = "第二十四条 企业可以设置学徒岗位，与职业学校联合招收学徒，按照岗位要求进行培养。"
    assert near_duplicate(article, article + "（注）")
    assert near_duplicate(article, article.replace("，", ", "))  # a reprint's punctuation
    assert not near_duplicate(article, "第二十五条 企业应当依法履行实施职业教育的义务。")


def test_fusion_puts_a_passage_found_by_both_lists_first_and_drops_overlap_copies(
    service, tmp_path: Path
) -> None:
    """Reciprocal-rank fusion: the passage that both the vectors and BM25 rank high outranks
    passages that only one list finds; its score is the sum of 1/(k + rank) over its lists; an
    overlap copy of a kept passage is not returned twice."""
    folder = tmp_path / "kb"
    folder.mkdir()
    shared = (
        "现代学徒制由学校和企业双主体育人，企业师傅和学校教师共同担任双导师，学徒签订三方协议。"
    )
    (folder / "a.md").write_text(f"# 学徒制\n\n{shared}\n", encoding="utf-8")
    (folder / "b.md").write_text(f"# 学徒制（转载）\n\n{shared}\n", encoding="utf-8")
    (folder / "c.md").write_text(
        "# 实训基地\n\n学校与企业共建共享实训基地，企业提供设备。\n", encoding="utf-8"
    )
    (folder / "d.md").write_text(
        "# 经费\n\n地方政府设立专项资金，支持校企合作项目。\n", encoding="utf-8"
    )
    assert service.ingest([folder]).ok
    retriever = service.retriever()
    passages = retriever.retrieve("现代学徒制的双导师和三方协议", k=4, query_lang="zh")
    assert passages[0].source in {"a.md", "b.md"}
    assert [p.source for p in passages].count("a.md") + [p.source for p in passages].count(
        "b.md"
    ) == 1, "the reprint is an overlap copy of the kept passage"
    lists = 4  # the vector lists of both languages, BM25 and nothing translated at most
    assert 1 / (retriever.rrf_k + 1) < passages[0].score <= lists / (retriever.rrf_k + 1)
    assert passages[0].score > passages[1].score
    assert [p.rank for p in passages] == list(range(1, len(passages) + 1))
