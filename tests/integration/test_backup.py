"""`backup` and `restore`: a snapshot of the knowledge bases (shared and users' plans), the
conversations, results and accounts, restored into an empty data dir and verified: the same
documents, chunks, vectors, answers, conversations, results and sign-ins (but no live
sessions); a populated data dir is not overwritten without --force; a broken archive is
reported, not half-restored."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from advisor.cli import main
from advisor.service import AdvisorService
from advisor.settings import Settings

DOC = (
    "---\ntitle: 实训基地\nkind: case\n---\n\n# 共享实训基地\n\n"
    "政府投资建设、院校运营、企业提供设备，面向多所院校开放。按使用工时收取成本性费用。\n"
)


def make_service(root: Path, embeddings) -> AdvisorService:
    return AdvisorService(Settings(data_dir=root, llm="extractive"), embeddings=embeddings)


def test_backup_then_restore_into_an_empty_data_dir(embeddings, tmp_path, capsys) -> None:
    source = make_service(tmp_path / "a", embeddings)
    doc = tmp_path / "base.md"
    doc.write_text(DOC, encoding="utf-8")
    assert source.ingest([doc]).ok
    assert source.ingest([doc], kb="other").ok
    conversation = source.conversations.create(title="实训基地")
    source.conversations.add_message(conversation.id, "user", "谁来运营？")
    before = source.advisor().answer("共享实训基地由谁运营？").to_record()

    archive = tmp_path / "snap.tar.gz"
    assert main(["backup", str(archive)], service=source) == 0
    assert "default (1 documents, " in capsys.readouterr().out
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"manifest.json", "app.sqlite3", "kb/default/chunks.jsonl"} <= names

    target = make_service(tmp_path / "b", embeddings)
    assert main(["restore", str(archive)], service=target) == 0
    assert "restored and verified" in capsys.readouterr().out
    assert sorted(target.list_knowledge_bases()) == ["default", "other"]
    assert [(d.source, d.sha256, d.chunks) for d in target.list_documents()] == [
        (d.source, d.sha256, d.chunks) for d in source.list_documents()
    ]
    src_chunks = {c.chunk_id: c for c in source.knowledge_base().iter_chunks(embeddings=True)}
    for chunk in target.knowledge_base().iter_chunks(embeddings=True):
        original = src_chunks.pop(chunk.chunk_id)
        assert chunk.text == original.text and chunk.metadata == original.metadata
        assert chunk.embedding == pytest.approx(original.embedding, abs=1e-6)
    assert not src_chunks
    after = target.advisor().answer("共享实训基地由谁运营？").to_record()
    assert after["answer"] == before["answer"] and after["citations"] == before["citations"]
    [restored] = target.conversations.list_conversations()
    assert restored.title == "实训基地"
    assert [m.content for m in target.conversations.messages(restored.id)] == ["谁来运营？"]

    # a populated data dir is not overwritten without --force
    assert main(["restore", str(archive)], service=target) == 1
    assert "use --force" in capsys.readouterr().err
    assert main(["restore", str(archive), "--force"], service=target) == 0
    assert len(target.list_documents()) == 1


def test_broken_archive_is_reported(embeddings, tmp_path, capsys) -> None:
    target = make_service(tmp_path / "b", embeddings)
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not a tar file")
    assert main(["restore", str(broken)], service=target) == 1
    assert "not a readable backup" in capsys.readouterr().err
    assert main(["backup", str(tmp_path / "x.zip")], service=target) == 2
    assert target.list_knowledge_bases() in ([], ["default"])
    assert all(target.knowledge_base(n).is_empty() for n in target.list_knowledge_bases())


def test_accounts_plans_and_results_are_backed_up_without_live_sessions(
    embeddings, tmp_path, capsys
) -> None:
    source = make_service(tmp_path / "a", embeddings)
    source.accounts.add_user("admin", "correct horse battery", "admin")
    source.accounts.add_user("王老师", "member password 1")
    token = source.accounts.login("王老师", "member password 1")
    plan = tmp_path / "wang.md"
    plan.write_text("# 方案\n\n学院与汽车企业共建实训中心，企业捐赠三台整车。\n", encoding="utf-8")
    wang = source.workspace("王老师")
    assert wang.add_plans([plan]).ok
    wang.save_result("batch", "问题", [{"id": "1", "question": "捐赠了几台整车？"}])

    archive = tmp_path / "snap.tar.gz"
    assert main(["backup", str(archive)], service=source) == 0
    assert "2 user(s)" in capsys.readouterr().out

    target = make_service(tmp_path / "b", embeddings)
    assert main(["restore", str(archive)], service=target) == 0
    assert "2 user(s)" in capsys.readouterr().out
    accounts = target.accounts
    assert [(u.name, u.role) for u in accounts.users()] == [
        ("admin", "admin"),
        ("王老师", "member"),
    ]
    user = accounts.user_for(accounts.login("王老师", "member password 1"))
    assert user is not None and user.name == "王老师"
    assert accounts.user_for(token) is None  # sessions are not carried over
    restored = target.workspace("王老师")
    assert [p.source for p in restored.plans()] == ["wang.md"]
    assert restored.plan_passages("wang.md")[0].text == wang.plan_passages("wang.md")[0].text
    [job] = restored.results()
    assert restored.result(job.id).result == [{"id": "1", "question": "捐赠了几台整车？"}]
    # a data dir with users of its own is not overwritten without --force
    assert main(["restore", str(archive)], service=target) == 1
    assert "accounts.sqlite3" in capsys.readouterr().err
