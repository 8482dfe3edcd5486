"""Exact vector search over the committed chunks of one knowledge base, in memory.

Chroma stays the store of record, but its approximate (HNSW) index can lose live records after
deletes and re-adds: chromadb 1.5.9 returns neither of two chunks whose cosine similarity to a
question was the highest in the collection, although ``get`` still finds them (the same
symptom as chroma-core/chroma#7758). Replacing documents is routine here (a policy file is
edited and ingested again), so the advisor does not depend on that index: it keeps the
committed chunks' stored embeddings in one matrix, kept in step with the store by the same
incremental sync as the keyword index, and scores them all. A 10,000-chunk knowledge base is
15 MB of float32 vectors and one matrix-vector product (~2 ms) per search.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class DenseHit:
    chunk_id: str
    similarity: float
    metadata: dict[str, Any]
    text: str


class DenseIndex:
    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._lock = threading.RLock()
        self._vectors: dict[str, np.ndarray] = {}
        self._meta: dict[str, dict[str, Any]] = {}
        self._text: dict[str, str] = {}
        self._doc_chunks: dict[str, list[str]] = defaultdict(list)
        self._matrix: np.ndarray | None = None  # rebuilt lazily after a change
        self._ids: list[str] = []

    def __len__(self) -> int:
        return len(self._vectors)

    def add(
        self,
        chunk_id: str,
        vector: Sequence[float] | np.ndarray,
        metadata: dict[str, Any],
        text: str,
    ) -> None:
        array = np.asarray(vector, dtype=np.float32).reshape(-1)
        if array.shape[0] != self.dim:
            raise ValueError(f"chunk {chunk_id}: embedding size {array.shape[0]}, not {self.dim}")
        norm = float(np.linalg.norm(array))
        with self._lock:
            if chunk_id not in self._vectors:
                self._doc_chunks[str(metadata.get("doc_id", ""))].append(chunk_id)
            self._vectors[chunk_id] = array / norm if norm else array
            self._meta[chunk_id] = metadata
            self._text[chunk_id] = text
            self._matrix = None

    def remove_document(self, doc_id: str) -> int:
        with self._lock:
            chunk_ids = self._doc_chunks.pop(doc_id, [])
            for chunk_id in chunk_ids:
                self._vectors.pop(chunk_id, None)
                self._meta.pop(chunk_id, None)
                self._text.pop(chunk_id, None)
            if chunk_ids:
                self._matrix = None
            return len(chunk_ids)

    def vector(self, chunk_id: str) -> np.ndarray | None:
        with self._lock:
            return self._vectors.get(chunk_id)

    def search(
        self,
        query: Sequence[float] | np.ndarray,
        k: int = 10,
        accept: Callable[[dict[str, Any]], bool] | None = None,
    ) -> list[DenseHit]:
        """Top ``k`` chunks by cosine similarity; ``accept(metadata)`` filters candidates."""
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        with self._lock:
            if not self._vectors:
                return []
            if self._matrix is None:
                self._ids = list(self._vectors)
                self._matrix = np.stack([self._vectors[i] for i in self._ids])
            scores = self._matrix @ q
            hits: list[DenseHit] = []
            for row in np.argsort(-scores, kind="stable"):
                chunk_id = self._ids[row]
                meta = self._meta[chunk_id]
                if accept is None or accept(meta):
                    hits.append(DenseHit(chunk_id, float(scores[row]), meta, self._text[chunk_id]))
                    if len(hits) >= k:
                        break
            return hits
