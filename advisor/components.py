"""The service's parts, each built by one factory on first use, exactly once even when several
threads (Streamlit sessions) ask at the same moment. ``AdvisorService`` is the composition
root; this module holds what it composes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from langchain_core.language_models import BaseChatModel

    from advisor.settings import Settings
    from vectorstore.embeddings import E5Embeddings

T = TypeVar("T")


class Lazy(Generic[T]):
    """One component: built by ``build`` on the first ``get``, or given with ``set``."""

    def __init__(self, build: Callable[[], T], lock: threading.RLock) -> None:
        self._build = build
        self._lock = lock
        self._value: T | None = None
        self._built = False

    def get(self) -> T:
        with self._lock:
            if not self._built:
                self._value, self._built = self._build(), True
            return self._value  # type: ignore[return-value]

    def set(self, value: T) -> None:
        with self._lock:
            self._value, self._built = value, True

    @property
    def built(self) -> bool:
        return self._built


def build_embeddings(settings: Settings) -> E5Embeddings:
    from vectorstore.embeddings import E5Embeddings

    return E5Embeddings(workers=settings.embed_workers or None)


def build_store(settings: Settings) -> ClientAPI:
    """The Chroma client: the server at ``ADVISOR_CHROMA_URL``, else the folder."""
    from advisor.errors import boundary
    from vectorstore.store import open_chroma_client

    with boundary():
        if settings.chroma_url:
            return open_chroma_client(url=settings.chroma_url)
        settings.chroma_dir.mkdir(parents=True, exist_ok=True)
        return open_chroma_client(path=str(settings.chroma_dir))


def build_chat_model(settings: Settings) -> BaseChatModel | None:
    """The configured backend's chat model; None for the extractive backend."""
    from advisor.llm import build_chat_model as build

    return build(settings)
