"""The composition root: builds the embedder, the Chroma client and the knowledge bases once,
and offers the operations the CLI and the UI need. The UI caches one instance per process
(``st.cache_resource``); the CLI builds one per command."""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from advisor.components import Lazy, build_chat_model, build_embeddings, build_store
from advisor.errors import ConfigError, InputFileError, boundary
from advisor.kbnames import TEMP_PLAN_PREFIX, is_private_kb, is_temporary_plan_kb
from advisor.settings import Settings
from ingest.pipeline import IngestOptions, IngestPipeline, IngestProgress, IngestReport
from ingest.types import OcrOptions
from vectorstore.gate import compute_gate
from vectorstore.retrieval import HybridRetriever, RetrievalFilter, SearchableKB
from vectorstore.store import (
    DocumentRecord,
    KnowledgeBase,
    list_knowledge_bases,
    pid_alive,
)

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from langchain_core.language_models import BaseChatModel

    from advisor.accounts import AccountStore
    from advisor.chain import Advisor
    from advisor.compare import Column, Comparison
    from advisor.conversations import ConversationStore
    from advisor.scope import Scope
    from advisor.starters import Starter
    from advisor.workspace import JobStore, Workspace
    from vectorstore.embeddings import E5Embeddings

log = logging.getLogger(__name__)

_HOST_TAG = hashlib.sha256(socket.gethostname().encode("utf-8")).hexdigest()[:8]
_ACTIVE_PLAN_SCOPES: set[str] = set()


def _temporary_plan_is_orphaned(name: str) -> bool:
    parts = name[len(TEMP_PLAN_PREFIX) :].split("-")
    if len(parts) != 3 or not parts[1].isdigit():
        return True  # the earlier naming (plan-<hex>), from before runs were tagged
    host, pid = parts[0], int(parts[1])
    if host != _HOST_TAG:
        return False
    if pid == os.getpid():
        return name not in _ACTIVE_PLAN_SCOPES
    return not pid_alive(pid)


class AdvisorService:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embeddings: E5Embeddings | None = None,
        client: ClientAPI | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self._lock = threading.RLock()
        self._kbs: dict[str, KnowledgeBase] = {}
        self._searchable: dict[str, SearchableKB] = {}
        self._llm_label: str | None = None
        # each part built on first use (advisor/components.py), typed, exactly once
        lock = self._lock
        self._embeddings: Lazy[E5Embeddings] = Lazy(lambda: build_embeddings(self.settings), lock)
        self._chroma: Lazy[ClientAPI] = Lazy(lambda: build_store(self.settings), lock)
        self._chat_models: dict[str, Lazy[BaseChatModel | None]] = {}
        self._accounts: Lazy[AccountStore] = Lazy(self._build_accounts, lock)
        self._conversations: Lazy[ConversationStore] = Lazy(self._build_conversations, lock)
        self._jobs: Lazy[JobStore] = Lazy(self._build_jobs, lock)
        if embeddings is not None:
            self._embeddings.set(embeddings)
        if client is not None:
            self._chroma.set(client)

    def use_chat_model(self, chat_model: BaseChatModel | None, label: str) -> None:
        """Answer with ``chat_model`` instead of the configured backend (tests, embedding)."""
        with self._lock:
            self._chat_model_for(self.settings.llm).set(chat_model)
            self._llm_label = label

    def use_embeddings(self, embeddings: E5Embeddings) -> None:
        """Embed with ``embeddings`` (tests share one model across services)."""
        self._embeddings.set(embeddings)

    def model_loaded(self, backend: str | None = None) -> bool:
        """Whether ``backend``'s chat model (the configured one by default) is built."""
        lazy = self._chat_models.get(backend or self.settings.llm)
        return lazy is not None and lazy.built

    @property
    def embeddings_loaded(self) -> bool:
        return self._embeddings.built

    @property
    def embeddings(self) -> E5Embeddings:
        return self._embeddings.get()

    @property
    def chroma(self) -> ClientAPI:
        return self._chroma.get()

    def knowledge_base(self, name: str | None = None, *, create: bool = True) -> KnowledgeBase:
        name = name or self.settings.kb
        with self._lock:
            if name not in self._kbs:
                with boundary():
                    self._kbs[name] = KnowledgeBase(self.chroma, name, create=create)
            return self._kbs[name]

    def list_knowledge_bases(self, *, private: bool = True) -> list[str]:
        """Every knowledge base; without ``private``, not users' plan spaces."""
        names = list_knowledge_bases(self.chroma)
        return names if private else [n for n in names if not is_private_kb(n)]

    def forget_knowledge_base(self, name: str) -> KnowledgeBase:
        """Drop the cached handles of ``name`` (before it is deleted); returns the store."""
        kb = self.knowledge_base(name, create=False)
        with self._lock:
            self._kbs.pop(name, None)
            self._searchable.pop(name, None)
        return kb

    def list_documents(self, kb: str | None = None) -> list[DocumentRecord]:
        with boundary():
            return self.knowledge_base(kb, create=False).list_documents()

    def delete_document(self, doc: str, kb: str | None = None) -> DocumentRecord:
        with boundary():
            knowledge_base = self.knowledge_base(kb, create=False)
            record = knowledge_base.delete_document(doc)
            knowledge_base.link_versions()  # an older version may be current again
            return record

    def edit_document(
        self, doc: str, fields: dict[str, str | None], kb: str | None = None
    ) -> DocumentRecord:
        """Correct a document's metadata (``ingest.metadata.EDITABLE``, status,
        superseded_by); the values are checked first and kept across re-ingests."""
        from ingest.metadata import check_fields

        try:
            checked = check_fields(fields)
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        with boundary():
            knowledge_base = self.knowledge_base(kb, create=False)
            record = knowledge_base.update_metadata(doc, checked)
            if {"title", "adopted", "revised", "effective"} & set(checked):
                knowledge_base.link_versions()
                record = knowledge_base.get_document(record.doc_id) or record
            return record

    def retrieval_filter(
        self, scope: Scope | None = None, kb: str | None = None
    ) -> RetrievalFilter:
        """The retrieval filter of a scope (``advisor.scope``): its kinds as a chunk filter,
        and, when it restricts by level, region, status or date, the documents of ``kb``
        whose records match (other knowledge bases searched with it, a batch's plans, are
        searched whole). A scope no document matches is a ConfigError."""
        from advisor.scope import select

        if scope is None:
            return RetrievalFilter()
        kinds = list(scope.kinds) or None
        if not scope.restricts:
            return RetrievalFilter(kinds=kinds)
        name = kb or self.settings.kb
        docs = select(self.list_documents(name), scope, name)
        return RetrievalFilter(kinds=kinds, docs={name: docs})

    def compare(
        self,
        question: str,
        docs: Sequence[str] = (),
        kb: str | None = None,
        *,
        backend: str | None = None,
        advisor: Advisor | None = None,
    ) -> Comparison:
        """``question`` across documents side by side (``advisor.compare``): the ``docs``
        given (file names or doc ids), else the documents and regions the question names;
        answered by ``advisor`` when given (a browser session's), else by the settings'."""
        from advisor.compare import compare

        name = kb or self.settings.kb
        with boundary():
            advisor = advisor or self.advisor([name], backend=backend)
            columns = self.compare_columns(question, docs, name, advisor)
            return compare(advisor, question, columns)

    def compare_columns(
        self, question: str, docs: Sequence[str], kb: str, advisor: Advisor | None = None
    ) -> list[Column]:
        """The columns of a comparison: ``docs`` when given; otherwise the documents the
        question names, then one document per region it names (of several, the one whose
        passages answer the question best), versions in force only."""
        from advisor.compare import MAX_COLUMNS, Column, places_named
        from vectorstore.names import document_names, named_documents

        records = self.knowledge_base(kb, create=False).list_documents()
        by_key = {r.doc_id: r for r in records} | {r.source: r for r in records}
        if docs:
            unknown = [d for d in docs if d not in by_key]
            if unknown:
                raise ConfigError(f"no document {', '.join(unknown)} in knowledge base {kb!r}")
            chosen = list(dict.fromkeys(by_key[d].doc_id for d in docs))
        else:
            current = [r for r in records if r.status != "superseded"]
            names = {r.doc_id: document_names(r.source, r.title) for r in current}
            named = named_documents(question, names)
            chosen = [r.doc_id for r in current if r.doc_id in named]
            advisor = advisor or self.advisor([kb])
            for region in places_named(question, current):
                ids = {r.doc_id for r in current if r.region == region} - set(chosen)
                if len(ids) > 1:
                    flt = RetrievalFilter(docs={kb: ids})
                    top = advisor.retriever.retrieve(question, 1, flt)
                    ids = {top[0].doc_id} if top else set()
                chosen += sorted(ids)
        if len(chosen) < 2:
            raise ConfigError(
                "a comparison needs two documents or more: name the regions or documents in "
                "the question (上海、宁波…), or choose them (compare --doc, the form)"
            )
        if len(chosen) > MAX_COLUMNS:
            raise ConfigError(
                f"a comparison shows at most {MAX_COLUMNS} documents side by side "
                f"({len(chosen)} were named or chosen)"
            )
        records_by_id = {r.doc_id: r for r in records}
        columns = [Column.of(kb, records_by_id[d]) for d in chosen]
        # two documents of one label (two cities' 实施意见 of one year) stay apart
        labels = [c.label for c in columns]
        return [
            replace(c, label=f"{c.label} · {c.region or c.source}")
            if labels.count(c.label) > 1
            else c
            for c in columns
        ]

    def ingest_options(self, **overrides: object) -> IngestOptions:
        s = self.settings
        values: dict[str, object] = {
            "max_bytes": int(s.max_file_mb * 1024 * 1024),
            "max_pages": s.max_pages,
            "file_timeout_s": s.file_timeout_s,
            "chunk_tokens": s.chunk_tokens,
            "chunk_overlap_tokens": s.chunk_overlap_tokens,
            "embed_batch": s.embed_batch,
            "group_chunks": s.ingest_group_chunks,
            "embed_heading": s.embed_heading,
        }
        ocr = overrides.pop("ocr", None)
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            values["ocr"] = OcrOptions(
                enabled=s.ocr if ocr is None else bool(ocr),
                dpi=s.ocr_dpi,
                max_pages=s.ocr_max_pages,
                page_timeout_s=s.ocr_page_timeout_s,
                min_confidence=s.ocr_min_confidence,
            )
            return IngestOptions(**values)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise ConfigError(str(exc)) from exc

    def ingest(
        self,
        paths: Iterable[Path],
        *,
        kb: str | None = None,
        options: IngestOptions | None = None,
        progress: IngestProgress | None = None,
    ) -> IngestReport:
        """Index files and folders into ``kb``; per-file failures are in the report."""
        paths = list(paths)
        for path in paths:
            if not path.exists():
                raise ConfigError(f"no such file or folder: {path}")
        knowledge_base = self.knowledge_base(kb)
        knowledge_base.repair()  # finish or undo writes an earlier crash interrupted
        pipeline = IngestPipeline(
            knowledge_base,
            self.embeddings,
            options or self.ingest_options(),
            progress,
            compute_turn=lambda: compute_gate,
        )
        report = pipeline.run(paths)
        if report.counts().get("indexed") or report.counts().get("replaced"):
            knowledge_base.link_versions()  # same title: the latest is current
        return report

    # ------------------------------------------------------------------ answering

    def _chat_model_for(self, backend: str) -> Lazy[BaseChatModel | None]:
        with self._lock:
            if backend not in self._chat_models:
                settings = self.settings.model_copy(update={"llm": backend})
                self._chat_models[backend] = Lazy(lambda: build_chat_model(settings), self._lock)
            return self._chat_models[backend]

    @property
    def chat_model(self) -> BaseChatModel | None:
        return self._chat_model_for(self.settings.llm).get()

    @property
    def llm_label(self) -> str:
        from advisor.llm import describe_llm

        return self._llm_label or describe_llm(self.settings)

    def searchable(self, kb: str | None = None) -> SearchableKB:
        """A knowledge base with its keyword index; built once, kept in step on each search."""
        name = kb or self.settings.kb
        with self._lock:
            if name not in self._searchable:
                self._searchable[name] = SearchableKB(self.knowledge_base(name))
            return self._searchable[name]

    def starter_questions(self, n: int = 4) -> list[Starter]:
        """Questions an empty chat offers, on topics the knowledge base covers."""
        from advisor.starters import starter_questions

        return starter_questions(self.searchable(), n)

    def retriever(self, kbs: list[str] | None = None) -> HybridRetriever:
        sources = [self.searchable(name) for name in (kbs or [self.settings.kb])]
        return HybridRetriever(sources, self.embeddings)

    def advisor(
        self,
        kbs: list[str] | None = None,
        *,
        backend: str | None = None,
        top_k: int | None = None,
    ) -> Advisor:
        """An advisor over ``kbs``; ``backend`` (local / openai / extractive) and ``top_k``
        override the settings, e.g. for one browser session."""
        from advisor.chain import Advisor, ChainConfig
        from advisor.llm import describe_llm

        sentences, chars = self.settings.prompt_budget(backend)
        # the bundled model's budget widens with the prompt speed its warm-up measured
        follow_cpu = self.settings.prompt_budget_follows_cpu(backend)
        config = ChainConfig(
            top_k=top_k or self.settings.top_k,
            min_similarity=self.settings.min_similarity,
            question_timeout_s=self.settings.question_timeout_s,
            support_check=self.settings.support_check,
            one_language=self.settings.one_language,
            by_party=self.settings.by_party,
            gloss_prompt=self.settings.gloss_prompt,
            rewrite_follow_ups=self.settings.rewrite_follow_ups,
            prompt_sentences=sentences,
            prompt_chars=chars,
            prompt_budget_for_speed=(
                partial(self.settings.prompt_budget, backend) if follow_cpu else None
            ),
        )
        if backend is None or backend == self.settings.llm:
            chat_model, label = self.chat_model, self.llm_label
        else:
            chat_model = self._chat_model_for(backend).get()
            label = describe_llm(self.settings.model_copy(update={"llm": backend}))
        return Advisor(chat_model, self.retriever(kbs), llm_label=label, config=config)

    @property
    def accounts(self) -> AccountStore:
        """Users and sessions, kept in SQLite under the data dir."""
        return self._accounts.get()

    def _build_accounts(self) -> AccountStore:
        from advisor.accounts import AccountStore

        return AccountStore(
            self.settings.data_dir / "accounts.sqlite3", session_hours=self.settings.session_hours
        )

    @property
    def conversations(self) -> ConversationStore:
        """Chat conversations, kept in SQLite under the data dir."""
        return self._conversations.get()

    def _build_conversations(self) -> ConversationStore:
        from advisor.conversations import ConversationStore

        return ConversationStore(self.settings.data_dir / "app.sqlite3")

    @property
    def jobs(self) -> JobStore:
        """Batch and review results, per user, in the app database."""
        return self._jobs.get()

    def _build_jobs(self) -> JobStore:
        from advisor.workspace import JobStore

        return JobStore(self.settings.data_dir / "app.sqlite3")

    def workspace(self, owner: str) -> Workspace:
        """``owner``'s plans and results, and nobody else's."""
        from advisor.workspace import Workspace

        return Workspace(
            owner, kbs=_KnowledgeBases(self), jobs=self.jobs, shared_kb=self.settings.kb
        )

    def delete_user(self, name: str) -> None:
        """Remove a user with their conversations, plans and results."""
        self.accounts.delete_user(name)
        self.conversations.delete_all(name)
        self.workspace(name).purge()

    @contextmanager
    def plan_scope(self, plans: Sequence[Path]) -> Iterator[list[str]]:
        """Index ``plans`` into a private, temporary knowledge base; removed on exit.

        Yields the names of the knowledge bases to search besides the main one (empty when
        there are no plans). A plan that cannot be indexed is an error: answering "from the
        plan" without it would mislead.
        """
        if not plans:
            yield []
            return
        self.sweep_temporary_plans()
        name = f"{TEMP_PLAN_PREFIX}{_HOST_TAG}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        with self._lock:
            _ACTIVE_PLAN_SCOPES.add(name)
        self.knowledge_base(name)
        try:
            report = self.ingest(plans, kb=name, options=self.ingest_options(kind="plan"))
            if report.failed:
                reasons = "; ".join(o.message for o in report.failed)
                raise InputFileError(f"plan not indexed: {reasons}")
            yield [name]
        finally:
            try:
                self.forget_knowledge_base(name).drop()
            finally:
                with self._lock:
                    _ACTIVE_PLAN_SCOPES.discard(name)

    def sweep_temporary_plans(self) -> list[str]:
        """Drop the temporary plan knowledge bases that no running process owns: a batch or
        review killed outright never reaches its clean-up. Names carry the host and process
        that made them; another host's are left to that host."""
        swept = []
        for name in list_knowledge_bases(self.chroma):
            if not is_temporary_plan_kb(name) or not _temporary_plan_is_orphaned(name):
                continue
            try:
                self.forget_knowledge_base(name).drop()
            except Exception as exc:  # another process swept it first
                log.debug("could not drop %s: %s", name, exc)
                continue
            swept.append(name)
            log.warning("dropped %s, left by a run that was killed", name)
        return swept


class _KnowledgeBases:
    """The service's knowledge bases as a workspace sees them (``workspace.KnowledgeBases``)."""

    def __init__(self, service: AdvisorService) -> None:
        self._service = service

    def exists(self, name: str) -> bool:
        return name in self._service.list_knowledge_bases()

    def open(self, name: str) -> KnowledgeBase:
        return self._service.knowledge_base(name, create=False)

    def ingest_plans(
        self, paths: list[Path], name: str, progress: IngestProgress | None
    ) -> IngestReport:
        options = self._service.ingest_options(kind="plan")
        return self._service.ingest(paths, kb=name, options=options, progress=progress)

    def drop(self, name: str) -> None:
        self._service.forget_knowledge_base(name).drop()
