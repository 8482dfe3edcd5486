"""The bundled local model loads with llama-cpp-python and answers in the question's language
(in this process, through the binding itself; the app's own path, the supervised model process,
is tested in test_model_isolation.py).

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
