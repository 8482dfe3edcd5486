"""The composition root: builds the embedder, the Chroma client and the knowledge bases once,
and offers the operations the CLI and the UI need. The UI caches one instance per process
(``st.cache_resource``); the CLI builds one per command."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from advisor.errors import ConfigError, KnowledgeBaseError
from advisor.settings import Settings
from ingest.pipeline import IngestOptions, IngestPipeline, IngestProgress, IngestReport
from vectorstore.store import (
    DocumentRecord,
    KnowledgeBase,
    StoreError,
    list_knowledge_bases,
    open_chroma_client,
)

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

    from vectorstore.embeddings import E5Embeddings

log = logging.getLogger(__name__)


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
        if embeddings is not None:
            self.__dict__["embeddings"] = embeddings
        if client is not None:
            self.__dict__["chroma"] = client

    # Components are built lazily, on first use, and only once.

    @cached_property
    def embeddings(self) -> E5Embeddings:
        from vectorstore.embeddings import E5Embeddings

        with self._lock:
            return E5Embeddings()

    @cached_property
    def chroma(self) -> ClientAPI:
        s = self.settings
        with self._lock:
            try:
                if s.chroma_url:
                    return open_chroma_client(url=s.chroma_url)
                s.chroma_dir.mkdir(parents=True, exist_ok=True)
                return open_chroma_client(path=str(s.chroma_dir))
            except StoreError as exc:
                raise KnowledgeBaseError(str(exc)) from exc

    def knowledge_base(self, name: str | None = None, *, create: bool = True) -> KnowledgeBase:
        name = name or self.settings.kb
        with self._lock:
            if name not in self._kbs:
                try:
                    self._kbs[name] = KnowledgeBase(self.chroma, name, create=create)
                except StoreError as exc:
                    raise KnowledgeBaseError(str(exc)) from exc
            return self._kbs[name]

    def list_knowledge_bases(self) -> list[str]:
        return list_knowledge_bases(self.chroma)

    def list_documents(self, kb: str | None = None) -> list[DocumentRecord]:
        return self.knowledge_base(kb, create=False).list_documents()

    def delete_document(self, doc: str, kb: str | None = None) -> DocumentRecord:
        try:
            return self.knowledge_base(kb, create=False).delete_document(doc)
        except StoreError as exc:
            raise KnowledgeBaseError(str(exc)) from exc

    def ingest_options(self, **overrides: object) -> IngestOptions:
        s = self.settings
        values: dict[str, object] = {
            "max_bytes": int(s.max_file_mb * 1024 * 1024),
            "max_pages": s.max_pages,
            "file_timeout_s": s.file_timeout_s,
            "chunk_tokens": s.chunk_tokens,
            "chunk_overlap_tokens": s.chunk_overlap_tokens,
            "embed_batch": s.embed_batch,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
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
            knowledge_base, self.embeddings, options or self.ingest_options(), progress
        )
        return pipeline.run(paths)
