"""Chat-model backends, chosen by ``ADVISOR_LLM``:

- ``local``: the bundled Qwen2.5-Coder-1.5B-Instruct GGUF, served by ``llama_cpp.server`` in a
  supervised process of its own (``advisor.model_server``), one per app process and shared by
  all callers (the compute gate of ``vectorstore/gate.py`` serialises generation);
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
from typing import Any, ClassVar

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from advisor.errors import ConfigError
from advisor.model_server import ModelServer, ServerConfig, model_server
from advisor.settings import Settings
from vectorstore.gate import compute_gate

log = logging.getLogger(__name__)


class LocalServerChat(BaseChatModel):
    """The bundled model, served by its own supervised ``llama_cpp.server`` process
    (``advisor.model_server``) and reached through the OpenAI-compatible API, as the
    ``openai`` backend reaches any server. A crash or hang of the model ends one answer with
    ``LLMError``; the next answer starts the process again."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    #: generation runs on this machine's cores: an answer takes one compute turn for all its
    #: steps (``Advisor._answer_turn``), and other sessions' embedding waits meanwhile
    takes_compute_turns: ClassVar[bool] = True

    model_path: Path
    n_ctx: int = 4096
    n_threads: int = 2
    max_tokens: int = 200
    temperature: float = 0.1
    repeat_penalty: float = 1.1
    #: no token for this long: the process is taken to hang and is killed
    stall_s: float = 90.0
    log_dir: Path | None = None
    verbose: bool = False
    _clients: dict[tuple[Any, ...], Any] = PrivateAttr(default_factory=dict)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-server-local"

    @property
    def model_name(self) -> str:
        return self.model_path.name

    @property
    def server(self) -> ModelServer:
        config = ServerConfig(
            self.model_path, n_ctx=self.n_ctx, n_threads=self.n_threads, verbose=self.verbose
        )
        return model_server(config, log_dir=self.log_dir)

    def _client(self, max_tokens: int, logit_bias: dict[int, float] | None = None) -> Any:
        """A ChatOpenAI for the server as it runs now, built once per (port, settings): its
        HTTP connections are kept, not opened anew for every answer."""
        base_url = self.server.base_url()
        key = (base_url, max_tokens, tuple(sorted((logit_bias or {}).items())))
        client = self._clients.get(key)
        if client is None:
            if len(self._clients) > 16:  # the port changes when the process is restarted
                self._clients.clear()
            client = self._clients[key] = self._build_client(base_url, max_tokens, logit_bias)
        return client

    def _build_client(
        self, base_url: str, max_tokens: int, logit_bias: dict[int, float] | None
    ) -> Any:
        from langchain_openai import ChatOpenAI

        body: dict[str, Any] = {"max_tokens": max_tokens, "repeat_penalty": self.repeat_penalty}
        if logit_bias:
            body["logit_bias"] = {str(k): v for k, v in logit_bias.items()}
        return ChatOpenAI(
            base_url=base_url,
            api_key="local",
            model=self.model_path.name,
            temperature=self.temperature,
            # the first token after a long prompt may take tens of seconds on 2 cores; a hang
            # is caught by the stall watchdog, not by this
            timeout=600,
            max_retries=0,
            extra_body=body,
        )

    def warm_up(self, system_prompts: Sequence[str]) -> None:
        """Start the model process and evaluate each system prompt once, so that its state
        sits in the server's prompt cache: the first question in either language then
        starts from it (~4 s less on 2 cores).

        On a process that has served nothing yet (an empty cache) this also times the
        prompts: ``prompt_tokens_per_s``, from which the chain chooses how many sentences
        the model reads (``advisor.settings.local_prompt_budget``)."""
        with compute_gate:
            client = self._client(1)  # starts the process: its load is not timed
            server = self.server
            fresh = not server.served
            server.served = True
            tokens, seconds = 0, 0.0
            for system in system_prompts:
                started = time.perf_counter()
                reply = client.invoke([SystemMessage(system), HumanMessage("")])
                seconds += time.perf_counter() - started
                tokens += int((reply.usage_metadata or {}).get("input_tokens", 0))
            if fresh and tokens and seconds > 0:
                server.prompt_tokens_per_s = tokens / seconds
                log.info(
                    "the model read %d prompt tokens in %.1f s (%.0f tokens/s)",
                    tokens,
                    seconds,
                    server.prompt_tokens_per_s,
                )

    @property
    def prompt_tokens_per_s(self) -> float | None:
        """The prompt speed the warm-up measured on this CPU (None before it ran)."""
        return self.server.prompt_tokens_per_s

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(chunk.text for chunk in self._stream(messages, stop, run_manager, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        server = self.server
        # One generation at a time, and retrieval and embedding of other sessions wait while
        # this answer is generated (vectorstore/gate.py): the model's two threads use both
        # cores, and an embedding beside them slows both.
        with compute_gate:
            client = self._client(
                int(kwargs.get("max_tokens") or self.max_tokens), kwargs.get("logit_bias")
            )
            server.served = True
            watchdog = _StallWatchdog(self.stall_s, server)
            try:
                with watchdog:
                    for part in client.stream(messages, stop=stop):
                        watchdog.progress()
                        delta = str(part.content or "")
                        if not delta:
                            continue
                        chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                        if run_manager:
                            run_manager.on_llm_new_token(delta, chunk=chunk)
                        yield chunk
            except GeneratorExit:
                raise
            except Exception as exc:
                raise server.failure(
                    exc, stalled_s=self.stall_s if watchdog.fired else None
                ) from exc


class _StallWatchdog:
    """Kills the model process when no token arrived for ``stall_s`` seconds."""

    def __init__(self, stall_s: float, server: ModelServer) -> None:
        self.stall_s = stall_s
        self.server = server
        self.fired = False
        self._last = time.monotonic()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="model-stall-watch", daemon=True)

    def progress(self) -> None:
        self._last = time.monotonic()

    def _watch(self) -> None:
        while not self._done.wait(min(1.0, self.stall_s / 4)):
            if time.monotonic() - self._last > self.stall_s:
                self.fired = True
                self.server.kill(f"no token for {self.stall_s:.0f} s")
                return

    def __enter__(self) -> _StallWatchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()


def build_chat_model(settings: Settings) -> BaseChatModel | None:
    """The chat model for ``settings.llm``; None for ``extractive``."""
    match settings.llm:
        case "local":
            return LocalServerChat(
                model_path=settings.local_model_path,
                stall_s=settings.llm_stall_s,
                log_dir=settings.data_dir / "logs",
            )
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
