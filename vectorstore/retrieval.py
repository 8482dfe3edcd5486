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
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from vectorstore.dense import DenseIndex
from vectorstore.embeddings import EMBEDDING_DIM, E5Embeddings
from vectorstore.gate import compute_gate
from vectorstore.keyword import KeywordIndex
from vectorstore.names import document_names, named_documents, names_a_year, prefer_version
from vectorstore.store import DocumentRecord, KnowledgeBase

log = logging.getLogger(__name__)

LANGS = ("zh", "en")
#: a language whose best comparable similarity trails the other's by more than this margin is
#: demoted to DEMOTED_LANGUAGE_WEIGHT (see ``HybridRetriever.retrieve``)
LANGUAGE_MARGIN = 0.03
DEMOTED_LANGUAGE_WEIGHT = 0.5
#: a passage of a superseded version weighs this much in the ranking, unless the question
#: names that version's year: retrieval prefers the version in force (and leaves the old one
#: out when passages of the version in force are candidates too)
SUPERSEDED_WEIGHT = 0.5
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
    page_breaks: tuple[tuple[int, int], ...] = ()
    #: pages of this chunk whose text was read with OCR
    ocr_pages: frozenset[int] = frozenset()
    #: the document the chunk belongs to (its catalogue record: title, version, status)
    doc_id: str = ""

    def page_at(self, offset: int) -> int | None:
        """The page of the character at ``offset`` in ``text``."""
        page = self.page
        for start, number in self.page_breaks:
            if start <= offset:
                page = number
        return page

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
            page_breaks=_parse_page_breaks(str(meta.get("page_breaks", ""))),
            ocr_pages=frozenset(
                int(n) for n in str(meta.get("ocr_pages", "")).split(",") if n.isdigit()
            ),
            doc_id=str(meta.get("doc_id", "")),
        )


def _parse_page_breaks(value: str) -> tuple[tuple[int, int], ...]:
    pairs = []
    for item in value.split(","):
        offset, _, page = item.partition(":")
        if offset.isdigit() and page.isdigit():
            pairs.append((int(offset), int(page)))
    return tuple(pairs)


@dataclass(slots=True)
class RetrievalFilter:
    kinds: Sequence[str] | None = None  # None: every kind
    #: per knowledge base, the only documents to search there (a user's chosen plans);
    #: knowledge bases not named here are searched whole
    docs: Mapping[str, Collection[str]] | None = None

    def where(self, lang: str | None = None) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if lang:
            clauses.append({"lang": lang})
        if self.kinds:
            clauses.append({"kind": {"$in": list(self.kinds)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def accepts(self, meta: dict[str, Any], kb: str | None = None) -> bool:
        if self.kinds and meta.get("kind") not in self.kinds:
            return False
        if self.docs and kb is not None and kb in self.docs:
            return str(meta.get("doc_id")) in self.docs[kb]
        return True


@dataclass(slots=True)
class _Candidate:
    passage: Passage
    fused: float = 0.0
    similarity: float | None = None
    keyword: float | None = None
    ranks: dict[str, int] = field(default_factory=dict)


class SearchableKB:
    """A knowledge base together with its keyword index, kept in step on every search."""

    def __init__(self, kb: KnowledgeBase, dim: int = EMBEDDING_DIM) -> None:
        self.kb = kb
        self.keywords = KeywordIndex()
        self.vectors = DenseIndex(dim)
        self._lock = threading.Lock()
        self._names: dict[str, list[str]] = {}
        self._sources: dict[str, str] = {}  # doc_id -> file name, for the version labels
        self._names_for: dict[str, str] | None = None

    def sync(self) -> dict[str, str]:
        with self._lock:
            self.keywords.sync(self.kb, follower=self.vectors)
            return self.keywords.versions

    def document_names(self) -> dict[str, list[str]]:
        """Per document, the names a question may cite it by (vectorstore/names.py); kept
        until the documents change."""
        return self._document_catalogue()[0]

    def document_sources(self) -> dict[str, str]:
        """Per document, its file name (the label ``prefer_version`` reads a version's date
        from); kept with the names."""
        return self._document_catalogue()[1]

    def _document_catalogue(self) -> tuple[dict[str, list[str]], dict[str, str]]:
        versions = self.keywords.versions
        with self._lock:
            if self._names_for != versions:
                meta = self.keywords.document_metadata()
                self._sources = {doc_id: str(m.get("source", "")) for doc_id, m in meta.items()}
                self._names = {
                    doc_id: document_names(self._sources[doc_id], str(m.get("title", "")))
                    for doc_id, m in meta.items()
                }
                self._names_for = versions
            return self._names, self._sources


def superseded_of(source: SearchableKB, docs: Collection[str]) -> set[str]:
    """Of ``docs``, those the catalogue marks superseded."""
    records = source.kb.get_documents(docs)
    return {d for d, r in records.items() if r.status == "superseded"}


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


def _round_robin_by_document(candidates: list[_Candidate], n: int) -> list[_Candidate]:
    """Up to ``n`` candidates, best first, taking turns between documents: when a question
    names two documents, each gets passages."""
    queues: dict[str, list[_Candidate]] = {}
    for cand in candidates:
        queues.setdefault(cand.passage.source, []).append(cand)
    picked: list[_Candidate] = []
    while len(picked) < n and any(queues.values()):
        for queue in queues.values():
            if queue and len(picked) < n:
                picked.append(queue.pop(0))
    return picked


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

    def document_record(self, kb: str, doc_id: str) -> DocumentRecord | None:
        """The catalogue record of a passage's document (its title, version and status as
        they are now), or None when it is gone."""
        for source in self.sources:
            if source.kb.name == kb:
                return source.kb.get_document(doc_id)
        return None

    def warm_up(self) -> None:
        """Build what the first search would wait for: each knowledge base's keyword index
        and document names (seconds on a large collection) and the embedding model."""
        for source in self.sources:
            source.sync()
            source.document_names()
        self.embeddings.embed_query("warm-up 预热")

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
        with compute_gate:  # takes turns with generation (vectorstore/gate.py says why)
            return self._retrieve(query, k, flt or RetrievalFilter(), query_lang, translated_terms)

    def _retrieve(
        self,
        query: str,
        k: int,
        flt: RetrievalFilter,
        query_lang: str | None,
        translated_terms: Sequence[str],
    ) -> list[Passage]:
        other = {"zh": "en", "en": "zh"}.get(query_lang or "")
        searches = [("question", query, lang) for lang in LANGS]
        terms = " ".join(translated_terms)
        if terms and other:
            searches.append(("translated", terms, other))
        embedded = {t: self.embeddings.embed_query(t) for t in {text for _, text, _ in searches}}

        # Each search is one ranked list across every knowledge base searched (the shared one
        # and a plan's private one): scores decide the order, so a plan's passage and a shared
        # passage compete on merit rather than each topping its own list.
        lists: dict[str, list[tuple[float, Passage, dict[str, Any]]]] = {}
        named: set[str] = set()  # chunk ids of the documents the question names
        for source in self.sources:
            versions = source.sync()
            if not versions:
                continue
            docs = named_documents(query, source.document_names(), translated_terms)
            scoped = flt.docs.get(source.kb.name) if flt.docs else None
            if scoped is not None:  # only the documents of the scope count
                docs = {d for d in docs if d in scoped}
            if len(docs) > 1:
                sources = source.document_sources()
                labels = {d: sources.get(d, "") for d in docs}
                docs = prefer_version(query, docs, labels, superseded_of(source, docs))
            if docs:
                # the named documents' own ranked lists, so that their best passages are
                # candidates even where other documents fill every general list
                def in_named(meta: dict[str, Any], docs: set[str] = docs) -> bool:
                    return str(meta.get("doc_id")) in docs

                vector = np.asarray([embedded[query]], dtype=np.float32)
                vector_hits = self._vector_hits(source, vector, None, flt, extra=in_named)
                keyword_hits = self._keyword_hits(source, query, flt, None, extra=in_named)
                lists.setdefault("vec:named:any", []).extend(vector_hits)
                lists.setdefault("bm25:named", []).extend(keyword_hits)
                named.update(p.chunk_id for _, p, _ in vector_hits + keyword_hits)
            for name, text, lang in searches:
                vector = np.asarray([embedded[text]], dtype=np.float32)
                lists.setdefault(f"vec:{name}:{lang}", []).extend(
                    self._vector_hits(source, vector, lang, flt)
                )
            lists.setdefault("bm25", []).extend(self._keyword_hits(source, query, flt, None))
            if terms and other:
                lists.setdefault("bm25:translated", []).extend(
                    self._keyword_hits(source, terms, flt, other)
                )

        candidates: dict[str, _Candidate] = {}
        best: dict[tuple[str, str], float] = {}  # (search, lang) -> best similarity
        for list_name, hits in lists.items():
            hits.sort(key=lambda hit: hit[0], reverse=True)
            is_vector = list_name.startswith("vec:")
            if is_vector and hits:
                _, search, lang = list_name.split(":")
                best[(search, lang)] = hits[0][0]
            for rank, (score, passage, _meta) in enumerate(hits[: self.per_list_k], start=1):
                cand = candidates.get(passage.chunk_id)
                if cand is None:
                    cand = candidates[passage.chunk_id] = _Candidate(passage)
                cand.ranks.setdefault(list_name, rank)
                if is_vector:
                    cand.similarity = max(cand.similarity or -1.0, score)
                else:
                    cand.keyword = max(cand.keyword or 0.0, score)

        weights = self._language_weights(best, query_lang, other)
        old = self._superseded(candidates.values(), query, flt)
        for cand in candidates.values():
            cand.fused = weights.get(cand.passage.lang, 1.0) * sum(
                1.0 / (self.rrf_k + rank) for rank in cand.ranks.values()
            )
            if (cand.passage.kb, cand.passage.doc_id) in old:
                cand.fused *= SUPERSEDED_WEIGHT
        candidates = {
            chunk_id: cand
            for chunk_id, cand in candidates.items()
            if not old.get((cand.passage.kb, cand.passage.doc_id), False)
        }
        # The documents the question names come first: up to k - 1 of their passages, so
        # that one other passage (a related regulation) may still be seen.
        ranked = sorted(candidates.values(), key=lambda c: c.fused, reverse=True)
        if named:
            first = _round_robin_by_document(
                [c for c in ranked if c.passage.chunk_id in named], max(1, k - 1)
            )
            ranked = first + [c for c in ranked if c not in first]
        return self._dedupe_and_number(ranked, k)

    def _superseded(
        self, candidates: Iterable[_Candidate], query: str, flt: RetrievalFilter
    ) -> dict[tuple[str, str], bool]:
        """(kb, doc id) of the candidates' documents that a newer version has superseded,
        unless the question names that version's year ("1996年的职业教育法…") or a scope left
        the newer version out (``--until 2020``); True where the version in force is among the
        candidates too (the old one then makes way for it)."""
        wanted: dict[str, set[str]] = {}
        for cand in candidates:
            wanted.setdefault(cand.passage.kb, set()).add(cand.passage.doc_id)
        old: dict[tuple[str, str], bool] = {}
        for source in self.sources:
            docs = wanted.get(source.kb.name)
            if not docs:
                continue
            scoped = flt.docs.get(source.kb.name) if flt.docs else None
            for doc_id, record in source.kb.get_documents(docs).items():
                if scoped is not None and record.superseded_by not in scoped:
                    continue  # the scope left out the newer version: the old one is wanted
                label = f"{record.source} {record.title} {record.revised} {record.adopted}"
                if record.status == "superseded" and not names_a_year(query, label):
                    old[(source.kb.name, doc_id)] = record.superseded_by in docs
        return old

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

    @staticmethod
    def _accept(
        source: SearchableKB,
        flt: RetrievalFilter,
        lang: str | None,
        extra: Callable[[dict[str, Any]], bool] | None,
    ) -> Callable[[dict[str, Any]], bool]:
        """A chunk a search may return: within the filter, in ``lang`` (any when None), and
        accepted by ``extra`` (the named documents)."""

        def accept(meta: dict[str, Any]) -> bool:
            return (
                flt.accepts(meta, source.kb.name)
                and (lang is None or meta.get("lang") == lang)
                and (extra is None or extra(meta))
            )

        return accept

    @staticmethod
    def _hits(
        source: SearchableKB, found: Iterable[tuple[float, str, str, dict[str, Any]]]
    ) -> list[tuple[float, Passage, dict[str, Any]]]:
        return [
            (score, Passage.from_metadata(chunk_id, text, meta, source.kb.name), meta)
            for score, chunk_id, text, meta in found
        ]

    def _vector_hits(
        self,
        source: SearchableKB,
        vector: Any,
        lang: str | None,
        flt: RetrievalFilter,
        extra: Callable[[dict[str, Any]], bool] | None = None,
    ) -> list[tuple[float, Passage, dict[str, Any]]]:
        # exact search over the committed chunks (vectorstore/dense.py says why not Chroma's
        # approximate index)
        accept = self._accept(source, flt, lang, extra)
        found = source.vectors.search(vector[0], k=self.per_list_k, accept=accept)
        return self._hits(source, ((h.similarity, h.chunk_id, h.text, h.metadata) for h in found))

    def _keyword_hits(
        self,
        source: SearchableKB,
        query: str,
        flt: RetrievalFilter,
        lang: str | None,
        extra: Callable[[dict[str, Any]], bool] | None = None,
    ) -> list[tuple[float, Passage, dict[str, Any]]]:
        accept = self._accept(source, flt, lang, extra)
        found = source.keywords.search(query, k=self.per_list_k, accept=accept)
        return self._hits(source, ((h.score, h.chunk_id, h.text, h.metadata) for h in found))

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

    def passage_vectors(self, passages: Sequence[Passage]) -> np.ndarray:
        """The stored embeddings of ``passages`` (rows in the same order)."""
        by_kb = {source.kb.name: source for source in self.sources}
        out = np.zeros((len(passages), self.embeddings.dim), dtype=np.float32)
        for i, passage in enumerate(passages):
            source = by_kb.get(passage.kb)
            vector = source.vectors.vector(passage.chunk_id) if source is not None else None
            if vector is not None:
                out[i] = vector
        return out

    def support_matrix(self, sentences: Sequence[str], passages: Sequence[Passage]) -> np.ndarray:
        """Cosine similarity of each sentence (as a query) to each passage: how well a
        passage supports a claim, across languages too."""
        if not sentences or not passages:
            return np.zeros((len(sentences), len(passages)), dtype=np.float32)
        claims = np.asarray([self.embeddings.embed_query(s) for s in sentences], dtype=np.float32)
        similarity: np.ndarray = claims @ self.passage_vectors(passages).T
        return similarity
