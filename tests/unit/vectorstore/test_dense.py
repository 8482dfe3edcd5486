"""Exact vector search (vectorstore/dense.py) and its sync with the real Chroma store: every
committed chunk is reachable, whatever the history of deletes and replacements, and nothing
uncommitted or deleted is ever returned."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.unit.vectorstore.test_store import make_doc, vectors
from vectorstore.dense import DenseIndex
from vectorstore.retrieval import SearchableKB
from vectorstore.store import KnowledgeBase, open_chroma_client

RNG = np.random.default_rng(11)


def unit(n: int, dim: int = 8) -> np.ndarray:
    v = RNG.normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_search_is_exact_and_filtered() -> None:
    index = DenseIndex(8)
    data = unit(200)
    for i, v in enumerate(data):
        index.add(f"c{i}", v, {"doc_id": f"d{i % 5}", "lang": "zh" if i % 2 else "en"}, f"t{i}")
    q = unit(1)[0]
    expected = [f"c{i}" for i in np.argsort(-(data @ q))[:10]]
    assert [h.chunk_id for h in index.search(q, k=10)] == expected
    hits = index.search(q, k=5, accept=lambda m: m["lang"] == "zh")
    assert len(hits) == 5 and all(int(h.chunk_id[1:]) % 2 == 1 for h in hits)
    assert hits[0].similarity == pytest.approx(float(max(data[1::2] @ q)), abs=1e-5)


def test_remove_document_and_re_add() -> None:
    index = DenseIndex(8)
    data = unit(4)
    for i, v in enumerate(data):
        index.add(f"c{i}", v, {"doc_id": "a" if i < 2 else "b"}, "")
    assert index.remove_document("a") == 2
    assert {h.chunk_id for h in index.search(data[0], k=10)} == {"c2", "c3"}
    index.add("c0", data[0], {"doc_id": "a"}, "")
    index.add("c0", data[0], {"doc_id": "a"}, "")  # twice: still one entry
    assert index.search(data[0], k=1)[0].chunk_id == "c0"
    assert index.remove_document("a") == 1 and len(index) == 2


def test_wrong_dimension_is_refused() -> None:
    with pytest.raises(ValueError, match="embedding size 3"):
        DenseIndex(8).add("c", [1.0, 0.0, 0.0], {}, "")


def test_every_committed_chunk_is_reachable_after_many_replacements(tmp_path: Path) -> None:
    """Documents replaced again and again (as edited policy files are): the top hit for each
    live chunk's own vector is that chunk, and no replaced chunk ever comes back."""
    kb = KnowledgeBase(open_chroma_client(path=str(tmp_path / "chroma")), "churn")
    searchable = SearchableKB(kb)
    live: dict[str, np.ndarray] = {}
    for round_ in range(6):
        for d in range(8):
            texts = [f"doc{d} round{round_} chunk{i}" for i in range(12)]
            vecs = vectors(len(texts))
            kb.write_document(make_doc(f"doc{d}.md", texts, sha=f"{d:02d}{round_:02d}" * 32), vecs)
            live = {k: v for k, v in live.items() if not k.startswith(f"doc{d} ")}
            live.update(dict(zip(texts, vecs, strict=True)))
        searchable.sync()
    assert len(searchable.vectors) == len(live) == 96
    for text, vec in live.items():
        top = searchable.vectors.search(vec, k=1)[0]
        assert top.text == text and top.similarity == pytest.approx(1.0, abs=1e-4)
