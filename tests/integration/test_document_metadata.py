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


FUND_NEW = "第三条 校企合作专项资金每年不少于一千万元，用于奖励接收学生实习的企业。\n"
FUND_OLD = "第三条 校企合作专项资金每年不少于五百万元，用于补助建设实训基地。\n"


def ask_json(capsys: pytest.CaptureFixture[str], question: str) -> dict:
    assert main(["ask", question, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_answers_cite_the_version_in_force_with_labels_and_mark_a_superseded_one(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADVISOR_LLM", "extractive")  # the bundled model's turn is elsewhere
    new = tmp_path / "某某市校企合作促进条例(2023-10-27).md"
    old = tmp_path / "某某市校企合作促进条例(2019-06-28).md"
    new.write_text(LAW + "\n" + FUND_NEW, encoding="utf-8")
    old.write_text(OLD_VERSION + "\n" + FUND_OLD, encoding="utf-8")
    assert main(["ingest", str(old), str(new)]) == 0
    capsys.readouterr()

    # no year named: the version in force answers, cited by title, version and article
    record = ask_json(capsys, "某某市校企合作促进条例规定的校企合作专项资金每年不少于多少？")
    assert not record["refused"], record["answer"]
    first = record["citations"][0]
    assert first["source"] == new.name, record["citations"]
    assert first["label"] == "《某某市校企合作促进条例》（2023年修订）第三条"
    assert (first["article"], first["status"]) == ("第三条", "current")
    assert "一千万元" in record["answer"] and "取代" not in record["answer"]
    # every cited article is the one its quote comes from
    for c in record["citations"]:
        assert c["article"] is None or c["label"].endswith(c["article"])

    # the old version's year named: the old text answers, and the answer says it is superseded
    record = ask_json(capsys, "2019年的某某市校企合作促进条例规定专项资金每年不少于多少？")
    olds = [c for c in record["citations"] if c["source"] == old.name]
    assert olds and all(c["status"] == "superseded" for c in olds), record["citations"]
    fund = [c for c in olds if c["article"] == "第三条"]
    assert [c["label"] for c in fund] == ["《某某市校企合作促进条例》（2019年）第三条"]
    assert "五百万元" in fund[0]["quote"] and "五百万元" in record["answer"]
    refs = "".join(f"[{c['n']}]" for c in record["citations"] if c["status"] == "superseded")
    assert f"{refs} 引自已被新版本取代的文本" in record["answer"]

    # the plain-text answer shows the label and the mark next to the citation
    assert main(["ask", "2019年的某某市校企合作促进条例规定专项资金每年不少于多少？"]) == 0
    shown = capsys.readouterr().out
    assert "《某某市校企合作促进条例》（2019年）第三条" in shown
    assert "已被取代 superseded" in shown


NATIONAL = """# 中华人民共和国校企合作示范法

2020年5月1日第十三届全国人民代表大会常务委员会第十八次会议通过

<!-- INFO END -->

第三条 国家设立校企合作专项资金，每年不少于十亿元，用于支持产教融合型企业。
"""


def test_scope_by_level_region_status_and_date_on_ask_and_batch(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADVISOR_LLM", "extractive")
    new = tmp_path / "某某市校企合作促进条例(2023-10-27).md"
    old = tmp_path / "某某市校企合作促进条例(2019-06-28).md"
    national = tmp_path / "校企合作示范法(2020-05-01).md"
    new.write_text(LAW + "\n" + FUND_NEW, encoding="utf-8")
    old.write_text(OLD_VERSION + "\n" + FUND_OLD, encoding="utf-8")
    national.write_text(NATIONAL, encoding="utf-8")
    assert main(["ingest", str(old), str(new), str(national)]) == 0
    capsys.readouterr()
    question = "校企合作专项资金每年不少于多少？"

    def sources(*scope: str) -> set[str]:
        assert main(["ask", question, "--json", *scope]) == 0
        record = json.loads(capsys.readouterr().out)
        return {c["source"] for c in record["citations"]}

    assert sources("--level", "national") == {national.name}
    assert sources("--level", "municipal", "--region", "某某") == {new.name}  # in force
    # the 2019 version is superseded: named by its year it answers, unless current only
    year = "2019年的某某市校企合作促进条例规定专项资金每年不少于多少？"
    assert main(["ask", year, "--json", "--current-only"]) == 0
    record = json.loads(capsys.readouterr().out)
    # the old text is out of scope: refused (2019 is in no passage left) or answered from the
    # version in force, never from the old one
    cited = {c["source"] for c in record["citations"]}
    assert old.name not in cited and (record["refused"] or cited == {new.name}), record
    assert sources("--until", "2020-12-31", "--level", "municipal") == {old.name}
    assert sources("--since", "2021") == {new.name}
    # a date that is not YYYY[-MM[-DD]] is a usage error, not a silent string comparison
    assert main(["ask", question, "--since", "2020/06"]) == 2
    assert "--since must be YYYY" in capsys.readouterr().err

    # nothing matches: a usage error that says what was asked for
    assert main(["ask", question, "--region", "上海"]) == 2
    assert "no document of knowledge base" in capsys.readouterr().err

    # batch takes the same scope
    questions = tmp_path / "q.txt"
    questions.write_text(question + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["batch", str(questions), "--out", str(out), "--level", "national"]) == 0
    capsys.readouterr()
    [answer] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {c["source"] for c in answer["citations"]} == {national.name}
    assert "十亿元" in answer["answer"]


def test_the_starter_policy_summary_is_never_labelled_as_the_official_text(
    capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADVISOR_LLM", "extractive")
    summary = Path(__file__).resolve().parents[2] / "corpus" / "policy_landscape_zh.md"
    assert main(["ingest", str(summary)]) == 0
    capsys.readouterr()
    record = docs_json(capsys)
    assert (record["kind"], record["level"], record["doc_number"]) == ("other", "other", None)
    assert record["adopted"] is None and record["revised"] is None
    answer = ask_json(capsys, "深化产教融合的若干意见是哪一年印发的？")
    assert answer["citations"], answer["answer"]
    assert all(c["label"] is None for c in answer["citations"]), answer["citations"]


def test_front_matter_metadata_reaches_the_record_and_wins_over_the_text(tmp_path, capsys) -> None:
    doc = tmp_path / "实习管理办法.md"
    doc.write_text(
        "---\ntitle: 某学院学生实习管理办法\nkind: policy\nlevel: college\nregion: 浙江省宁波市\n"
        "adopted: 2024-03-01\nrevised: 2024/09/01\n---\n\n# 某学院学生实习管理办法\n\n"
        "国办发〔2017〕95号\n\n第一条 为规范学生实习，制定本办法。自2024年3月15日起施行。\n",
        encoding="utf-8",
    )
    assert main(["ingest", str(doc)]) == 0
    capsys.readouterr()
    record = docs_json(capsys)
    assert (record["level"], record["region"], record["adopted"]) == (
        "college",
        "浙江省宁波市",
        "2024-03-01",
    )
    assert record["revised"] is None  # "2024/09/01" is no ISO date: not taken
    assert record["effective"] == "2024-03-15" and record["doc_number"] == "国办发〔2017〕95号"
