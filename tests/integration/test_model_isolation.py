"""The bundled model runs in its own supervised process (advisor/model_server.py): a killed
model ends one answer with a clear error, the next answer is served by a new process, the
process ends with its parent, and the built llama.cpp holds no code outside the CPU baseline.

Real parts throughout: the bundled GGUF, ``llama_cpp.server`` on 127.0.0.1, the service and
its retrieval. Deliberately not skipped when the model is missing (CI must exercise it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from advisor.errors import LLMError

pytestmark = [pytest.mark.llm, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL = REPO_ROOT / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


@pytest.fixture(scope="module")
def model_path() -> Path:
    if not MODEL.is_file():
        pytest.fail(f"bundled model not found at {MODEL}; run `make setup`", pytrace=False)
    return MODEL


def _wait_dead(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # a zombie child of ours counts as dead once reaped by its Popen; poll via /proc
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split()[2]
            if state == "Z":
                return True
        except OSError:
            return True
        time.sleep(0.2)
    return False


def test_built_llama_cpp_holds_no_amx_or_avx512() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "check_cpu_isa.py")],
        capture_output=True,
        text=True,
    )
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "libggml-cpu" in result.stdout  # the CPU kernels were looked at, not only libllama


def test_killed_model_ends_one_answer_and_the_next_is_answered(
    model_path: Path, service, tmp_path: Path
) -> None:
    """kill -9 of the model process mid-answer: that answer raises LLMError saying so, the
    same service answers the next question from a new process, and this process (the app)
    lives on."""
    from advisor.llm import LocalServerChat

    notes = tmp_path / "notes.md"
    notes.write_text(
        "# 订单班\n\n订单班是企业与学校签订协议、按企业岗位需要共同培养学生的办学形式。"
        "学生毕业后到该企业就业，企业参与课程设计并提供实习岗位。\n",
        encoding="utf-8",
    )
    service.ingest([notes])
    chat = LocalServerChat(model_path=model_path, max_tokens=120, log_dir=tmp_path / "logs")
    service.use_chat_model(chat, "local:test")
    advisor = service.advisor()

    from advisor.chain import TokenEvent

    server = chat.server
    server.base_url()  # running before the question
    starts_before = server.starts
    events = advisor.stream("订单班是什么？请详细说明企业和学校各做什么。")
    killed_pid = None
    with pytest.raises(LLMError) as failure:
        for event in events:
            if isinstance(event, TokenEvent) and killed_pid is None and server.pid:
                killed_pid = server.pid
                os.kill(killed_pid, signal.SIGKILL)
    assert killed_pid is not None
    message = str(failure.value)
    assert "stopped while answering" in message and "SIGKILL" in message, message
    assert "started again" in message

    answer = advisor.answer("订单班是什么？")
    assert not answer.refused, answer.answer
    assert "订单班" in answer.answer or "企业" in answer.answer
    assert server.pid is not None and server.pid != killed_pid
    assert server.starts == starts_before + 1


def test_a_hanging_model_is_killed_and_reported(model_path: Path, tmp_path: Path) -> None:
    """SIGSTOP freezes the process the way a native hang would: the stall watchdog kills it
    and the answer ends with an error that says the model wrote nothing."""
    from langchain_core.messages import HumanMessage

    from advisor.llm import LocalServerChat

    chat = LocalServerChat(model_path=model_path, max_tokens=200, stall_s=4)
    server = chat.server
    server.base_url()
    pid = server.pid
    assert pid is not None
    stream = chat.stream([HumanMessage("用五句话介绍校企合作。")])
    with pytest.raises(LLMError, match="wrote nothing for 4 s"):
        for i, _ in enumerate(stream):
            if i == 2:
                os.kill(pid, signal.SIGSTOP)
    assert _wait_dead(pid)
    # the same server, answering again (with the default stall limit: on a busy machine the
    # first token of a new process may take longer than 4 s)
    reply = LocalServerChat(model_path=model_path, max_tokens=8).invoke(
        [HumanMessage("Say hello in one word.")]
    )
    assert str(reply.content).strip()


def test_model_process_ends_when_its_parent_is_killed(model_path: Path, tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys, time
            sys.path.insert(0, {str(REPO_ROOT)!r})
            from pathlib import Path
            from advisor.model_server import ModelServer, ServerConfig
            server = ModelServer(ServerConfig(Path({str(model_path)!r})))
            server.base_url()
            print(server.pid, flush=True)
            time.sleep(600)
            """
        )
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        os.kill(child, 0)  # running
        parent.kill()
        parent.wait(10)
        assert _wait_dead(child), "the model process outlived its killed parent"
    finally:
        parent.kill()


def test_warm_up_puts_the_system_prompts_in_the_servers_prompt_cache(
    model_path: Path, tmp_path: Path
) -> None:
    """After warm-up, a question in either language resumes from its system prompt's cached
    state (llama-cpp-python logs a cache hit) instead of evaluating it again. The warm-up of
    the fresh process timed the prompts (the prompt budget follows that speed); a second
    warm-up, over a cache that holds them, does not measure again."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from advisor.llm import LocalServerChat
    from prompts import load_prompt, render_prompt

    # a server of its own with verbose logs (the shared one is quiet)
    chat = LocalServerChat(model_path=model_path, max_tokens=2, verbose=True, log_dir=tmp_path)
    server = chat.server
    systems = {
        lang: render_prompt("answer_system", lang, refusal=load_prompt("refusal", lang))
        for lang in ("zh", "en")
    }
    try:
        assert chat.prompt_tokens_per_s is None
        chat.warm_up(list(systems.values()))
        speed = chat.prompt_tokens_per_s
        # two ~330-token system prompts on any CPU this runs on: more than a few tokens a
        # second, and fewer than a cached prompt's thousands
        assert speed is not None and 5 < speed < 5000, speed
        chat.warm_up(list(systems.values()))
        assert chat.prompt_tokens_per_s == speed
        log = tmp_path / "model-server.log"
        before = log.read_text(errors="replace").count("cache hit")
        chat.invoke([SystemMessage(systems["zh"]), HumanMessage("订单班是什么？")])
        chat.invoke([SystemMessage(systems["en"]), HumanMessage("What is an order class?")])
        hits = log.read_text(errors="replace").count("cache hit") - before
        assert hits >= 2, log.read_text(errors="replace")[-2000:]
    finally:
        server.stop()


def test_other_sessions_retrieval_waits_while_an_answer_is_generated(
    model_path: Path, embeddings
) -> None:
    """The compute gate: a retrieval (query embedding) that arrives while the bundled model is
    generating runs after the generation, not beside it (vectorstore/gate.py)."""
    from langchain_core.messages import HumanMessage

    from advisor.llm import LocalServerChat

    chat = LocalServerChat(model_path=model_path, max_tokens=24)
    events: list[tuple[str, float]] = []
    first_token = threading.Event()

    def generate() -> None:
        for _ in chat.stream([HumanMessage("用三句话介绍校企合作。")]):
            first_token.set()
        events.append(("generation done", time.monotonic()))

    generator = threading.Thread(target=generate)
    generator.start()
    assert first_token.wait(180)
    embeddings.embed_query("共享实训基地")  # another session's retrieval
    events.append(("embedding done", time.monotonic()))
    generator.join(180)
    assert [name for name, _ in sorted(events, key=lambda e: e[1])] == [
        "generation done",
        "embedding done",
    ]
