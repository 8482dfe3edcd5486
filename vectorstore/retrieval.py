"""Hybrid retrieval: vector search per language plus BM25, fused by reciprocal rank.

Why per language: with multilingual-e5-small a Chinese question scores Chinese passages higher
than equally relevant English ones, so in a mixed pool English passages rarely reach the top.
Searching the zh and the en chunks separately and fusing the lists lets a Chinese question find
English passages and the reverse (DESIGN: 1/6 -> 9/10 on a probe).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from vectorstore.embeddings import E5Embeddings
from vectorstore.keyword import KeywordIndex
from vectorstore.store import KnowledgeBase

log = logging.getLogger(__name__)

LANGS = ("zh", "en")
#: a language whose best comparable similarity trails the other's by more than this margin is
#: demoted to DEMOTED_LANGUAGE_WEIGHT (see ``HybridRetriever.retrieve``)
LANGUAGE_MARGIN = 0.03
DEMOTED_LANGUAGE_WEIGHT = 0.5
#: a question's similarity to passages in the other language runs ~0.1 below what the same
#: content scores in its own language (multilingual-e5-small, measured on the eval set)
CROSS_LANGUAGE_OFFSET = 0.1


@dataclass(frozen=True, slots=True)
class Passage:
    chunk_id: str
    text: str
    source: str
    page: int | None
    section: str
    lang: str
    kind: str
    kb: str
    score: float = 0.0  # fused (reciprocal-rank) score
    similarity: float | None = None  # cosine similarity to the question, when vector-matched
    keyword_score: float | None = None
    rank: int = 0

    @classmethod
    def from_metadata(cls, chunk_id: str, text: str, meta: dict[str, Any], kb: str) -> Passage:
        page = meta.get("page")
        return cls(
            chunk_id=chunk_id,
            text=text,
            source=str(meta.get("source", "")),
            page=int(page) if page is not None else None,
            section=str(meta.get("section", "")),
            lang=str(meta.get("lang", "")),
            kind=str(meta.get("kind", "")),
            kb=kb,
        )


@dataclass(slots=True)
class RetrievalFilter:
    kinds: Sequence[str] | None = None  # None: every kind

    def where(self, lang: str | None = None) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if lang:
            clauses.append({"lang": lang})
        if self.kinds:
            clauses.append({"kind": {"$in": list(self.kinds)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def accepts(self, meta: dict[str, Any]) -> bool:
        return not self.kinds or meta.get("kind") in self.kinds


@dataclass(slots=True)
class _Candidate:
    passage: Passage
    fused: float = 0.0
    similarity: float | None = None
    keyword: float | None = None
    ranks: dict[str, int] = field(default_factory=dict)


class SearchableKB:
    """A knowledge base together with its keyword index, kept in step on every search."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.keywords = KeywordIndex()
        self._lock = threading.Lock()

    def sync(self) -> dict[str, str]:
        with self._lock:
            self.keywords.sync(self.kb)
            return self.keywords.versions


_SHINGLE_CLEAN = re.compile(r"\s+")


def _shingles(text: str, n: int = 3) -> set[str]:
    compact = _SHINGLE_CLEAN.sub("", text)
    return {compact[i : i + n] for i in range(max(1, len(compact) - n + 1))}


def near_duplicate(a: str, b: str, threshold: float = 0.8) -> bool:
    """True when two passages share most of their character trigrams (overlap copies,
    the same article in two editions of a document)."""
    sa, sb = _shingles(a), _shingles(b)
    if not sa or not sb:
        return a.strip() == b.strip()
    inter = len(sa & sb)
    return inter / min(len(sa), len(sb)) >= threshold if inter else False


class HybridRetriever:
    def __init__(
        self,
        sources: Sequence[SearchableKB],
        embeddings: E5Embeddings,
        *,
        per_list_k: int = 12,
        rrf_k: int = 60,
        dedupe_threshold: float = 0.8,
    ) -> None:
        if not sources:
            raise ValueError("at least one knowledge base is needed")
        self.sources = list(sources)
        self.embeddings = embeddings
        self.per_list_k = per_list_k
        self.rrf_k = rrf_k
        self.dedupe_threshold = dedupe_threshold

    def retrieve(
        self,
        query: str,
        k: int = 6,
        flt: RetrievalFilter | None = None,
        *,
        query_lang: str | None = None,
        translated_terms: Sequence[str] = (),
    ) -> list[Passage]:
        """Top ``k`` passages for ``query``.

        Ranked lists per knowledge base: a vector search over each language's chunks, BM25 on
        the question, and, when ``translated_terms`` (the question's key terms in the other
        language, from a glossary) are given, a vector and a keyword search of those terms over
        the other language's chunks. They are fused by reciprocal rank, each candidate's sum
        scaled by the weight of its language.

        Which language holds the evidence is decided by comparable similarities: the question
        against chunks in its own language, and the translated terms against chunks in the
        other (or, without terms, the plain cross-language similarity plus a calibrated
        offset). The language that loses by more than a margin is demoted, so that a
        language with few passages cannot place loosely related ones at the top merely by
        being a separate list (measured on the eval set: docs/BENCHMARKS.md).
        """
        flt = flt or RetrievalFilter()
        other = {"zh": "en", "en": "zh"}.get(query_lang or "")
        searches = [("question", query, lang) for lang in LANGS]
        terms = " ".join(translated_terms)
        if terms and other:
            searches.append(("translated", terms, other))
        embedded = {t: self.embeddings.embed_query(t) for t in {text for _, text, _ in searches}}

        candidates: dict[str, _Candidate] = {}
        best: dict[tuple[str, str], float] = {}  # (search, lang) -> best similarity
        for source in self.sources:
            versions = source.sync()
            if not versions:
                continue
            for name, text, lang in searches:
                vector = np.asarray([embedded[text]], dtype=np.float32)
                top = self._vector_list(
                    source, vector, f"vec:{name}:{lang}", lang, flt, versions, candidates
                )
                if top is not None:
                    best[(name, lang)] = max(best.get((name, lang), -1.0), top)
            self._keyword_list(source, query, flt, candidates, "bm25", None)
            if terms and other:
                self._keyword_list(source, terms, flt, candidates, "bm25:translated", other)

        weights = self._language_weights(best, query_lang, other)
        for cand in candidates.values():
            cand.fused = weights.get(cand.passage.lang, 1.0) * sum(
                1.0 / (self.rrf_k + rank) for rank in cand.ranks.values()
            )
        ranked = sorted(candidates.values(), key=lambda c: c.fused, reverse=True)
        return self._dedupe_and_number(ranked, k)

    @staticmethod
    def _language_weights(
        best: dict[tuple[str, str], float], query_lang: str | None, other: str | None
    ) -> dict[str, float]:
        if not query_lang or not other:
            return {}
        native = {query_lang: best.get(("question", query_lang))}
        translated = best.get(("translated", other))
        cross = best.get(("question", other))
        native[other] = (
            translated
            if translated is not None
            else (cross + CROSS_LANGUAGE_OFFSET if cross is not None else None)
        )
        known = {lang: sim for lang, sim in native.items() if sim is not None}
        if len(known) < 2:
            return {}
        top = max(known.values())
        return {
            lang: 1.0 if sim >= top - LANGUAGE_MARGIN else DEMOTED_LANGUAGE_WEIGHT
            for lang, sim in known.items()
        }

    def _add(
        self, candidates: dict[str, _Candidate], list_name: str, rank: int, passage: Passage
    ) -> _Candidate:
        cand = candidates.get(passage.chunk_id)
        if cand is None:
            cand = candidates[passage.chunk_id] = _Candidate(passage)
        cand.ranks.setdefault(list_name, rank)
        return cand

    def _vector_list(
        self,
        source: SearchableKB,
        vector: Any,
        list_name: str,
        lang: str,
        flt: RetrievalFilter,
        versions: dict[str, str],
        candidates: dict[str, _Candidate],
    ) -> float | None:
        """Adds one vector list; returns its best similarity (None when it is empty)."""
        got = source.kb.chunks.query(
            query_embeddings=vector,
            n_results=self.per_list_k,
            where=flt.where(lang),
            include=["documents", "metadatas", "distances"],
        )
        ids = got["ids"][0]
        docs = (got["documents"] or [[]])[0]
        metas = (got["metadatas"] or [[]])[0]
        dists = (got["distances"] or [[]])[0]
        rank, top = 0, None
        for cid, text, meta, dist in zip(ids, docs, metas, dists, strict=True):
            meta = dict(meta)
            if versions.get(str(meta.get("doc_id"))) != meta.get("doc_sha256"):
                continue  # a write in progress or interrupted: not committed
            rank += 1
            similarity = 1.0 - float(dist)
            top = similarity if top is None else max(top, similarity)
            passage = Passage.from_metadata(cid, text or "", meta, source.kb.name)
            cand = self._add(candidates, f"{source.kb.name}:{list_name}", rank, passage)
            if cand.similarity is None or similarity > cand.similarity:
                cand.similarity = similarity
        return top

    def _keyword_list(
        self,
        source: SearchableKB,
        query: str,
        flt: RetrievalFilter,
        candidates: dict[str, _Candidate],
        name: str,
        lang: str | None,
    ) -> None:
        def accept(meta: dict[str, Any]) -> bool:
            return flt.accepts(meta) and (lang is None or meta.get("lang") == lang)

        hits = source.keywords.search(query, k=self.per_list_k, accept=accept)
        for rank, hit in enumerate(hits, start=1):
            passage = Passage.from_metadata(hit.chunk_id, hit.text, hit.metadata, source.kb.name)
            cand = self._add(candidates, f"{source.kb.name}:{name}", rank, passage)
            if cand.keyword is None or hit.score > cand.keyword:
                cand.keyword = hit.score

    def _dedupe_and_number(self, ranked: list[_Candidate], k: int) -> list[Passage]:
        kept: list[_Candidate] = []
        for cand in ranked:
            if any(
                near_duplicate(cand.passage.text, other.passage.text, self.dedupe_threshold)
                for other in kept
            ):
                continue
            kept.append(cand)
            if len(kept) >= k:
                break
        return [
            replace(
                c.passage,
                score=c.fused,
                similarity=c.similarity,
                keyword_score=c.keyword,
                rank=i,
            )
            for i, c in enumerate(kept, start=1)
        ]
