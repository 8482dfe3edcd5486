"""The bundled local model loads with llama-cpp-python and answers in the question's language.

Deliberately not skipped when the model is missing: CI must exercise the model that `make
setup` assembles, so a missing file is a failure that says how to fix it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.llm

MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"

HAN = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def missing_model_message(path: Path) -> str:
    return (
        f"bundled model not found at {path}; run `make setup` "
        "(or `.venv/bin/python scripts/fetch_model.py`) to assemble it"
    )


# TODO(conftest): move these two fixtures to tests/conftest.py once other tests need the model.
@pytest.fixture(scope="module")
def local_model_path(pytestconfig: pytest.Config) -> Path:
    # The rootdir is the folder holding pyproject.toml, i.e. the repository root.
    return pytestconfig.rootpath / "models" / MODEL_FILE


@pytest.fixture(scope="module")
def local_llm(local_model_path: Path) -> Iterator[Any]:
    if not local_model_path.is_file():
        pytest.fail(missing_model_message(local_model_path), pytrace=False)
    from llama_cpp import Llama

    llm = Llama(model_path=str(local_model_path), n_ctx=2048, n_threads=2, verbose=False)
    yield llm
    llm.close()


def ask(llm: Any, system: str, question: str) -> str:
    started = time.monotonic()
    result = llm.create_chat_completion(
        messages=[
            {"role": "system", "content": system},
            {"role": "user", "content": question},
        ],
        max_tokens=48,
        temperature=0.0,
    )
    reply = str(result["choices"][0]["message"]["content"] or "").strip()
    print(f"{time.monotonic() - started:.1f} s: {reply!r}")
    return reply


def test_bundled_model_is_installed(local_model_path: Path) -> None:
    assert local_model_path.is_file(), missing_model_message(local_model_path)
    # A truncated file would be far smaller than the ~1 GB model (fetch_model.py checks the
    # SHA-256; this only catches a file put there by other means).
    assert local_model_path.stat().st_size > 900 * 1024 * 1024


def test_answers_chinese_question_in_chinese(local_llm: Any) -> None:
    reply = ask(
        local_llm,
        "你是一名职业教育政策顾问，请用中文简洁回答。",
        "用一句话说明什么是校企合作。",
    )

    assert reply
    assert len(HAN.findall(reply)) >= 5, reply


def test_answers_english_question_in_english(local_llm: Any) -> None:
    reply = ask(
        local_llm,
        "You are an adviser on vocational education. Answer briefly in English.",
        "In one sentence, what is a partnership between a college and an enterprise?",
    )

    assert reply
    assert not HAN.search(reply), reply
    words = LATIN_WORD.findall(reply)
    assert len(words) >= 5, reply
    common = {"a", "an", "the", "and", "of", "to", "is", "in", "that", "between", "where"}
    assert common & set(re.findall(r"[a-z]+", reply.lower())), reply


def test_warm_up_puts_both_system_prompts_in_the_prompt_cache(local_model_path: Path) -> None:
    """After warm_up, the prompt of a question in either language shares its whole system
    prompt with a cached state, so llama.cpp resumes from there instead of evaluating it."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from advisor.llm import LocalLlamaChat, load_llama
    from prompts import load_prompt, render_prompt

    if not local_model_path.is_file():
        pytest.fail(missing_model_message(local_model_path), pytrace=False)
    chat = LocalLlamaChat(model_path=local_model_path, max_tokens=4)
    llama = load_llama(local_model_path)

    def keys() -> set[tuple[int, ...]]:
        return set(llama.cache.cache_state.keys())

    def shared(a: tuple[int, ...], b: tuple[int, ...]) -> int:
        n = 0
        while n < min(len(a), len(b)) and a[n] == b[n]:
            n += 1
        return n

    for lang, question in (("zh", "订单班是什么？"), ("en", "What is an order class?")):
        system = render_prompt("answer_system", lang, refusal=load_prompt("refusal", lang))
        before = keys()
        chat.warm_up([system])
        [warm] = keys() - before
        before = keys()
        chat.invoke([SystemMessage(content=system), HumanMessage(content=question)])
        [answered] = keys() - before
        system_tokens = len(llama.tokenize(system.encode("utf-8"), add_bos=False))
        assert shared(warm, answered) >= system_tokens, lang


def test_other_sessions_retrieval_waits_while_an_answer_is_generated(
    local_model_path: Path, embeddings
) -> None:
    """The compute gate: a retrieval (query embedding) that arrives while the bundled model is
    generating runs after the generation, not interleaved with it (vectorstore/gate.py)."""
    import threading

    from langchain_core.messages import HumanMessage

    from advisor.llm import LocalLlamaChat

    chat = LocalLlamaChat(model_path=local_model_path, max_tokens=24)
    events: list[tuple[str, float]] = []
    first_token = threading.Event()

    def generate() -> None:
        for _ in chat.stream([HumanMessage("用三句话介绍校企合作。")]):
            first_token.set()
        events.append(("generation done", time.monotonic()))

    generator = threading.Thread(target=generate)
    generator.start()
    assert first_token.wait(120)
    embeddings.embed_query("共享实训基地")  # another session's retrieval
    events.append(("embedding done", time.monotonic()))
    generator.join(120)
    assert [name for name, _ in sorted(events, key=lambda e: e[1])] == [
        "generation done",
        "embedding done",
    ]
