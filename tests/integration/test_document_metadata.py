"""A document's metadata through the command line: read at ingest, listed by ``kb docs --json``,
corrected with ``kb edit``, and the correction kept when a new version is ingested."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advisor.cli import main

LAW = """# 某某市校企合作促进条例

2019年6月28日 某某市第十五届人民代表大会常务委员会第二十次会议通过

2023年10月27日 某某市第十六届人民代表大会常务委员会第十二次会议修正

<!-- INFO END -->

# 某某市校企合作促进条例

## 第一章 总则

第一条 为了促进校企合作，培养技术技能人才，制定本条例。

第二条 市人民政府统筹协调全市校企合作工作，设立校企合作专项资金。
"""


def docs_json(capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["kb", "docs", "--json"]) == 0
    [record] = json.loads(capsys.readouterr().out)
    return record


def test_metadata_is_read_listed_edited_and_kept_across_versions(tmp_path: Path, capsys) -> None:
    law = tmp_path / "某某市校企合作促进条例(2023-10-27).md"
    law.write_text(LAW, encoding="utf-8")
    assert main(["ingest", str(law)]) == 0
    capsys.readouterr()
    record = docs_json(capsys)
    assert record["title"] == "某某市校企合作促进条例"
    assert record["issuer"] == "某某市人民代表大会常务委员会"
    assert (record["level"], record["region"]) == ("municipal", "某某市")
    assert (record["adopted"], record["revised"], record["effective"]) == (
        "2019-06-28",
        "2023-10-27",
        None,
    )
    assert record["status"] == "current" and record["superseded_by"] is None  # one version

    # an administrator corrects the region and adds the 文号
    argv = [
        "kb",
        "edit",
        law.name,
        "--region",
        "浙江省某某市",
        "--doc-number",
        "某人大〔2023〕12号",
    ]
    assert main([*argv, "--json"]) == 0
    edited = json.loads(capsys.readouterr().out)
    assert (edited["region"], edited["doc_number"]) == ("浙江省某某市", "某人大〔2023〕12号")
    assert docs_json(capsys)["region"] == "浙江省某某市"

    # a new version of the file: read again, but the corrected fields stay as corrected
    law.write_text(LAW + "\n第三条 企业接收学生实习的，按规定享受补贴。\n", encoding="utf-8")
    assert main(["ingest", str(law)]) == 0
    capsys.readouterr()
    again = docs_json(capsys)
    assert (again["region"], again["doc_number"]) == ("浙江省某某市", "某人大〔2023〕12号")
    assert again["revised"] == "2023-10-27" and again["chunks"] > record["chunks"]

    # a wrong value is refused with the reason, and nothing changes
    assert main(["kb", "edit", law.name, "--level", "county"]) == 2
    assert "level must be one of" in capsys.readouterr().err
    assert main(["kb", "edit", law.name, "--revised", "2023年"]) == 2
    capsys.readouterr()
    assert docs_json(capsys)["level"] == "municipal"
    assert main(["kb", "edit", "no-such-file.md", "--level", "national"]) != 0


OLD_VERSION = LAW.replace(
    "2023年10月27日 某某市第十六届人民代表大会常务委员会第十二次会议修正\n\n", ""
)


def test_versions_of_one_title_are_linked_and_the_latest_is_current(tmp_path, capsys) -> None:
    new = tmp_path / "某某市校企合作促进条例(2023-10-27).md"
    old = tmp_path / "某某市校企合作促进条例(2019-06-28).md"
    new.write_text(LAW, encoding="utf-8")
    old.write_text(OLD_VERSION, encoding="utf-8")
    assert main(["ingest", str(old), str(new)]) == 0
    capsys.readouterr()
    assert main(["kb", "docs", "--json"]) == 0
    records = {r["source"]: r for r in json.loads(capsys.readouterr().out)}
    assert records[new.name]["status"] == "current"
    assert records[old.name]["status"] == "superseded"
    assert records[old.name]["superseded_by"] == records[new.name]["doc_id"]
    # the latest version deleted: the older one is current again
    assert main(["kb", "delete", new.name]) == 0
    capsys.readouterr()
    assert main(["kb", "docs", "--json"]) == 0
    [left] = json.loads(capsys.readouterr().out)
    assert (left["status"], left["superseded_by"]) == ("current", None)
