"""The answer chain with the real bundled model: in process (`local`) and through an
OpenAI-compatible server (`openai`, a real `python -m llama_cpp.server` on 127.0.0.1)."""

from __future__ import annotations

import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from advisor.errors import LLMError
from advisor.service import AdvisorService
from advisor.settings import Settings
from devkit.servers import REPO_ROOT, free_port, running_server

pytestmark = [pytest.mark.llm, pytest.mark.slow]

MODEL = REPO_ROOT / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
DOC = (
    "---\ntitle: 订单班\nkind: case\n---\n\n# 订单班\n\n"
    "订单班由企业参与课程设计，企业承诺录用考核合格的毕业生。学校负责教学组织和学生管理。\n"
)


@pytest.fixture(scope="module")
def model_path() -> Path:
    if not MODEL.is_file():
        pytest.fail(f"{MODEL} is missing: run `make setup` (the bundled model is required)")
    return MODEL


def make_service(tmp_path: Path, embeddings, **settings: object) -> AdvisorService:
    service = AdvisorService(
        Settings(data_dir=tmp_path / "data", **settings), embeddings=embeddings
    )
    doc = tmp_path / "order_class.md"
    doc.write_text(DOC, encoding="utf-8")
    assert service.ingest([doc]).ok
    return service


def assert_valid_cited_answer(answer) -> None:
    assert answer.answer.strip()
    for citation in answer.citations:
        passage = answer.contexts[citation.n - 1]
        assert citation.chunk_id == passage.chunk_id
        assert citation.quote and citation.quote in passage.text
    assert "[0]" not in answer.answer
    assert all(f"[{n}]" not in answer.answer for n in range(len(answer.contexts) + 1, 20))


def test_local_model_answers_in_chinese_with_valid_citations(
    tmp_path, embeddings, model_path
) -> None:
    service = make_service(tmp_path, embeddings, llm="local", model=str(model_path))
    answer = service.advisor().answer("订单班里企业承诺什么？")
    assert not answer.refused, answer.answer
    assert "录用" in answer.answer
    assert answer.llm == f"local:{model_path.name}"
    assert answer.first_token_s is not None and answer.first_token_s < answer.latency_s
    assert_valid_cited_answer(answer)


def test_local_model_answers_english_question_in_english(tmp_path, embeddings, model_path):
    service = make_service(tmp_path, embeddings, llm="local", model=str(model_path))
    answer = service.advisor().answer("In an order class, what does the enterprise promise?")
    assert not answer.refused, answer.answer
    letters = [ch for ch in answer.answer if ch.isalpha()]
    ascii_share = sum(ch.isascii() for ch in letters) / len(letters)
    assert ascii_share > 0.8, answer.answer  # answered in English, from a Chinese passage
    assert any(word in answer.answer.lower() for word in ("hire", "employ", "recruit"))
    assert_valid_cited_answer(answer)


def test_local_model_is_loaded_once_and_shared_by_threads(tmp_path, embeddings, model_path):
    from advisor import model_server

    started_before = {key: server.starts for key, server in model_server._SERVERS.items()}
    service = make_service(tmp_path, embeddings, llm="local", model=str(model_path))
    advisor = service.advisor()
    answers: list = []
    errors: list = []

    def ask(question: str) -> None:
        try:
            answers.append(advisor.answer(question))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=ask, args=(q,))
        for q in ("学校在订单班里负责什么？", "订单班的课程由谁参与设计？")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors and len(answers) == 2
    servers = [  # the app's server for this model (not a test's own verbose one)
        key for key in model_server._SERVERS if key[0] == str(model_path.resolve()) and not key[3]
    ]
    assert len(servers) == 1  # one model process for both threads, started at most once
    assert model_server._SERVERS[servers[0]].starts - started_before.get(servers[0], 0) <= 1
    for answer in answers:
        assert_valid_cited_answer(answer)


@pytest.fixture(scope="module")
def llama_server(model_path: Path, tmp_path_factory: pytest.TempPathFactory):
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"

    def ready() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model_path),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "4096",
        "--model_alias",
        "bundled-qwen",
    ]
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    with running_server(command, ready, log_path):
        yield url


def test_openai_backend_against_a_real_llama_server(tmp_path, embeddings, llama_server):
    service = make_service(
        tmp_path,
        embeddings,
        llm="openai",
        openai_base_url=llama_server,
        openai_api_key="not-needed",
        model="bundled-qwen",
    )
    answer = service.advisor().answer("订单班里企业承诺什么？")
    assert answer.llm == f"openai:bundled-qwen@{llama_server}"
    assert not answer.refused, answer.answer
    assert "录用" in answer.answer
    assert_valid_cited_answer(answer)


def test_openai_backend_reports_an_unreachable_server(tmp_path, embeddings) -> None:
    service = make_service(
        tmp_path,
        embeddings,
        llm="openai",
        openai_base_url=f"http://127.0.0.1:{free_port()}/v1",
        openai_api_key="x",
        model="m",
        llm_timeout_s=5,
    )
    with pytest.raises(LLMError, match=r"the language model failed .*Connection error"):
        service.advisor().answer("订单班里企业承诺什么？")
