"""Users' plans and results through the service layer (``AdvisorService.workspace``): each
user's are theirs alone. Another user's plan or result cannot be read, listed, retrieved,
answered from or deleted; plans never reach the shared knowledge base; deleting a user removes
everything of theirs. Real store and embedder; the extractive backend answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.errors import NotFoundError
from advisor.kbnames import is_private_kb, plans_kb_name
from advisor.review import ReviewReport, review_passages, write_report
from advisor.service import AdvisorService
from advisor.settings import Settings
from devkit.pdfgen import write_docx
from devkit.plans import GAPPED, GAPPED_EXPECTED, as_docx_blocks

SHARED = (
    "---\ntitle: 订单班\nkind: case\n---\n\n# 订单班\n\n"
    "订单班由企业参与课程设计，企业承诺录用合格毕业生。学校负责教学组织和学生管理。\n"
)
WANG_PLAN = (
    "# 王老师学院的方案\n\n"
    "学院与汽车企业共建新能源汽车实训中心，企业捐赠三台整车和两套电池检测设备。\n"
)
WANG_OTHER = "# 王老师的另一份方案\n\n学院与物流企业共建智慧仓储实训室，企业派驻五名仓储主管。\n"
LI_PLAN = "# 李老师学院的方案\n\n学院与酒店集团共建现代学徒制班，学徒每周在酒店轮岗三天。\n"


@pytest.fixture()
def svc(embeddings, tmp_path: Path) -> AdvisorService:
    service = AdvisorService(
        Settings(data_dir=tmp_path / "data", llm="extractive"), embeddings=embeddings
    )
    shared = tmp_path / "order_class.md"
    shared.write_text(SHARED, encoding="utf-8")
    assert service.ingest([shared]).ok
    return service


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def sources(answer) -> set[str]:
    return {p.source for p in answer.contexts}


def test_another_users_plans_cannot_be_read_listed_retrieved_or_deleted(svc, tmp_path) -> None:
    wang, li = svc.workspace("王老师"), svc.workspace("li")
    assert wang.kb_name != li.kb_name and wang.kb_name == plans_kb_name("王老师")
    report = wang.add_plans(
        [write(tmp_path, "wang.md", WANG_PLAN), write(tmp_path, "wang2.md", WANG_OTHER)]
    )
    assert report.ok
    assert li.add_plans([write(tmp_path, "li.md", LI_PLAN)]).ok
    wang_doc = wang.plan("wang.md")

    # listing: each sees their own; the shared knowledge base holds neither
    assert sorted(p.source for p in wang.plans()) == ["wang.md", "wang2.md"]
    assert [p.source for p in li.plans()] == ["li.md"]
    assert [d.source for d in svc.list_documents()] == ["order_class.md"]
    assert all(is_private_kb(n) for n in svc.list_knowledge_bases() if n != "default")
    assert svc.list_knowledge_bases(private=False) == ["default"]

    # reading, choosing, deleting wang's plan as li: not found, by id or by file name
    for doc in (wang_doc.doc_id, "wang.md"):
        with pytest.raises(NotFoundError):
            li.plan(doc)
        with pytest.raises(NotFoundError):
            li.plan_passages(doc)
        with pytest.raises(NotFoundError):
            li.plan_search([doc])
        with pytest.raises(NotFoundError):
            li.delete_plan(doc)
    assert len(wang.plans()) == 2  # nothing of wang's was deleted

    # retrieval: the shared knowledge base alone never returns a plan; li's chosen plan
    # scope returns li's plan, never wang's, even for a question only wang's plan answers
    question = "企业捐赠了几台整车和电池检测设备？"
    assert "wang.md" not in sources(svc.advisor().answer(question))
    kbs, flt = li.plan_search(["li.md"])
    got = svc.advisor(kbs).answer(question, flt=flt)
    assert sources(got) <= {"order_class.md", "li.md"}

    # wang, choosing one plan, is answered from it and not from the plan left unchosen
    kbs, flt = wang.plan_search([wang_doc.doc_id])
    got = svc.advisor(kbs).answer(question, flt=flt)
    assert "wang.md" in sources(got) and "wang2.md" not in sources(got)
    assert any("三台整车" in c.quote for c in got.citations)
    kbs, flt = wang.plan_search(["wang2.md"])
    got = svc.advisor(kbs).answer("企业派驻几名仓储主管？", flt=flt)
    assert "wang2.md" in sources(got) and "wang.md" not in sources(got)

    # wang's own delete works
    assert wang.delete_plan("wang2.md").source == "wang2.md"
    assert [p.source for p in wang.plans()] == ["wang.md"]


def test_another_users_results_cannot_be_read_listed_or_deleted(svc) -> None:
    wang, li = svc.workspace("wang"), svc.workspace("li")
    job = wang.save_result("batch", "wang's questions", [{"id": "1", "question": "秘密"}])
    li.save_result("review", "li.md", {"plan": "li.md", "dimensions": []})
    assert [j.title for j in wang.results()] == ["wang's questions"]
    assert [j.title for j in li.results()] == ["li.md"]
    with pytest.raises(NotFoundError):
        li.result(job.id)
    with pytest.raises(NotFoundError):
        li.delete_result(job.id)
    assert wang.result(job.id).result == [{"id": "1", "question": "秘密"}]
    wang.delete_result(job.id)
    assert wang.results() == [] and len(li.results()) == 1


def test_deleting_a_user_removes_their_conversations_plans_and_results(svc, tmp_path) -> None:
    svc.accounts.add_user("wang", "member password 1")
    svc.accounts.add_user("li", "member password 2")
    wang, li = svc.workspace("wang"), svc.workspace("li")
    assert wang.add_plans([write(tmp_path, "wang.md", WANG_PLAN)]).ok
    assert li.add_plans([write(tmp_path, "li.md", LI_PLAN)]).ok
    wang.save_result("batch", "q", [])
    li.save_result("batch", "q", [])
    svc.conversations.create("wang", title="wang's")
    svc.conversations.create("li", title="li's")

    svc.delete_user("wang")
    assert [u.name for u in svc.accounts.users()] == ["li"]
    assert wang.kb_name not in svc.list_knowledge_bases()
    assert wang.plans() == [] and wang.results() == []
    assert svc.conversations.list_conversations("wang") == []
    # li keeps everything
    assert [p.source for p in li.plans()] == ["li.md"] and len(li.results()) == 1
    assert [c.title for c in svc.conversations.list_conversations("li")] == ["li's"]


def test_a_stored_plan_is_reviewed_and_the_saved_report_written_again(svc, tmp_path) -> None:
    me = svc.workspace("zhang")
    plan = write_docx(tmp_path / "gapped.docx", as_docx_blocks(GAPPED))
    assert me.add_plans([plan]).ok
    report = review_passages(svc.advisor(), "gapped.docx", me.plan_passages("gapped.docx"))
    assert {d.dimension.key: d.status for d in report.dimensions} == GAPPED_EXPECTED
    job = me.save_result("review", report.plan, report.to_json())

    again = ReviewReport.from_json(me.result(job.id).result)
    assert again.to_json() == report.to_json()
    write_report(report, tmp_path / "a.md")
    write_report(again, tmp_path / "b.md")
    assert (tmp_path / "a.md").read_text().replace("a_coverage", "b_coverage") == (
        tmp_path / "b.md"
    ).read_text()
