"""Crash safety with real processes and SIGKILL: an ingest killed at any moment leaves the store
consistent and the next run finishes the job with no duplicate or orphan chunks; a batch killed
midway resumes from where it stopped when run again with the same output."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from advisor.service import AdvisorService
from advisor.settings import Settings
from devkit.servers import REPO_ROOT

pytestmark = pytest.mark.slow


def cli(
    data: Path, *args: str, llm: str = "extractive", env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
    environ.update(ADVISOR_DATA_DIR=str(data), ADVISOR_LLM=llm, **(env or {}))
    return subprocess.Popen(
        [sys.executable, "-m", "advisor", *args],
        cwd=REPO_ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for_lines(journal: Path, lines: int, timeout_s: float = 120) -> None:
    """Until the batch journal holds more than ``lines`` lines (answers given so far)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if journal.exists() and len(journal.read_text(encoding="utf-8").splitlines()) > lines:
            return
        time.sleep(0.05)


def long_document(path: Path) -> Path:
    """~120 articles: several seconds of embedding and several write batches."""
    articles = [
        f"第{i}条 学校与合作企业共同建设第{i}号实训基地，企业投入设备{i}台，"
        f"学校安排{i % 7 + 1}名专业教师驻点指导，双方每学期联合评估一次实践教学质量。"
        for i in range(1, 121)
    ]
    path.write_text("# 校企合作实施细则\n\n" + "\n\n".join(articles), encoding="utf-8")
    return path


def store_state(data: Path, embeddings) -> tuple[list[tuple[str, str, int]], list[str], int]:
    service = AdvisorService(Settings(data_dir=data, llm="extractive"), embeddings=embeddings)
    kb = service.knowledge_base()
    documents = [(d.source, d.sha256, d.chunks) for d in kb.list_documents()]
    all_ids = kb.chunks.get(include=[])["ids"]
    dirty = kb._raw_records(where={"dirty": True})
    return documents, all_ids, len(dirty)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, embeddings):
    """A clean ingest of the long document: what the store must hold, and how long it took."""
    folder = tmp_path_factory.mktemp("crash")
    doc = long_document(folder / "rules.md")
    started = time.monotonic()
    assert cli(folder / "reference", "ingest", str(doc)).wait(300) == 0
    elapsed = time.monotonic() - started
    documents, ids, _ = store_state(folder / "reference", embeddings)
    return doc, elapsed, documents, ids


# killed early (start-up, parsing), mid-embedding, and near the end (while writing)
@pytest.mark.parametrize("fraction", [0.3, 0.8, 0.95])
def test_ingest_killed_at_any_moment_is_finished_by_the_next_run(
    tmp_path, embeddings, reference, fraction: float
) -> None:
    doc, elapsed, expected, expected_ids = reference
    data = tmp_path / "data"
    proc = cli(data, "ingest", str(doc))
    time.sleep(elapsed * fraction)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)

    # whatever was on disk at the kill, readers see nothing half-written ...
    documents, _, _ = store_state(data, embeddings)
    assert documents in ([], expected)
    # ... and the next run finishes the job: the same chunks as a clean ingest, no orphans
    again = cli(data, "ingest", str(doc))
    assert again.wait(300) == 0, again.stderr.read() if again.stderr else ""
    documents, ids, dirty = store_state(data, embeddings)
    assert documents == expected
    assert sorted(ids) == sorted(expected_ids)
    assert len(ids) == len(set(ids)) and dirty == 0


def many_small_files(folder: Path, n: int = 60) -> Path:
    """``n`` one-passage notes: the pipeline embeds and writes them in groups."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"minutes-{i:03d}.txt").write_text(
            f"第{i + 1}次校企联席会议纪要：双方确认第{i + 1}期订单班招收{20 + i % 9}名学生，"
            f"企业提供{i % 4 + 2}个实习岗位。",
            encoding="utf-8",
        )
    return folder


def kill_when(proc: subprocess.Popen[bytes], count: Callable[[bytes], int], at_least: int) -> int:
    """SIGKILL ``proc`` once ``count`` of its progress output (stderr) reaches ``at_least``,
    and return the count it had then."""
    assert proc.stderr is not None
    os.set_blocking(proc.stderr.fileno(), False)
    seen, deadline = b"", time.monotonic() + 300
    while count(seen) < at_least and time.monotonic() < deadline and proc.poll() is None:
        seen += proc.stderr.read() or b""
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    return count(seen)


def files_done(stderr: bytes) -> int:
    """The files bar's count in the CLI's progress output so far."""
    counts = re.findall(rb"files:[^\r\n]*?\| *(\d+)/\d+", stderr)
    return int(counts[-1]) if counts else 0


def test_ingest_of_many_small_files_killed_midway_is_finished_by_the_next_run(
    tmp_path, embeddings
) -> None:
    """SIGKILL in the middle of an ingest of many small files, which are embedded and written
    in groups: every document the kill left is complete, and the next run finishes the job
    with the same store a clean ingest makes."""
    folder = many_small_files(tmp_path / "minutes")
    env = {"ADVISOR_INGEST_GROUP_CHUNKS": "8"}  # ~8 groups
    assert cli(tmp_path / "reference", "ingest", str(folder), env=env).wait(300) == 0
    expected, expected_ids, _ = store_state(tmp_path / "reference", embeddings)
    assert len(expected) == 60

    data = tmp_path / "data"
    proc = cli(data, "ingest", str(folder), env={**env, "ADVISOR_PROGRESS": "1"})
    done_at_kill = kill_when(proc, files_done, 20)
    assert 20 <= done_at_kill < 60, "the kill did not land in the middle of the ingest"

    documents, _, _ = store_state(data, embeddings)
    assert len(documents) >= done_at_kill  # every file reported done was committed
    assert set(documents) <= set(expected)  # and each document is complete
    again = cli(data, "ingest", str(folder), env=env)
    assert again.wait(300) == 0, again.stderr.read() if again.stderr else ""
    documents, ids, dirty = store_state(data, embeddings)
    assert documents == expected
    assert sorted(ids) == sorted(expected_ids)
    assert len(ids) == len(set(ids)) and dirty == 0


def test_batch_killed_midway_resumes_where_it_stopped(tmp_path) -> None:
    data = tmp_path / "data"
    kb_doc = tmp_path / "base.md"
    kb_doc.write_text(
        "# 订单班\n\n订单班由企业参与课程设计，企业承诺录用合格毕业生。学校负责教学组织。\n",
        encoding="utf-8",
    )
    assert cli(data, "ingest", str(kb_doc)).wait(120) == 0
    questions = tmp_path / "questions.txt"
    asked = [f"订单班里企业做什么？（第{i}问）" for i in range(1, 61)]
    questions.write_text("\n".join(asked) + "\n", encoding="utf-8")
    out = tmp_path / "answers.jsonl"
    journal = tmp_path / ".answers.jsonl.partial.jsonl"

    proc = cli(data, "batch", str(questions), "--out", str(out))
    wait_for_lines(journal, 6)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert not out.exists()
    answered_before = len(journal.read_text(encoding="utf-8").splitlines()) - 1
    assert 5 <= answered_before < 60

    again = cli(data, "batch", str(questions), "--out", str(out))
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err.decode()
    resumed = int(err.decode().split("resuming: ")[1].split(" of ")[0])
    assert resumed >= answered_before - 1  # a torn last line is answered again
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["question"] for r in records] == asked
    assert [r["id"] for r in records] == [str(i) for i in range(1, 61)]
    assert all(r["answer"] and not r.get("error") for r in records)
    assert not journal.exists()


def _plan_kbs(data: Path) -> list[str]:
    out = cli(data, "kb", "list", "--json").communicate(timeout=120)[0]
    return [kb["kb"] for kb in json.loads(out) if kb["kb"].startswith("plan-")]


def test_temporary_plan_knowledge_base_of_a_killed_batch_is_swept(tmp_path) -> None:
    """A batch with --plan killed outright never reaches its clean-up: its temporary plan
    knowledge base stays until the next run on that data folder sees that the process that
    made it is gone and drops it."""
    data = tmp_path / "data"
    base = tmp_path / "base.md"
    base.write_text("# 订单班\n\n订单班由企业参与课程设计，学校负责教学组织。\n", encoding="utf-8")
    assert cli(data, "ingest", str(base)).wait(120) == 0
    plan = tmp_path / "plan.md"
    plan.write_text(
        "# 我校方案\n\n我校与三家企业共建实训基地，企业派驻工程师授课。\n", encoding="utf-8"
    )
    questions = tmp_path / "questions.txt"
    questions.write_text(
        "\n".join(f"我校方案里企业做什么？（第{i}问）" for i in range(1, 81)) + "\n",
        encoding="utf-8",
    )
    journal = tmp_path / ".answers.jsonl.partial.jsonl"
    proc = cli(
        data, "batch", str(questions), "--out", str(tmp_path / "answers.jsonl"), "--plan", str(plan)
    )
    wait_for_lines(journal, 3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    [left] = _plan_kbs(data)  # the killed run's
    assert f"-{proc.pid}-" in left

    again = cli(
        data, "batch", str(questions), "--out", str(tmp_path / "again.jsonl"), "--plan", str(plan)
    )
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err.decode()
    assert _plan_kbs(data) == []


def ocr_pages_done(stderr: bytes) -> int:
    """The OCR bar's count in the CLI's progress output so far."""
    counts = re.findall(rb"ocr:[^\r\n]*?\| *(\d+)/\d+", stderr)
    return int(counts[-1]) if counts else 0


def test_ingest_killed_mid_ocr_leaves_nothing_and_the_next_run_indexes_the_scan(
    tmp_path, embeddings
) -> None:
    """SIGKILL while the worker OCRs a four-page scan: nothing of it is in the store, and the
    next run indexes it exactly as a clean ingest does."""
    from devkit.scangen import COLLEGE_RULES, write_scanned_pdf

    pages = ["\n".join(page) for page in COLLEGE_RULES] * 2
    scan = write_scanned_pdf(tmp_path / "管理办法-扫描.pdf", pages, dpi=200)
    assert cli(tmp_path / "reference", "ingest", str(scan)).wait(300) == 0
    expected, expected_ids, _ = store_state(tmp_path / "reference", embeddings)
    assert len(expected) == 1

    data = tmp_path / "data"
    proc = cli(data, "ingest", str(scan), env={"ADVISOR_PROGRESS": "1"})
    done_at_kill = kill_when(proc, ocr_pages_done, 1)
    assert 1 <= done_at_kill < 4, "the kill did not land in the middle of the OCR"

    documents, ids, dirty = store_state(data, embeddings)
    assert documents == [] and ids == [] and dirty == 0  # nothing half-indexed
    again = cli(data, "ingest", str(scan))
    assert again.wait(300) == 0, again.stderr.read() if again.stderr else ""
    documents, ids, dirty = store_state(data, embeddings)
    assert documents == expected and sorted(ids) == sorted(expected_ids) and dirty == 0
