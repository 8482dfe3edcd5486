"""One question across three regulations, side by side (advisor/compare.py), through the
command line with the extractive backend: the regions named select the columns, every cell is
the regulation's own sentence with its citation, an aspect a regulation does not address says
so, and the table exports to Markdown, XLSX, DOCX and JSON. The overview a model writes above
the table is checked with a scripted model here; the bundled model makes the table in the
browser test (tests/e2e/test_browser.py), which checks its cells."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advisor.cli import main
from devkit.regulations import EXPECTED, QUESTION, REGULATIONS, write_regulations


@pytest.fixture()
def regulations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> list[Path]:
    monkeypatch.setenv("ADVISOR_LLM", "extractive")
    paths = write_regulations(tmp_path / "regs")
    assert main(["ingest", *map(str, paths)]) == 0
    capsys.readouterr()
    return paths


def table_json(capsys, *argv: str) -> dict:
    assert main(["compare", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_compare_question_gives_a_fully_cited_side_by_side_table(regulations, capsys) -> None:
    table = table_json(capsys, QUESTION)
    # one column per regulation, in the order the question names the cities
    assert [c["source"] for c in table["columns"]] == list(REGULATIONS)
    assert [c["label"] for c in table["columns"]] == [
        "《上海市企业参与职业教育促进条例》（2021年）",
        "《青岛市企业参与职业教育促进条例》（2019年）",
        "《宁波市企业参与职业教育促进条例》（2020年）",
    ]
    rows = {r["aspect"]: r for r in table["rows"]}
    assert set(EXPECTED) <= set(rows), list(rows)
    citations = {c["n"]: c for c in table["citations"]}
    for aspect, expected in EXPECTED.items():
        for column, phrase, cell in zip(
            table["columns"], expected, rows[aspect]["cells"], strict=True
        ):
            if phrase is None:
                assert cell is None, (aspect, column["source"], cell)
                continue
            assert cell is not None and phrase in cell["text"], (aspect, column["source"], cell)
            cited = citations[cell["n"]]
            # the cell cites its own regulation, quoting the sentence it shows
            assert cited["source"] == column["source"]
            assert cell["text"].rstrip("…") in cited["quote"]
            assert cited["article"] and cited["label"].endswith(cited["article"])
            # and the quote is that regulation's text, verbatim
            assert cited["quote"] in REGULATIONS[column["source"]]


def test_the_table_exports_to_markdown_xlsx_and_docx(regulations, tmp_path: Path, capsys) -> None:
    from docx import Document
    from openpyxl import load_workbook

    markdown = tmp_path / "table.md"
    assert main(["compare", QUESTION, "--out", str(markdown)]) == 0
    text = markdown.read_text(encoding="utf-8")
    assert "| 方面 Aspect | 《上海市企业参与职业教育促进条例》（2021年） |" in text
    finance = next(line for line in text.splitlines() if line.startswith("| 金融支持"))
    assert finance.count("未涉及") == 2 and "贴息" in finance

    workbook = tmp_path / "table.xlsx"
    assert main(["compare", QUESTION, "--out", str(workbook)]) == 0
    book = load_workbook(workbook)
    sheet = book["对比 Comparison"]
    header = [c.value for c in sheet[1]]
    assert header[0] == "方面 Aspect" and len(header) == 4
    tax = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "税收优惠")
    assert "应纳税所得额" in tax[1] and tax[2] == "未涉及" and "税收优惠" in tax[3]
    assert book["来源 Sources"].max_row > 1

    document = tmp_path / "table.docx"
    assert main(["compare", QUESTION, "--out", str(document)]) == 0
    [grid] = Document(str(document)).tables
    assert len(grid.columns) == 4 and grid.rows[0].cells[0].text == "方面 Aspect"
    capsys.readouterr()


def test_documents_can_be_chosen_and_too_few_is_a_clear_error(regulations, capsys) -> None:
    names = list(REGULATIONS)
    table = table_json(capsys, "企业有哪些税收优惠？", "--doc", names[0], "--doc", names[2])
    assert [c["source"] for c in table["columns"]] == [names[0], names[2]]
    assert [r["aspect"] for r in table["rows"]] == ["tax"]  # the question names its aspect
    assert main(["compare", "上海对企业有什么激励措施？"]) == 2
    assert "two documents or more" in capsys.readouterr().err
    assert main(["compare", QUESTION, "--doc", "no-such.md", "--doc", names[0]]) == 2
    assert "no document no-such.md" in capsys.readouterr().err


def test_the_overview_keeps_only_cited_sentences_whose_figures_are_in_their_cells(
    regulations, embeddings
) -> None:
    from advisor.service import AdvisorService
    from advisor.settings import Settings
    from devkit.fakes import QueuedFakeChat

    service = AdvisorService(Settings(llm="extractive"), embeddings=embeddings)
    plain = service.compare(QUESTION)
    assert plain.overview == ""  # no model, no overview: the table stands alone
    funding = plain.cells["funding"]
    shanghai, qingdao = funding[0], funding[1]
    assert shanghai is not None and qingdao is not None
    reply = (
        f"上海按每人每月五百元给予补助[{shanghai.n}]。"
        f"青岛每年安排资金不少于三千万元[{qingdao.n}]。"
        "宁波的优惠最多。"  # cited nowhere: left out
        f"上海每人每月补助九百元[{shanghai.n}]。"  # a figure its cell does not hold: left out
    )
    model = QueuedFakeChat(replies=[reply])
    service.use_chat_model(model, "fake-model")
    table = service.compare(QUESTION)
    assert len(model.calls) == 1
    prompt = model.calls[0][-1].content
    assert "五百元" in prompt and "三千万元" in prompt  # the model reads the cells
    assert table.overview == (
        f"上海按每人每月五百元给予补助[{shanghai.n}]。青岛每年安排资金不少于三千万元[{qingdao.n}]。"
    )
    assert table.to_json()["rows"] == plain.to_json()["rows"]  # the model never fills a cell
