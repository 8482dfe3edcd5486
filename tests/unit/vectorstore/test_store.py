"""The Chroma store: real embedded Chroma in a temp folder; vectors are random (the embedder is
not what is under test here)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from ingest.types import Chunk, PreparedDocument, SkippedPage
from tests.support.contract import KB_DOC_FIELDS
from vectorstore.store import (
    DocumentNotFoundError,
    KnowledgeBase,
    StoreError,
    chunk_id_for,
    doc_id_for,
    list_knowledge_bases,
    open_chroma_client,
)

RNG = np.random.default_rng(7)


def make_doc(source: str, texts: list[str], sha: str, *, pages: list[int | None] | None = None):
    pages = pages or [None] * len(texts)
    chunks = [
        Chunk(text=t, page=p, section=f"第{i + 1}条", lang="zh", index=i)
        for i, (t, p) in enumerate(zip(texts, pages, strict=True))
    ]
    return PreparedDocument(
        source=source,
        sha256=sha,
        kind="policy",
        lang="zh",
        title=source,
        page_count=3,
        size_bytes=100,
        chunks=chunks,
        embed_texts=texts,
        skipped=[SkippedPage(number=3, reason="empty")],
    )


def vectors(n: int) -> np.ndarray:
    v = RNG.normal(size=(n, 384)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture()
def kb(tmp_path: Path) -> KnowledgeBase:
    client = open_chroma_client(path=str(tmp_path / "chroma"))
    return KnowledgeBase(client, "test-kb")


def chunk_ids(kb: KnowledgeBase) -> set[str]:
    return set(kb.chunks.get(include=[])["ids"])


def test_write_lists_document_with_contract_fields(kb: KnowledgeBase) -> None:
    doc = make_doc("a.pdf", ["第一条 甲", "第二条 乙"], "a" * 64, pages=[1, 2])
    kb.write_document(doc, vectors(2))

    [record] = kb.list_documents()
    assert record.to_json().keys() >= KB_DOC_FIELDS
    assert (record.source, record.kind, record.lang, record.pages, record.chunks) == (
        "a.pdf",
        "policy",
        "zh",
        3,
        2,
    )
    assert record.doc_id == doc_id_for("a.pdf")
    assert record.skipped_pages == "3:empty"
    stored = {c.chunk_id: c for c in kb.iter_chunks()}
    first = stored[chunk_id_for(record.doc_id, "a" * 64, 0)]
    assert first.text == "第一条 甲"
    assert first.metadata["page"] == 1
    assert first.metadata["section"] == "第1条"


def test_page_none_is_not_stored(kb: KnowledgeBase) -> None:
    kb.write_document(make_doc("b.md", ["x"], "b" * 64), vectors(1))
    [chunk] = list(kb.iter_chunks())
    assert "page" not in chunk.metadata


def test_new_version_replaces_old_chunks(kb: KnowledgeBase) -> None:
    kb.write_document(make_doc("a.pdf", ["old 1", "old 2", "old 3"], "1" * 64), vectors(3))
    kb.write_document(make_doc("a.pdf", ["new 1"], "2" * 64), vectors(1))

    assert [c.text for c in kb.iter_chunks()] == ["new 1"]
    assert kb.count_chunks() == 1
    assert kb.committed_sha("a.pdf") == "2" * 64


def test_same_content_gives_same_ids(kb: KnowledgeBase) -> None:
    doc = make_doc("a.pdf", ["one", "two"], "3" * 64)
    kb.write_document(doc, vectors(2))
    before = chunk_ids(kb)
    kb.write_document(doc, vectors(2))
    assert chunk_ids(kb) == before
    assert kb.count_chunks() == 2


def test_delete_document(kb: KnowledgeBase) -> None:
    kb.write_document(make_doc("a.pdf", ["one"], "4" * 64), vectors(1))
    kb.write_document(make_doc("b.pdf", ["two"], "5" * 64), vectors(1))
    kb.delete_document("a.pdf")
    assert [d.source for d in kb.list_documents()] == ["b.pdf"]
    assert [c.text for c in kb.iter_chunks()] == ["two"]
    # by doc_id as well
    kb.delete_document(doc_id_for("b.pdf"))
    assert kb.list_documents() == [] and kb.count_chunks() == 0
    with pytest.raises(DocumentNotFoundError):
        kb.delete_document("a.pdf")


def test_failed_write_keeps_previous_version(kb: KnowledgeBase, monkeypatch) -> None:
    kb.write_document(make_doc("a.pdf", ["v1"], "6" * 64), vectors(1))
    calls = {"n": 0}
    real_upsert = kb.chunks.upsert

    def failing_upsert(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real_upsert(**kwargs)

    monkeypatch.setattr("vectorstore.store.WRITE_BATCH", 2)
    monkeypatch.setattr(kb.chunks, "upsert", failing_upsert)
    with pytest.raises(RuntimeError):
        kb.write_document(make_doc("a.pdf", ["n1", "n2", "n3", "n4"], "7" * 64), vectors(4))
    assert [c.text for c in kb.iter_chunks()] == ["v1"]
    assert kb.count_chunks() == 1
    assert kb.committed_sha("a.pdf") == "6" * 64


def test_failed_first_write_leaves_nothing(kb: KnowledgeBase, monkeypatch) -> None:
    def failing_upsert(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(kb.chunks, "upsert", failing_upsert)
    with pytest.raises(RuntimeError):
        kb.write_document(make_doc("a.pdf", ["n1"], "8" * 64), vectors(1))
    assert kb.list_documents() == [] and kb.count_chunks() == 0


@pytest.mark.parametrize("crash_point", ["before-commit", "after-commit"])
def test_repair_after_crash_mid_write(kb: KnowledgeBase, monkeypatch, crash_point) -> None:
    """A crash (simulated by an exception the write does not catch) after the new chunks were
    added leaves a dirty record; repair resolves it to exactly one complete version."""
    kb.write_document(make_doc("a.pdf", ["v1 a", "v1 b"], "a1" * 32), vectors(2))

    class Crash(BaseException):
        pass

    if crash_point == "before-commit":  # the 2nd catalogue write is the commit
        real_put, calls = kb._put_records, {"n": 0}

        def crashing_put(metas):
            calls["n"] += 1
            if calls["n"] == 2:
                raise Crash()
            real_put(metas)

        monkeypatch.setattr(kb, "_put_records", crashing_put)
    else:  # committed, but the old version's chunks were not removed yet

        def crashing_cleanup(doc_id, keep_sha):
            raise Crash()

        monkeypatch.setattr(kb, "_remove_chunks_except", crashing_cleanup)
    with pytest.raises(Crash):
        kb.write_document(make_doc("a.pdf", ["v2 a", "v2 b", "v2 c"], "b2" * 32), vectors(3))
    monkeypatch.undo()

    assert kb.count_chunks() == 5  # both versions are in the collection now
    # readers only see the committed version, even before repair
    expected = ["v1 a", "v1 b"] if crash_point == "before-commit" else ["v2 a", "v2 b", "v2 c"]
    assert sorted(c.text for c in kb.iter_chunks()) == expected
    report = kb.repair()
    assert report.documents_repaired == 1
    assert report.chunks_removed == 5 - len(expected)
    assert sorted(c.text for c in kb.iter_chunks()) == expected
    assert kb.count_chunks() == len(expected)
    assert kb.repair().documents_repaired == 0


def test_repair_removes_orphans_of_a_new_document(kb: KnowledgeBase, monkeypatch) -> None:
    real = kb._catalog.upsert
    calls = {"n": 0}

    def crash_on_commit(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(**kwargs)

    monkeypatch.setattr(kb._catalog, "upsert", crash_on_commit)
    with pytest.raises(KeyboardInterrupt):
        kb.write_document(make_doc("new.pdf", ["x", "y"], "c3" * 32), vectors(2))
    monkeypatch.setattr(kb._catalog, "upsert", real)
    assert kb.list_documents() == []
    assert list(kb.iter_chunks()) == []
    kb.repair()
    assert kb.count_chunks() == 0


def test_repair_leaves_a_write_in_progress_alone(kb: KnowledgeBase, monkeypatch) -> None:
    """Another session's ingest (a thread of the same process) is half-way through a document
    when this one starts an ingest and repairs: the running write is not undone, and it ends
    complete."""
    import threading

    kb.write_document(make_doc("a.pdf", ["v1 a"], "a1" * 32), vectors(1))
    real_upsert = kb._upsert
    halfway, resume = threading.Event(), threading.Event()

    def slow_upsert(chunks, vecs):
        real_upsert(chunks[:1], vecs[:1])
        halfway.set()
        assert resume.wait(30)
        real_upsert(chunks[1:], vecs[1:])

    monkeypatch.setattr(kb, "_upsert", slow_upsert)
    writer = threading.Thread(
        target=kb.write_document,
        args=(make_doc("a.pdf", ["v2 a", "v2 b", "v2 c"], "b2" * 32), vectors(3)),
    )
    writer.start()
    assert halfway.wait(30)
    report = kb.repair()
    assert (report.in_progress, report.documents_repaired, report.chunks_removed) == (1, 0, 0)
    resume.set()
    writer.join(30)
    assert sorted(c.text for c in kb.iter_chunks()) == ["v2 a", "v2 b", "v2 c"]
    assert kb.count_chunks() == 3 and kb.get_document("a.pdf").chunks == 3


@pytest.mark.parametrize(
    ("writer", "age_s", "repaired"),
    [
        ("dead", 1, True),  # a process of this host that no longer exists: crashed
        ("alive", 1, False),  # a live process of this host: still writing
        ("alive", 3600, True),  # ... but for an hour: abandoned
        ("other-host", 1, False),  # another host sharing the Chroma server: cannot tell yet
        ("other-host", 3600, True),
        ("none", 1, True),  # a record written before writers were named
    ],
)
def test_repair_tells_crashed_writers_from_running_ones(
    kb: KnowledgeBase, writer: str, age_s: float, repaired: bool
) -> None:
    import socket
    import subprocess
    import sys
    import time

    host = socket.gethostname()
    if writer == "dead":
        proc = subprocess.Popen([sys.executable, "-c", "pass"])
        proc.wait()
        name = f"{host}:{proc.pid}"
    elif writer == "alive":
        name = f"{host}:{os.getppid()}"
    elif writer == "other-host":
        name = "another-host.example:1234"
    else:
        name = ""
    kb.write_document(make_doc("a.pdf", ["v1 a"], "a1" * 32), vectors(1))
    # a write of v2 that stopped after adding its chunks, before the commit
    record = kb._raw_records()[0]
    kb._put_record({**record, "writer": name, "dirty_at": time.time() - age_s, "dirty": True})
    kb._upsert(
        kb._stored_chunks(make_doc("a.pdf", ["v2 a", "v2 b"], "b2" * 32), record["doc_id"]),
        vectors(2),
    )
    report = kb.repair()
    assert report.documents_repaired == int(repaired) and report.in_progress == int(not repaired)
    assert kb.count_chunks() == (1 if repaired else 3)
    assert [c.text for c in kb.iter_chunks()] == ["v1 a"]  # readers see v1 either way


def test_writes_of_one_document_from_two_threads_do_not_mix(kb: KnowledgeBase) -> None:
    import threading

    versions = [(f"{i:x}" * 64)[:64] for i in range(1, 9)]
    threads = [
        threading.Thread(
            target=kb.write_document,
            args=(make_doc("a.pdf", [f"{sha[:4]} {n}" for n in range(5)], sha), vectors(5)),
        )
        for sha in versions
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    record = kb.get_document("a.pdf")
    texts = sorted(c.text for c in kb.iter_chunks())
    assert texts == [f"{record.sha256[:4]} {n}" for n in range(5)]
    assert kb.count_chunks() == 5 and not kb._raw_records(where={"dirty": True})


# ----------------------------------------------------------- several documents in one write


def texts_by_source(kb: KnowledgeBase) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for chunk in kb.iter_chunks():
        out.setdefault(chunk.metadata["source"], []).append(chunk.text)
    return {k: sorted(v) for k, v in out.items()}


def test_write_documents_commits_each_document(kb: KnowledgeBase) -> None:
    kb.write_document(make_doc("old.md", ["old v1"], "1" * 64), vectors(1))
    docs = [
        make_doc("old.md", ["old v2 a", "old v2 b"], "2" * 64),  # replaces its version 1
        make_doc("a.md", ["a one"], "3" * 64),
        make_doc("b.md", ["b one", "b two", "b three"], "4" * 64),
    ]
    records = kb.write_documents([(d, vectors(len(d.chunks))) for d in docs])
    assert [r.source for r in records] == ["old.md", "a.md", "b.md"]
    assert [r.chunks for r in records] == [2, 1, 3]
    assert texts_by_source(kb) == {
        "old.md": ["old v2 a", "old v2 b"],
        "a.md": ["a one"],
        "b.md": ["b one", "b three", "b two"],
    }
    assert kb.count_chunks() == 6  # version 1 is gone
    assert {d.source: d.sha256 for d in kb.list_documents()} == {
        "old.md": "2" * 64,
        "a.md": "3" * 64,
        "b.md": "4" * 64,
    }
    assert not kb._raw_records(where={"dirty": True})


def test_write_documents_costs_the_round_trips_of_one(kb: KnowledgeBase, monkeypatch) -> None:
    """The point of grouping: the number of Chroma calls does not grow with the number of
    new documents written together."""
    calls: list[str] = []
    for collection, label in ((kb.chunks, "chunks"), (kb._catalog, "catalog")):
        for method in ("get", "upsert", "delete"):
            real = getattr(collection, method)

            def counted(*args, _real=real, _name=f"{label}.{method}", **kwargs):
                calls.append(_name)
                return _real(*args, **kwargs)

            monkeypatch.setattr(collection, method, counted)

    def write(n: int, prefix: str) -> int:
        calls.clear()
        docs = [make_doc(f"{prefix}{i}.md", [f"{prefix} {i}"], f"{i:064d}") for i in range(n)]
        kb.write_documents([(d, vectors(1)) for d in docs])
        return len(calls)

    one, forty = write(1, "x"), write(40, "y")
    assert one == forty <= 5
    assert len(kb.list_documents()) == 41


def test_failed_write_documents_puts_every_document_back(kb: KnowledgeBase, monkeypatch) -> None:
    kb.write_document(make_doc("kept.md", ["kept v1"], "5" * 64), vectors(1))

    def failing_upsert(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(kb.chunks, "upsert", failing_upsert)
    docs = [make_doc("kept.md", ["kept v2"], "6" * 64), make_doc("new.md", ["new"], "7" * 64)]
    with pytest.raises(RuntimeError):
        kb.write_documents([(d, vectors(1)) for d in docs])
    monkeypatch.undo()
    assert texts_by_source(kb) == {"kept.md": ["kept v1"]}
    assert [(d.source, d.sha256) for d in kb.list_documents()] == [("kept.md", "5" * 64)]
    assert kb.count_chunks() == 1 and not kb._raw_records(where={"dirty": True})


@pytest.mark.parametrize("crash_at", [2, 3])  # catalogue upserts: 2 = commit, 3 = clean flags
def test_crash_in_a_grouped_write_is_repaired_per_document(
    kb: KnowledgeBase, monkeypatch, crash_at: int
) -> None:
    kb.write_document(make_doc("old.md", ["old v1"], "1" * 64), vectors(1))
    real, calls = kb._catalog.upsert, {"n": 0}

    def crashing(**kwargs):
        calls["n"] += 1
        if calls["n"] == crash_at:
            raise KeyboardInterrupt
        return real(**kwargs)

    monkeypatch.setattr(kb._catalog, "upsert", crashing)
    docs = [make_doc("old.md", ["old v2"], "2" * 64), make_doc("new.md", ["new"], "3" * 64)]
    with pytest.raises(KeyboardInterrupt):
        kb.write_documents([(d, vectors(1)) for d in docs])
    monkeypatch.undo()
    expected = (
        {"old.md": ["old v1"]} if crash_at == 2 else {"old.md": ["old v2"], "new.md": ["new"]}
    )
    assert texts_by_source(kb) == expected  # readers see committed versions only
    kb.repair()
    assert texts_by_source(kb) == expected
    assert kb.count_chunks() == sum(len(v) for v in expected.values())
    assert not kb._raw_records(where={"dirty": True})


def test_write_documents_refuses_a_document_twice(kb: KnowledgeBase) -> None:
    doc = make_doc("a.md", ["x"], "8" * 64)
    with pytest.raises(StoreError, match="once per call"):
        kb.write_documents([(doc, vectors(1)), (doc, vectors(1))])
    assert kb.list_documents() == []


def test_grouped_writes_of_overlapping_documents_do_not_deadlock(kb: KnowledgeBase) -> None:
    import threading

    names = [f"d{i}.md" for i in range(12)]

    def write(order: list[str], tag: str) -> None:
        for round_ in range(3):
            docs = [
                make_doc(n, [f"{tag}{round_} {n}"], f"{tag}{round_}".ljust(64, "0")) for n in order
            ]
            kb.write_documents([(d, vectors(1)) for d in docs])

    threads = [
        threading.Thread(target=write, args=(names, "a")),
        threading.Thread(target=write, args=(names[::-1], "b")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    assert len(kb.list_documents()) == 12 and kb.count_chunks() == 12


def test_knowledge_bases_are_separate(tmp_path: Path) -> None:
    client = open_chroma_client(path=str(tmp_path / "chroma"))
    one, two = KnowledgeBase(client, "one"), KnowledgeBase(client, "two")
    one.write_document(make_doc("a.pdf", ["x"], "d" * 64), vectors(1))
    assert list_knowledge_bases(client) == ["one", "two"]
    assert two.list_documents() == []
    with pytest.raises(StoreError):
        KnowledgeBase(client, "missing", create=False)
    with pytest.raises(StoreError):
        KnowledgeBase(client, "bad name!")


def test_bad_chroma_url() -> None:
    with pytest.raises(StoreError, match="http://host:port"):
        open_chroma_client(url="localhost:8000")


@pytest.mark.chroma_server
def test_store_against_real_chroma_server(chroma_server: str) -> None:
    client = open_chroma_client(url=chroma_server)
    kb = KnowledgeBase(client, "served")
    kb.write_document(make_doc("a.pdf", ["one", "two"], "e" * 64, pages=[1, 2]), vectors(2))
    kb.write_document(make_doc("a.pdf", ["three"], "f" * 64), vectors(1))
    assert [c.text for c in kb.iter_chunks()] == ["three"]
    # a second client (as a second process would) sees the same data
    other = KnowledgeBase(open_chroma_client(url=chroma_server), "served", create=False)
    assert [d.source for d in other.list_documents()] == ["a.pdf"]
    hits = other.chunks.query(query_embeddings=vectors(1), n_results=1)
    assert hits["documents"][0] == ["three"]
    other.delete_document("a.pdf")
    assert kb.list_documents() == [] and kb.count_chunks() == 0
