"""`ask` and `batch` through the command line, with a fake chat model and a real store."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from pydantic import Field

from advisor.batch import read_questions
from advisor.cli import main
from advisor.service import AdvisorService
from devkit.fakes import QueuedFakeChat
from devkit.pdfgen import write_docx, write_pdf

KB_TEXT = (
    "---\ntitle: 订单班\nkind: case\n---\n\n# 订单班\n\n"
    "订单班由企业参与课程设计，企业承诺录用合格毕业生。学校负责教学组织和学生管理。\n"
)


@pytest.fixture()
def answering_service(settings, embeddings, tmp_path: Path) -> AdvisorService:
    service = AdvisorService(settings, embeddings=embeddings)
    doc = tmp_path / "order_class.md"
    doc.write_text(KB_TEXT, encoding="utf-8")
    assert service.ingest([doc]).ok
    return service


def use_fake(service: AdvisorService, replies: list[str]) -> QueuedFakeChat:
    fake = QueuedFakeChat(replies=replies)
    service.use_chat_model(fake, "fake")
    return fake


def test_ask_streams_answer_and_sources(answering_service, capsys) -> None:
    use_fake(answering_service, ["企业参与课程设计并承诺录用毕业生[1]。"])
    assert main(["ask", "订单班里企业做什么？"], service=answering_service) == 0
    out = capsys.readouterr().out
    assert "企业参与课程设计并承诺录用毕业生[1]。" in out
    assert "[1] order_class.md" in out


def test_ask_json_is_one_contract_record(answering_service, capsys) -> None:
    use_fake(answering_service, ["学校负责教学组织[1]。"])
    assert main(["ask", "订单班里学校负责什么？", "--json"], service=answering_service) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["refused"] is False and record["llm"] == "fake"
    [citation] = record["citations"]
    assert citation["source"] == "order_class.md" and citation["n"] == 1
    assert citation["quote"] in record["contexts"][0]["text"]


def write_inputs(folder: Path) -> dict[str, Path]:
    folder.mkdir()
    questions = ["订单班里企业做什么？", "学校负责什么？", "企业是否录用毕业生？"]
    paths = {
        "jsonl": folder / "q.jsonl",
        "csv": folder / "q.csv",
        "txt": folder / "q.txt",
        "xlsx": folder / "q.xlsx",
    }
    paths["jsonl"].write_text(
        "\n".join(
            json.dumps({"id": f"q{i}", "question": q}, ensure_ascii=False)
            for i, q in enumerate(questions, 1)
        ),
        encoding="utf-8",
    )
    with paths["csv"].open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "question"])
        writer.writerows([f"q{i}", q] for i, q in enumerate(questions, 1))
    paths["txt"].write_text("\n".join(questions) + "\n\n", encoding="utf-8")
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["id", "question"])
    for i, q in enumerate(questions, 1):
        workbook.active.append([f"q{i}", q])
    workbook.save(paths["xlsx"])
    return paths


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "txt", "xlsx"])
def test_every_input_format_reads_in_order(tmp_path, fmt) -> None:
    items = read_questions(write_inputs(tmp_path / "in")[fmt])
    assert [i.question for i in items] == [
        "订单班里企业做什么？",
        "学校负责什么？",
        "企业是否录用毕业生？",
    ]
    expected_ids = ["1", "2", "3"] if fmt == "txt" else ["q1", "q2", "q3"]
    assert [i.id for i in items] == expected_ids


def test_batch_keeps_order_records_failures_and_writes_every_format(
    answering_service, tmp_path, capsys
) -> None:
    inputs = write_inputs(tmp_path / "in")
    fake = use_fake(answering_service, ["企业参与课程设计[1]。", "学校负责教学组织[1]。"])
    real_stream = fake._stream
    calls = {"n": 0}

    def stream_failing_on_third(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("model server went away")
        yield from real_stream(*args, **kwargs)

    object.__setattr__(fake, "_stream", stream_failing_on_third)
    out = tmp_path / "out" / "answers.jsonl"
    code = main(["batch", str(inputs["jsonl"]), "--out", str(out)], service=answering_service)
    assert code == 1  # one question failed; the others are answered
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == ["q1", "q2", "q3"]
    assert records[0]["answer"].startswith("企业参与课程设计[1]。\n\n**依据（原文）**\n- ")
    assert (
        records[2]["error"] == "LLMError: the language model failed (fake): model server went away"
    )
    assert "1 failed" in capsys.readouterr().out

    for suffix in ("csv", "xlsx", "md", "docx"):
        use_fake(answering_service, ["企业参与课程设计[1]。"] * 3)
        target = tmp_path / "out" / f"answers.{suffix}"
        assert (
            main(["batch", str(inputs["txt"]), "--out", str(target)], service=answering_service)
            == 0
        )
        assert target.stat().st_size > 0
    with (tmp_path / "out" / "answers.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["sources"] == "[1] order_class.md"
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "out" / "answers.xlsx").active
    assert sheet["B2"].value == "订单班里企业做什么？"
    assert sheet["C2"].value.startswith("企业参与课程设计[1]。")
    import docx

    text = "\n".join(
        p.text for p in docx.Document(str(tmp_path / "out" / "answers.docx")).paragraphs
    )
    assert "订单班里企业做什么？" in text and "order_class.md" in text
    assert "“" in (tmp_path / "out" / "answers.md").read_text(encoding="utf-8")


def test_batch_with_plan_answers_from_the_plan_then_removes_it(
    answering_service, tmp_path, capsys
) -> None:
    plan = write_docx(
        tmp_path / "plan.docx",
        [
            ("h1", "某职业学院校企合作方案"),
            ("p", "学院与三家企业共建智能制造产业学院，企业派驻十二名工程师担任兼职教师。"),
        ],
    )
    questions = tmp_path / "q.txt"
    questions.write_text("产业学院由谁共建？企业派了多少工程师？\n", encoding="utf-8")
    use_fake(answering_service, ["企业派驻十二名工程师担任兼职教师[1]。"])
    out = tmp_path / "answers.jsonl"
    assert (
        main(
            ["batch", str(questions), "--out", str(out), "--plan", str(plan)],
            service=answering_service,
        )
        == 0
    )
    [record] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert record["contexts"][0]["source"] == "plan.docx"
    assert record["citations"][0]["source"] == "plan.docx"
    # the private scope is gone and the shared knowledge base never saw the plan
    assert answering_service.list_knowledge_bases() == ["default"]
    assert [d.source for d in answering_service.list_documents()] == ["order_class.md"]


def test_batch_with_unreadable_plan_is_an_error(answering_service, tmp_path, capsys) -> None:
    plan = tmp_path / "scan.pdf"
    plan.write_bytes(b"%PDF-1.4 broken")
    questions = tmp_path / "q.txt"
    questions.write_text("问题\n", encoding="utf-8")
    code = main(
        ["batch", str(questions), "--out", str(tmp_path / "a.jsonl"), "--plan", str(plan)],
        service=answering_service,
    )
    assert code == 1
    assert "plan not indexed: scan.pdf" in capsys.readouterr().err
    assert answering_service.list_knowledge_bases() == ["default"]


def test_batch_usage_errors(answering_service, tmp_path, capsys) -> None:
    questions = tmp_path / "q.txt"
    questions.write_text("问题\n", encoding="utf-8")
    assert (
        main(["batch", str(questions), "--out", str(tmp_path / "a.pdf")], service=answering_service)
        == 2
    )
    bad = tmp_path / "q.csv"
    bad.write_text("text\nhello\n", encoding="utf-8")
    assert (
        main(["batch", str(bad), "--out", str(tmp_path / "a.jsonl")], service=answering_service)
        == 2
    )
    assert "'question' column" in capsys.readouterr().err


def test_pdf_plan_pages_are_cited(answering_service, tmp_path) -> None:
    plan = write_pdf(
        tmp_path / "plan.pdf",
        ["第一页 总体目标。", "第二页 学院设立校企合作理事会，每季度召开一次会议。"],
        chinese=True,
    )
    use_fake(answering_service, ["学院设立校企合作理事会，每季度召开一次会议[1]。"])
    with answering_service.plan_scope([plan]) as plan_kbs:
        answer = answering_service.advisor(["default", *plan_kbs]).answer("理事会多久开一次会？")
    assert answer.citations[0].source == "plan.pdf" and answer.citations[0].page == 2


def test_batch_over_the_question_limit_is_refused(answering_service, tmp_path, capsys) -> None:
    answering_service.settings = answering_service.settings.model_copy(
        update={"max_batch_questions": 2}
    )
    questions = tmp_path / "q.txt"
    questions.write_text("问一？\n问二？\n问三？\n", encoding="utf-8")
    out = tmp_path / "a.jsonl"
    assert main(["batch", str(questions), "--out", str(out)], service=answering_service) == 2
    assert "3 questions: more than the limit of 2" in capsys.readouterr().err
    assert not out.exists()


def test_eval_reports_the_prompt_speed_and_the_budget_it_chose(
    answering_service, tmp_path, capsys
) -> None:
    """`eval` warms the advisor up as the app does and records the prompt speed measured
    there and the prompt budget that followed from it (unset budget, bundled model)."""
    answering_service.settings = answering_service.settings.model_copy(
        update={"llm": "local", "prompt_sentences": None, "prompt_chars": None}
    )
    fake = use_fake(answering_service, ["企业参与课程设计并承诺录用合格毕业生[1]。"])
    fake.prompt_tokens_per_s = 120.0  # what LocalServerChat.warm_up measures on a fast CPU
    rows = [
        {
            "id": "oc-zh-01",
            "lang": "zh",
            "question": "订单班里企业做什么？",
            "answerable": True,
            "expected_sources": ["order_class.md"],
            "key_facts": [["课程设计"], ["录用"]],
        }
    ]
    questions = tmp_path / "set.jsonl"
    questions.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    out = tmp_path / "eval.json"
    assert main(["eval", str(questions), "--out", str(out)], service=answering_service) == 0
    figures = json.loads(out.read_text(encoding="utf-8"))["figures"]
    assert figures["prompt_tokens_per_s"] == 120.0 and figures["prompt_budget"] == "8:900"
    assert figures["key_fact_coverage"] == 1.0 and figures["hit_at_5"] == 1.0
    assert "企业参与课程设计" in fake.calls[0][-1].content  # the decisive sentence reached it


class WarmingFake(QueuedFakeChat):
    """A fake whose warm-up records the system prompts and a measured prompt speed, as
    ``LocalServerChat.warm_up`` does."""

    warmed: list[int] = Field(default_factory=list)

    def warm_up(self, prompts: list[str]) -> None:
        self.warmed.append(len(prompts))
        self.prompt_tokens_per_s = 120.0


def test_batch_warms_the_model_up_as_the_app_does(answering_service, tmp_path, capsys) -> None:
    inputs = write_inputs(tmp_path / "in")
    fake = WarmingFake(replies=["企业参与课程设计[1]。"] * 3)
    answering_service.use_chat_model(fake, "fake")
    out = tmp_path / "out" / "answers.jsonl"
    assert main(["batch", str(inputs["jsonl"]), "--out", str(out)], service=answering_service) == 0
    assert fake.warmed == [2], "both languages' system prompts, once, before the questions"
    assert "preparing the model" in capsys.readouterr().err
    assert len(fake.calls) == 3
