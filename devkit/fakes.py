"""A fake chat model that queues replies and records what it was asked (like simonw/llm's
mock model). It streams each reply in small pieces, as a real model would."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field

from vectorstore.retrieval import Passage


class _StreamingFake(BaseChatModel):
    """What the fakes share: ``_reply(messages)`` gives the whole reply; it is streamed in
    pieces of 5 characters."""

    def _reply(self, messages: list[BaseMessage]) -> str:
        raise NotImplementedError

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self._reply(messages)))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        reply = self._reply(messages)
        for start in range(0, len(reply), 5):
            yield ChatGenerationChunk(message=AIMessageChunk(content=reply[start : start + 5]))


class QueuedFakeChat(_StreamingFake):
    replies: list[str] = Field(default_factory=list)
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    #: the prompt speed a warm-up would have measured (``LocalServerChat``), for the budget
    prompt_tokens_per_s: float | None = None

    @property
    def _llm_type(self) -> str:
        return "queued-fake"

    def _next(self, messages: list[BaseMessage]) -> str:
        self.calls.append(list(messages))
        if not self.replies:
            raise AssertionError("the fake chat model was called more often than expected")
        return self.replies.pop(0)

    def _reply(self, messages: list[BaseMessage]) -> str:
        return self._next(messages)


_PASSAGE = re.compile(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', re.S)
_SENTENCE_END = re.compile(r"(?<=[。！？!?.])\s*")


class PassageEchoChat(_StreamingFake):
    """Answers with the first sentence of the first passage in the prompt, cited as [n]: an
    answer that depends only on what this question's retrieval put in the prompt, so answers
    mixed up between concurrent sessions show. ``delay_s`` stands in for generation time.
    Stateless, so one instance serves many threads."""

    delay_s: float = 0.0

    @property
    def _llm_type(self) -> str:
        return "passage-echo-fake"

    def _reply(self, messages: list[BaseMessage]) -> str:
        prompt = str(messages[-1].content)
        found = _PASSAGE.search(prompt)
        if self.delay_s:
            time.sleep(self.delay_s)
        if found is None:  # the condense step: pass the question through
            return prompt.rsplit("\n", 1)[-1]
        first = _SENTENCE_END.split(found.group(2).strip(), maxsplit=1)[0]
        return f"{first}[{found.group(1)}]"


def make_passage(
    text: str,
    rank: int = 1,
    *,
    source: str = "a.md",
    lang: str = "zh",
    section: str = "",
    kind: str = "policy",
) -> Passage:
    """A retrieved passage as the retriever returns it (rank = its number in the answer)."""
    return Passage(
        chunk_id=f"c{rank}",
        text=text,
        source=source,
        page=None,
        section=section,
        lang=lang,
        kind=kind,
        kb="default",
        rank=rank,
    )
