"""The embedder's parallel path (worker threads, one core each) against one text at a time."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from vectorstore.embeddings import E5Embeddings
from vectorstore.gate import compute_gate

TEXTS = [
    f"第{i}条 职业学校应当与企业共建实训基地，企业提供设备和导师。" + "学校提供课程。" * (i % 7)
    for i in range(23)
] + ["Enterprises provide mentors and equipment; colleges provide teachers."]


@pytest.fixture(scope="module")
def parallel() -> E5Embeddings:
    embedder = E5Embeddings(workers=2)
    yield embedder
    embedder.close()


def test_parallel_vectors_equal_one_at_a_time(embeddings, parallel) -> None:
    assert parallel.workers == 2  # the wheel's OpenMP runtime was found
    alone = E5Embeddings(workers=1)
    assert alone.workers == 1
    one_by_one = alone.embed_passages(TEXTS, batch_size=1)
    seen: list[int] = []
    together = parallel.embed_passages(TEXTS, on_batch=seen.append)
    assert together.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(together, one_by_one, atol=1e-6)  # row i is text i
    assert sum(seen) == len(TEXTS) and max(seen) <= 4
    # two texts: each worker gets one; one text: the plain path
    np.testing.assert_allclose(parallel.embed_passages(TEXTS[:2]), one_by_one[:2], atol=1e-6)
    np.testing.assert_allclose(parallel.embed_passages(TEXTS[:1]), one_by_one[:1], atol=1e-6)
    # a query still uses all cores from the calling thread, and still works after
    assert len(parallel.embed_query("校企合作")) == 384


def test_a_question_waiting_for_the_gate_gets_it_before_a_long_embedding_ends(parallel) -> None:
    texts = TEXTS * 8  # several seconds of embedding
    times: dict[str, float] = {}

    def embed() -> None:
        parallel.embed_passages(texts)
        times["embedding_done"] = time.monotonic()

    worker = threading.Thread(target=embed)
    worker.start()
    while not compute_gate.held:
        time.sleep(0.001)
    time.sleep(0.2)
    with compute_gate:  # what a retrieval does
        times["question_in"] = time.monotonic()
    worker.join(120)
    assert not worker.is_alive()
    assert times["question_in"] < times["embedding_done"]


def test_tokens_are_counted_while_an_embedding_runs(parallel) -> None:
    """Ingest's chunking counts tokens while the group before is embedded: the count must not
    wait for the embedding (it did, behind the model's lock, for every group), and it is the
    count of a quiet moment."""
    texts = TEXTS * 8  # several seconds of embedding
    expected = [parallel.count_tokens(t) for t in TEXTS]
    done = threading.Event()

    def embed() -> None:
        parallel.embed_passages(texts)
        done.set()

    worker = threading.Thread(target=embed)
    worker.start()
    while not compute_gate.held:
        time.sleep(0.001)
    time.sleep(0.2)
    counted = [parallel.count_tokens(t) for t in TEXTS]
    finished_before_count = done.is_set()
    worker.join(120)
    assert not finished_before_count, "the count waited for the embedding"
    assert counted == expected


def test_a_failing_batch_is_raised_after_the_others_finish(parallel, monkeypatch) -> None:
    real = parallel._model.passage

    def flaky(batch):
        if any("坏" in t for t in batch):
            raise RuntimeError("engine failed")
        return real(batch)

    monkeypatch.setattr(parallel._model, "passage", flaky)
    with pytest.raises(RuntimeError, match="engine failed"):
        parallel.embed_passages([*TEXTS[:8], "坏的文本", *TEXTS[8:16]])
    assert not compute_gate.held  # the gate was let go
