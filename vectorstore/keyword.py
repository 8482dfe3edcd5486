"""A BM25 keyword index over the committed chunks of one knowledge base.

Chinese is segmented with jieba (search mode, so 产教融合 also yields 产教 / 融合), English is
lower-cased and split into words. The index is kept in step with the store incrementally:
``sync`` compares the documents it holds with the store's committed versions (one small
catalogue read) and adds or drops only the documents that changed, including changes made by
other processes sharing a Chroma server. Nothing is rebuilt per question.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from textrules import HAN_RUN

log = logging.getLogger(__name__)

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'-]*|\d+(?:\.\d+)?")
# Function words that carry no topic; one string each so the lists stay readable.
_EN_STOP = frozenset(
    (
        "a an and are as at be by for from has have how in is it its of on or that the their "
        "this to was were what when which who why will with do does can should would could "
        "into than then there these those they we you your our"
    ).split()
)
_ZH_STOP = frozenset(
    "的 了 和 与 及 或 是 在 对 为 把 被 等 中 上 下 之 其 各 有 应当 可以 什么 如何 哪些 怎么 "
    "怎样 吗 呢".split()
)


@lru_cache(maxsize=1)
def jieba_module() -> Any:
    """jieba, initialised once and quietly (its start-up log line is silenced)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def tokenize(text: str) -> list[str]:
    """Search terms of a mixed Chinese/English text."""
    terms: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group().lower().strip("'-")
        if word and word not in _EN_STOP:
            terms.append(_stem(word))
    han_runs = HAN_RUN.findall(text)
    if han_runs:
        jieba = jieba_module()
        for run in han_runs:
            for term in jieba.lcut_for_search(run):
                if term not in _ZH_STOP and (len(term) > 1 or run == term):
                    terms.append(term)
    return terms


def _stem(word: str) -> str:
    """A light English suffix stripper: enough to match plural and -ing/-ed forms."""
    for suffix, min_len in (("ies", 5), ("ing", 6), ("ed", 5), ("es", 5), ("s", 4)):
        if word.endswith(suffix) and len(word) >= min_len and not word.endswith("ss"):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


class ChunkSource(Protocol):
    """What the index reads from a knowledge base (``vectorstore.store.KnowledgeBase``)."""

    def committed_versions(self) -> dict[str, str]: ...

    def iter_chunks(
        self, where: dict[str, Any] | None = None, *, embeddings: bool = False
    ) -> Iterable[Any]: ...


class SyncFollower(Protocol):
    """Another index kept in step by the same sync (``vectorstore.dense.DenseIndex``)."""

    def add(self, chunk_id: str, vector: Any, metadata: dict[str, Any], text: str) -> None: ...

    def remove_document(self, doc_id: str) -> int: ...


@dataclass(frozen=True, slots=True)
class KeywordHit:
    chunk_id: str
    score: float
    metadata: dict[str, Any]
    text: str


class KeywordIndex:
    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self._lock = threading.RLock()
        self._postings: dict[str, dict[str, int]] = defaultdict(dict)  # term -> chunk -> tf
        self._lengths: dict[str, int] = {}
        self._meta: dict[str, dict[str, Any]] = {}
        self._text: dict[str, str] = {}
        self._terms: dict[str, list[str]] = {}  # chunk -> its distinct terms, for removal
        self._doc_chunks: dict[str, list[str]] = defaultdict(list)
        self._versions: dict[str, str] = {}  # doc_id -> sha256 held in the index
        self._total_length = 0

    def __len__(self) -> int:
        return len(self._lengths)

    @property
    def versions(self) -> dict[str, str]:
        return dict(self._versions)

    def chunk_texts(self) -> dict[str, str]:
        with self._lock:
            return dict(self._text)

    def metadata(self, chunk_id: str) -> dict[str, Any]:
        with self._lock:
            return self._meta.get(chunk_id, {})

    def document_metadata(self) -> dict[str, dict[str, Any]]:
        """Per document held, the metadata of its first chunk (source, title, kind, lang)."""
        with self._lock:
            return {d: self._meta[ids[0]] for d, ids in self._doc_chunks.items() if ids}

    def add(self, chunk_id: str, text: str, metadata: dict[str, Any]) -> None:
        with self._lock:
            if chunk_id in self._lengths:
                return
            counts = Counter(tokenize(f"{metadata.get('section', '')}\n{text}"))
            for term, tf in counts.items():
                self._postings[term][chunk_id] = tf
            length = sum(counts.values())
            self._lengths[chunk_id] = length
            self._total_length += length
            self._meta[chunk_id] = metadata
            self._text[chunk_id] = text
            self._terms[chunk_id] = list(counts)
            self._doc_chunks[str(metadata.get("doc_id", ""))].append(chunk_id)

    def remove_document(self, doc_id: str) -> int:
        with self._lock:
            chunk_ids = self._doc_chunks.pop(doc_id, [])
            for chunk_id in chunk_ids:
                self._total_length -= self._lengths.pop(chunk_id, 0)
                self._meta.pop(chunk_id, None)
                self._text.pop(chunk_id, None)
                for term in self._terms.pop(chunk_id, []):
                    postings = self._postings[term]
                    postings.pop(chunk_id, None)
                    if not postings:
                        del self._postings[term]
            self._versions.pop(doc_id, None)
            return len(chunk_ids)

    def sync(self, source: ChunkSource, follower: SyncFollower | None = None) -> tuple[int, int]:
        """Bring the index (and ``follower``) in line with ``source``; returns (documents
        added, removed)."""
        with self._lock:
            committed = source.committed_versions()
            stale = [d for d, sha in self._versions.items() if committed.get(d) != sha]
            for doc_id in stale:
                self.remove_document(doc_id)
                if follower is not None:
                    follower.remove_document(doc_id)
            missing = {d: sha for d, sha in committed.items() if self._versions.get(d) != sha}
            if missing:
                where: dict[str, Any] | None
                ids = sorted(missing)
                where = {"doc_id": ids[0]} if len(ids) == 1 else {"doc_id": {"$in": ids}}
                for chunk in source.iter_chunks(where=where, embeddings=follower is not None):
                    self.add(chunk.chunk_id, chunk.text, chunk.metadata)
                    if follower is not None:
                        follower.add(chunk.chunk_id, chunk.embedding, chunk.metadata, chunk.text)
                self._versions.update(missing)
            if stale or missing:
                log.info("keyword index: +%d / -%d document(s)", len(missing), len(stale))
            return len(missing), len(stale)

    def search(
        self,
        query: str,
        k: int = 10,
        accept: Callable[[dict[str, Any]], bool] | None = None,
    ) -> list[KeywordHit]:
        """Top ``k`` chunks by BM25; ``accept(metadata)`` filters candidates."""
        terms = tokenize(query)
        with self._lock:
            n = len(self._lengths)
            if not n or not terms:
                return []
            avg = self._total_length / n
            scores: dict[str, float] = defaultdict(float)
            for term, qtf in Counter(terms).items():
                postings = self._postings.get(term)
                if not postings:
                    continue
                idf = math.log(1 + (n - len(postings) + 0.5) / (len(postings) + 0.5))
                for chunk_id, tf in postings.items():
                    norm = tf + self.k1 * (1 - self.b + self.b * self._lengths[chunk_id] / avg)
                    scores[chunk_id] += qtf * idf * tf * (self.k1 + 1) / norm
            ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
            hits = []
            for chunk_id, score in ranked:
                meta = self._meta[chunk_id]
                if accept is None or accept(meta):
                    hits.append(KeywordHit(chunk_id, score, meta, self._text[chunk_id]))
                    if len(hits) >= k:
                        break
            return hits
