"""One question across three regulations, side by side (advisor/compare.py), through the
command line with the extractive backend: the regions named select the columns, every cell is
the regulation's own sentence with its citation, an aspect a regulation does not address says
so, and the table exports to Markdown, XLSX, DOCX and JSON. The bundled model's overview is
tested in test_model_isolation.py, the browser's form in tests/e2e."""

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
