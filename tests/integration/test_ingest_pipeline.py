"""The ingest pipeline end to end: generated documents, the real embedder, real Chroma."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.cli import main
from devkit.pdfgen import (
    encrypt_pdf,
    truncate_file,
    write_docx,
    write_image_only_pdf,
    write_pdf,
)
from devkit.servers import REPO_ROOT
from ingest.errors import ParseTimeoutError
from ingest.types import LoadLimits
from ingest.worker import ParseWorker
from tests.support.contract import KB_DOC_FIELDS

EN_PAGE_1 = (
    "Shared training bases\n"
    "Colleges and enterprises build shared training bases where students practise on real "
    "production lines. The enterprise provides equipment and mentors; the college provides "
    "teachers and the curriculum."
)
EN_PAGE_2 = (
    "Dual-qualified teachers\n"
    "Teachers spend time in enterprises every year so that their teaching follows current "
    "practice, and engineers from industry teach courses at the college."
)
ZH_PAGE_1 = (
    "第一章 总则\n"
    "第一条 为了深化产教融合，推动校企合作，提高技术技能人才培养质量，制定本办法。\n"
    "第二条 职业学校和企业可以共建实训基地、产业学院和技术创新平台。"
)
ZH_PAGE_2 = (
    "第二章 保障措施\n"
    "第三条 地方政府对参与校企合作的企业给予财政补助和税收优惠。\n"
    "第四条 行业组织发挥中介作用，协调学校与企业的利益。"
)


@pytest.fixture()
def mixed_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    sub = folder / "sub"
    sub.mkdir(parents=True)
    good = write_pdf(folder / "english.pdf", [EN_PAGE_1, EN_PAGE_2])
    write_pdf(folder / "policy_zh.pdf", [ZH_PAGE_1, ZH_PAGE_2], chinese=True)
    encrypt_pdf(good, folder / "locked.pdf", user_password="s3cret", owner_password="owner")
    truncate_file(good, folder / "broken.pdf")
    (folder / "empty.pdf").write_bytes(b"")
    write_image_only_pdf(sub / "scan.pdf")
    (sub / "notes.txt").write_text(
        "Order classes\n\nAn order class trains students for one employer, which co-designs "
        "the curriculum and commits to hiring graduates.",
        encoding="utf-8",
    )
    (sub / "case.md").write_text(
        "---\ntitle: 订单班案例\nkind: case\nlang: zh\n---\n\n# 订单班案例\n\n"
        "某职业学院与企业合作开设订单班，企业参与课程设计并承诺录用毕业生。\n",
        encoding="utf-8",
    )
    write_docx(sub / "plan.docx", [("h1", "校企合作方案"), ("p", "学校与企业共建产业学院。")])
    (sub / "ignored.png").write_bytes(b"\x89PNG")  # not a document: ignored inside folders
    return folder


def by_source(report) -> dict:
    return {o.source: o for o in report.outcomes}


def test_mixed_folder_indexes_good_files_and_names_bad_ones(service, mixed_folder) -> None:
    report = service.ingest([mixed_folder])
    outcomes = by_source(report)
    assert set(outcomes) == {
        "english.pdf",
        "policy_zh.pdf",
        "locked.pdf",
        "broken.pdf",
        "empty.pdf",
        "scan.pdf",
        "notes.txt",
        "case.md",
        "plan.docx",
    }
    failures = {o.source: o.reason for o in report.failed}
    assert failures == {
        "locked.pdf": "encrypted",
        "broken.pdf": "corrupt",
        "empty.pdf": "empty",
        "scan.pdf": "unreadable_scan",  # a grey picture: OCR finds no words on it
    }
    assert "password" in outcomes["locked.pdf"].message
    for name in ("english.pdf", "policy_zh.pdf", "notes.txt", "case.md", "plan.docx"):
        assert outcomes[name].status == "indexed", outcomes[name]
        assert outcomes[name].chunks >= 1

    kb = service.knowledge_base()
    docs = {d.source: d for d in kb.list_documents()}
    assert set(docs) == {"english.pdf", "policy_zh.pdf", "notes.txt", "case.md", "plan.docx"}
    assert docs["case.md"].kind == "case" and docs["case.md"].lang == "zh"
    assert docs["english.pdf"].lang == "en" and docs["english.pdf"].pages == 2
    assert docs["policy_zh.pdf"].lang == "zh"

    chunks = list(kb.iter_chunks())
    assert len(chunks) == kb.count_chunks()
    zh_chunks = [c for c in chunks if c.metadata["source"] == "policy_zh.pdf"]
    sections = {c.metadata["section"] for c in zh_chunks}
    assert any("第三条" in s for s in sections), sections
    page_of = {c.text.split("\n")[0][:6]: c.metadata.get("page") for c in zh_chunks}
    assert any(p == 2 for p in page_of.values()), page_of
    assert all("page" not in c.metadata for c in chunks if c.metadata["source"] == "notes.txt")


def test_second_run_adds_nothing(service, mixed_folder) -> None:
    service.ingest([mixed_folder])
    kb = service.knowledge_base()
    before_ids = set(kb.chunks.get(include=[])["ids"])
    report = service.ingest([mixed_folder])
    statuses = {o.source: o.status for o in report.outcomes if o.ok}
    assert set(statuses.values()) == {"unchanged"}
    assert set(kb.chunks.get(include=[])["ids"]) == before_ids


def test_changed_file_replaces_its_chunks(service, tmp_path) -> None:
    doc = tmp_path / "memo.txt"
    doc.write_text("Enterprises receive tax relief for apprenticeships.", encoding="utf-8")
    service.ingest([doc])
    doc.write_text(
        "Colleges publish an annual report on school-enterprise cooperation.", encoding="utf-8"
    )
    report = service.ingest([doc])
    assert report.outcomes[0].status == "replaced"
    texts = [c.text for c in service.knowledge_base().iter_chunks()]
    assert texts == ["Colleges publish an annual report on school-enterprise cooperation."]
    assert service.knowledge_base().count_chunks() == 1


def test_password_opens_encrypted_pdf(service, tmp_path) -> None:
    plain = write_pdf(tmp_path / "plain.pdf", [EN_PAGE_1])
    locked = encrypt_pdf(plain, tmp_path / "locked.pdf", user_password="pw", owner_password="o")
    wrong = service.ingest([locked], options=service.ingest_options(password="nope"))
    assert wrong.outcomes[0].reason == "encrypted"
    right = service.ingest([locked], options=service.ingest_options(password="pw"))
    assert right.outcomes[0].status == "indexed"


def test_limits_are_reported(service, tmp_path) -> None:
    pdf = write_pdf(tmp_path / "three.pdf", [EN_PAGE_1, EN_PAGE_2, EN_PAGE_1])
    report = service.ingest([pdf], options=service.ingest_options(max_pages=2))
    assert report.outcomes[0].reason == "too_large"
    report = service.ingest([pdf], options=service.ingest_options(max_bytes=100))
    assert report.outcomes[0].reason == "too_large"
    assert service.knowledge_base().count_chunks() == 0


def test_parse_timeout_stops_only_that_file(tmp_path) -> None:
    pdf = write_pdf(tmp_path / "a.pdf", [EN_PAGE_1])
    with ParseWorker(timeout_s=0.001) as worker:
        with pytest.raises(ParseTimeoutError):
            worker.parse(pdf, password=None, limits=LoadLimits())
        worker.timeout_s = 60
        screened = worker.parse(pdf, password=None, limits=LoadLimits())
    assert "training bases" in screened.pages[0].text


def test_a_worker_that_cannot_start_reports_why_and_closes_cleanly(tmp_path, monkeypatch) -> None:
    """A parse process that fails to start (a script without a ``__main__`` guard, re-run
    by the spawn) raises its own error; closing the worker afterwards does not add an
    AttributeError from stopping a process that never ran."""
    import multiprocessing.process

    def refuse(self) -> None:
        raise RuntimeError("bootstrapping phase")

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", refuse)
    pdf = write_pdf(tmp_path / "a.pdf", [EN_PAGE_1])
    worker = ParseWorker(timeout_s=60)
    with pytest.raises(RuntimeError, match="bootstrapping"):
        worker.parse(pdf, password=None, limits=LoadLimits())
    worker.close()  # nothing to stop
    assert worker._proc is None
    monkeypatch.undo()
    with worker:  # and the same worker starts when it can
        assert (
            "training bases" in worker.parse(pdf, password=None, limits=LoadLimits()).pages[0].text
        )


def test_the_parse_worker_yields_the_cpu_to_the_encoder(tmp_path) -> None:
    """The worker runs niced, so that a parse beside the two encoder threads takes only the
    CPU they leave (docs/BENCHMARKS.md, long PDFs)."""
    import os

    from ingest.worker import WORKER_NICENESS

    pdf = write_pdf(tmp_path / "a.pdf", [EN_PAGE_1])
    with ParseWorker(timeout_s=60) as worker:
        worker.parse(pdf, password=None, limits=LoadLimits())
        child = os.getpriority(os.PRIO_PROCESS, worker._proc.pid)
    assert child == min(19, os.getpriority(os.PRIO_PROCESS, 0) + WORKER_NICENESS)


def _text(screened) -> str:
    return "\n".join(p.text for p in screened.pages)


def test_files_sent_ahead_come_back_in_order_and_a_slow_one_times_out(tmp_path) -> None:
    files = []
    for i in range(4):
        files.append(tmp_path / f"note{i}.txt")
        files[-1].write_text(
            f"第{i + 1}份纪要：校企共建实训基地，第{i + 1}次会议。", encoding="utf-8"
        )
    with ParseWorker(timeout_s=60) as worker:
        for path in files:
            worker.prefetch(path, password=None, limits=LoadLimits())
        for i, path in enumerate(files[:2]):  # results arrive in the order sent
            assert f"第{i + 1}份纪要" in _text(
                worker.parse(path, password=None, limits=LoadLimits())
            )
        # asked out of order: what was sent ahead is dropped and the file parsed on its own
        assert "第4份纪要" in _text(worker.parse(files[3], password=None, limits=LoadLimits()))
        assert "第3份纪要" in _text(worker.parse(files[2], password=None, limits=LoadLimits()))
        big = tmp_path / "big.txt"  # seconds of parsing: not done when asked for at once
        big.write_text("校企合作共建实训基地，企业提供设备与导师。\n" * 200_000, encoding="utf-8")
        worker.prefetch(big, password=None, limits=LoadLimits())
        worker.prefetch(files[1], password=None, limits=LoadLimits())
        worker.timeout_s = 0.001  # the file sent ahead is late: stopped and reported
        with pytest.raises(ParseTimeoutError):
            worker.parse(big, password=None, limits=LoadLimits())
        worker.timeout_s = 60
        assert "第2份纪要" in _text(worker.parse(files[1], password=None, limits=LoadLimits()))
        with pytest.raises(ValueError):
            pdf = write_pdf(tmp_path / "a.pdf", [EN_PAGE_1])
            worker.prefetch(pdf, password=None, limits=LoadLimits())


def test_many_small_files_with_a_pdf_and_an_unchanged_file_between(tmp_path) -> None:
    """Files are sent ahead while a group is embedded; a PDF, an unchanged file and a bad file
    among them keep the outcomes in order and right."""
    from advisor.service import AdvisorService
    from advisor.settings import Settings

    service = AdvisorService(
        Settings(data_dir=tmp_path / "data", llm="extractive", ingest_group_chunks=3)
    )
    folder = tmp_path / "notes"
    folder.mkdir()
    for i in range(12):
        (folder / f"n{i:02d}.txt").write_text(
            f"第{i}号通知：学院与企业共建第{i}个实训基地。", encoding="utf-8"
        )
    write_pdf(folder / "n05b.pdf", [EN_PAGE_1])
    (folder / "n08b.txt").write_bytes(b"")  # empty: refused by name
    first = service.ingest([folder / "n03.txt"])
    assert first.ok
    report = service.ingest([folder])
    by_name = {o.source: o for o in report.outcomes}
    assert [o.source for o in report.outcomes] == sorted(by_name)
    assert by_name["n03.txt"].status == "unchanged"
    assert by_name["n08b.txt"].status == "failed"
    assert by_name["n05b.pdf"].status == "indexed"
    assert sum(o.status == "indexed" for o in report.outcomes) == 12  # 11 notes + the PDF
    kb = service.knowledge_base()
    for i in range(12):
        hits = [c for c in kb.iter_chunks() if c.metadata["source"] == f"n{i:02d}.txt"]
        assert len(hits) == 1 and f"第{i}号通知" in hits[0].text


def test_duplicate_file_names_in_one_run(service, tmp_path) -> None:
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "same.txt").write_text(f"content of {sub}", encoding="utf-8")
    report = service.ingest([tmp_path / "a", tmp_path / "b"])
    assert [o.status for o in report.outcomes] == ["indexed", "failed"]
    assert "same name" in report.outcomes[1].message


# ------------------------------------------------------------------ the command line


def test_cli_ingest_docs_delete(mixed_folder, capsys) -> None:
    assert main(["ingest", str(mixed_folder)]) == 1  # some files fail
    out = capsys.readouterr().out
    assert "FAILED   locked.pdf: encrypted" in out
    assert "FAILED   scan.pdf: scan OCR could not read" in out

    assert main(["kb", "docs", "--json"]) == 0
    docs = json.loads(capsys.readouterr().out)
    assert {d["source"] for d in docs} == {
        "english.pdf",
        "policy_zh.pdf",
        "notes.txt",
        "case.md",
        "plan.docx",
    }
    assert set(docs[0]) >= KB_DOC_FIELDS

    good = [p for p in mixed_folder.rglob("*") if p.name in {"english.pdf", "notes.txt"}]
    assert main(["ingest", *map(str, good)]) == 0
    assert "2 unchanged" in capsys.readouterr().out

    assert main(["kb", "delete", "english.pdf"]) == 0
    assert main(["kb", "delete", "english.pdf"]) == 1
    assert "no document" in capsys.readouterr().err
    assert main(["kb", "list", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["kb"] == "default" and row["documents"] == 4


def test_cli_usage_errors(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["ingest"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["ingest", str(tmp_path), "--kind", "bogus"])
    assert exc.value.code == 2
    assert main(["ingest", str(tmp_path / "missing")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["kb", "docs", "--kb", "bad name!"]) == 2
    assert main(["kb", "docs", "--kb", "nothere"]) == 1


def test_cli_if_empty(tmp_path, capsys) -> None:
    note = tmp_path / "a.txt"
    note.write_text("Industry colleges are run jointly by a college and enterprises.")
    assert main(["ingest", str(note), "--if-empty"]) == 0
    other = tmp_path / "b.txt"
    other.write_text("Apprenticeship combines work and study.")
    assert main(["ingest", str(other), "--if-empty"]) == 0
    assert "already has documents" in capsys.readouterr().out
    assert main(["kb", "docs", "--json"]) == 0
    assert [d["source"] for d in json.loads(capsys.readouterr().out)] == ["a.txt"]


def test_python_dash_m_entry_point(tmp_path) -> None:
    note = tmp_path / "a.txt"
    note.write_text("Technology transfer platforms link research institutes and enterprises.")
    env = {"ADVISOR_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [sys.executable, "-m", "advisor", "ingest", str(note), "--json"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    [outcome] = json.loads(run.stdout)
    assert outcome["status"] == "indexed" and outcome["chunks"] == 1


# ------------------------------------------------- small files: grouped, reported one by one


class RecordingProgress:
    """What a user interface is told, in order."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def file_started(self, path: Path, index: int, total: int) -> None:
        self.events.append(("started", path.name, index, total))

    def stage(self, name: str, total: int | None = None, *, files: int = 1) -> None:
        self.events.append(("stage", name, total, files))

    def advance(self, n: int = 1) -> None:
        self.events.append(("advance", n))

    def file_finished(self, outcome) -> None:
        self.events.append(("finished", outcome.source, outcome.status))


def small_files(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"note-{i:02d}.txt"
        path.write_text(
            f"第{i + 1}号纪要：学校与第{i + 1}家合作企业商定共建实训基地，"
            f"企业派{i % 5 + 1}名工程师授课。",
            encoding="utf-8",
        )
        paths.append(path)
    return paths


@pytest.fixture()
def grouped_service(tmp_path, embeddings):
    from advisor.service import AdvisorService
    from advisor.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", llm="extractive", ingest_group_chunks=6)
    return AdvisorService(settings, embeddings=embeddings)


@pytest.fixture()
def write_calls(monkeypatch) -> list[list[str]]:
    """The documents of each store write, by source."""
    from vectorstore.store import KnowledgeBase

    calls: list[list[str]] = []
    real = KnowledgeBase.write_documents

    def spy(self, items):
        calls.append([doc.source for doc, _ in items])
        return real(self, items)

    monkeypatch.setattr(KnowledgeBase, "write_documents", spy)
    return calls


def test_small_files_are_written_in_groups_and_reported_one_by_one(
    grouped_service, write_calls, tmp_path
) -> None:
    folder = tmp_path / "notes"
    notes = small_files(folder, 14)
    big = folder / "rules.md"  # 8 articles: a group of its own
    big.write_text(
        "# 实训基地管理办法\n\n"
        + "\n\n".join(f"第{i}条 实训基地第{i}项管理要求由校企双方共同制定。" for i in range(1, 9)),
        encoding="utf-8",
    )
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    progress = RecordingProgress()
    report = grouped_service.ingest([folder], progress=progress)

    names = [*(p.name for p in [*notes, big]), "broken.pdf"]
    # the report keeps the files' order; every file but the broken one is indexed
    assert [o.source for o in report.outcomes] == sorted(names)
    assert by_source(report)["broken.pdf"].status == "failed"
    assert all(o.status == "indexed" for o in report.outcomes if o.source != "broken.pdf")
    # every file is started once and finished once, and finishes after it started
    started = [e[1] for e in progress.events if e[0] == "started"]
    finished = [e[1] for e in progress.events if e[0] == "finished"]
    assert sorted(started) == sorted(finished) == sorted(names)
    finished_at = {e[1]: i for i, e in enumerate(progress.events) if e[0] == "finished"}
    for i, event in enumerate(progress.events):
        if event[0] == "started":
            assert finished_at[event[1]] > i
    # groups of at most 6 chunks; the 8-article document is written alone
    assert ["rules.md"] in write_calls
    assert all(len(call) <= 6 for call in write_calls)
    assert len(write_calls) < 14  # not one write per file
    assert sorted(s for call in write_calls for s in call) == sorted(
        n for n in names if n != "broken.pdf"
    )
    grouped = [e for e in progress.events if e[0] == "stage" and e[1] == "embed" and e[3] > 1]
    assert grouped and all(e[2] == e[3] for e in grouped)  # one chunk per note
    # the group's time is charged to its files
    for outcome in report.outcomes:
        if outcome.status == "indexed":
            assert outcome.timings["embed"] > 0 and outcome.timings["write"] > 0

    kb = grouped_service.knowledge_base()
    assert len(kb.list_documents()) == 15 and kb.count_chunks() == 14 + 8
    again = grouped_service.ingest([folder])
    assert again.counts() == {"unchanged": 15, "failed": 1}


def test_a_document_that_fails_in_a_group_fails_alone(
    grouped_service, monkeypatch, tmp_path
) -> None:
    from vectorstore.store import KnowledgeBase

    notes = small_files(tmp_path / "notes", 5)
    notes[2].write_text("坏的写入：存储拒绝这一篇。", encoding="utf-8")
    notes[4].write_text("坏的嵌入：嵌入模型拒绝这一篇。", encoding="utf-8")
    real_upsert = KnowledgeBase._upsert

    def upsert(self, chunks, vecs):
        if any("坏的写入" in c.text for c in chunks):
            raise RuntimeError("the store refused the write")
        return real_upsert(self, chunks, vecs)

    monkeypatch.setattr(KnowledgeBase, "_upsert", upsert)
    real_embed = grouped_service.embeddings.embed_passages

    def embed(texts, **kwargs):
        if any("坏的嵌入" in t for t in texts):
            raise RuntimeError("the embedder failed")
        return real_embed(texts, **kwargs)

    monkeypatch.setattr(grouped_service.embeddings, "embed_passages", embed)
    report = grouped_service.ingest(notes)
    outcomes = by_source(report)
    assert {s: o.status for s, o in outcomes.items()} == {
        "note-00.txt": "indexed",
        "note-01.txt": "indexed",
        "note-02.txt": "failed",
        "note-03.txt": "indexed",
        "note-04.txt": "failed",
    }
    assert "the store refused the write" in outcomes["note-02.txt"].message
    assert "the embedder failed" in outcomes["note-04.txt"].message
    kb = grouped_service.knowledge_base()
    assert sorted(d.source for d in kb.list_documents()) == [
        "note-00.txt",
        "note-01.txt",
        "note-03.txt",
    ]
    assert kb.count_chunks() == 3 and not kb._raw_records(where={"dirty": True})
