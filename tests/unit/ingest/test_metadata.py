"""A policy document's metadata read from the document (ingest/metadata.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import load_document
from ingest.metadata import check_fields, extract_metadata

ZH_POLICY = Path(__file__).resolve().parents[4] / "shared" / "testdata" / "zh_policy"
REPO = Path(__file__).resolve().parents[3]


def meta_of(history: str, title: str, *, text: str = "", stem: str = "x", kind: str = "policy"):
    return extract_metadata(
        title=title,
        meta={"title": title, "history": history},
        text_head=text,
        file_stem=stem,
        kind=kind,
    )


def test_a_law_history_gives_adoption_latest_revision_and_issuer() -> None:
    doc = meta_of(
        "1995年3月18日 第八届全国人民代表大会第三次会议通过\n"
        "2015年12月27日 第十二届全国人民代表大会常务委员会第十八次会议《关于修改〈中华人民共和国"
        "教育法〉的决定》第二次修正\n"
        "2021年4月29日 第十三届全国人民代表大会常务委员会第二十八次会议《关于修改〈中华人民共和国"
        "教育法〉的决定》第三次修正",
        "中华人民共和国教育法",
    )
    assert (doc.adopted, doc.revised, doc.effective) == ("1995-03-18", "2021-04-29", None)
    assert doc.issuer == "全国人民代表大会"
    assert (doc.level, doc.region) == ("national", "")


def test_a_city_regulation_with_approval_and_effective_lines() -> None:
    doc = meta_of(
        "2015年12月29日 宁波市第十四届人民代表大会常务委员会第二十八次会议通过\n"
        "2016年3月31日 浙江省第十二届人民代表大会常务委员会第二十八次会议批准\n"
        "2016年7月1日 施行",
        "宁波市职业技能培训条例",
    )
    assert (doc.level, doc.region) == ("municipal", "宁波市")
    assert doc.issuer == "宁波市人民代表大会常务委员会"
    assert (doc.adopted, doc.revised, doc.effective) == ("2015-12-29", None, "2016-07-01")


def test_provinces_and_municipalities_directly_under_the_centre_are_provincial() -> None:
    assert meta_of("", "上海市高等教育促进条例").level == "provincial"
    assert meta_of("", "山东省人才发展促进条例").region == "山东省"
    assert meta_of("", "吉林市职业教育条例").level == "municipal"  # a city of 吉林省


def test_a_notice_gives_its_document_number_and_start_date_from_its_first_lines() -> None:
    text = (
        "国务院办公厅关于深化产教融合的若干意见\n国办发〔2017〕95号\n"
        "各省、自治区、直辖市人民政府：……本意见自2018年1月1日起施行。"
    )
    doc = meta_of("", "", text=text, stem="深化产教融合意见")
    assert doc.doc_number == "国办发〔2017〕95号"
    assert doc.effective == "2018-01-01"
    assert doc.title == "深化产教融合意见"  # no title given: the file name, without a date


def test_front_matter_wins_and_a_college_plan_is_college_level() -> None:
    doc = extract_metadata(
        title="某学院产教融合实施方案",
        meta={"title": "某学院产教融合实施方案", "level": "provincial", "region": "江苏省"},
        text_head="",
        file_stem="plan",
        kind="plan",
    )
    assert (doc.level, doc.region) == ("provincial", "江苏省")
    assert meta_of("", "某职业技术学院校企合作管理办法").level == "college"


def test_edited_fields_are_checked() -> None:
    assert check_fields({"level": "national", "adopted": "2022-04-20", "region": ""}) == {
        "level": "national",
        "adopted": "2022-04-20",
        "region": None,
    }
    for bad in ({"level": "county"}, {"revised": "2022年4月"}, {"title": " "}, {"sha256": "x"}):
        with pytest.raises(ValueError):
            check_fields(bad)


# the 12 laws of ../shared/testdata/zh_policy: (level, region, adopted, latest revision)
EXPECTED = {
    "上海市促进科技成果转化条例": ("provincial", "上海市", "2017-04-20", None),
    "上海市高等教育促进条例": ("provincial", "上海市", "2017-12-28", None),
    "中华人民共和国促进科技成果转化法": ("national", "", "1996-05-15", "2015-08-29"),
    "宁波市职业技能培训条例": ("municipal", "宁波市", "2015-12-29", None),
    "中华人民共和国就业促进法": ("national", "", "2007-08-30", "2015-04-24"),
    "山东省人才发展促进条例": ("provincial", "山东省", "2020-03-26", None),
    "中华人民共和国教育法": ("national", "", "1995-03-18", "2021-04-29"),
    "中华人民共和国民办教育促进法": ("national", "", "2002-12-28", "2018-12-29"),
    "河南省职业培训条例": ("provincial", "河南省", "2017-12-01", None),
    "浙江省促进科技成果转化条例": ("provincial", "浙江省", "2004-01-16", "2021-09-29"),
    "中华人民共和国科学技术进步法": ("national", "", "1993-07-02", "2021-12-24"),
    "中华人民共和国高等教育法": ("national", "", "1998-08-29", "2018-12-29"),
}


@pytest.mark.shared
@pytest.mark.skipif(not ZH_POLICY.is_dir(), reason="../shared/testdata/zh_policy is absent")
def test_every_law_of_the_shared_corpus_is_described_right() -> None:
    found = {}
    for path in sorted(ZH_POLICY.glob("*.md")):
        raw = load_document(path)
        head = "\n".join(page.text for page in raw.pages)[:2000]
        doc = extract_metadata(
            title=raw.meta["title"],
            meta=raw.meta,
            text_head=head,
            file_stem=path.stem,
            kind="policy",
        )
        found[doc.title] = (doc.level, doc.region, doc.adopted, doc.revised)
    assert found == EXPECTED


def test_a_summary_of_other_documents_takes_none_of_their_numbers_or_dates() -> None:
    """The starter corpus's policy landscape summarises national policies: it mentions their
    文号 and dates, but it is not any of them (``summary: true`` in its front matter)."""
    head = "《国务院办公厅关于深化产教融合的若干意见》（国办发〔2017〕95号）自2017年12月5日起施行。"
    summary = extract_metadata(
        title="产教融合的国家政策脉络",
        meta={"summary": "true", "kind": "other"},
        text_head=head,
        file_stem="policy_landscape_zh",
        kind="other",
    )
    assert not summary.doc_number and not summary.effective and summary.level == "other"
    notice = extract_metadata(
        title="关于深化产教融合的若干意见", meta={}, text_head=head, file_stem="n", kind="other"
    )
    assert notice.doc_number == "国办发〔2017〕95号"  # without the flag, the text's own


def test_the_starter_corpus_policy_landscape_is_marked_as_a_summary() -> None:
    from ingest.loaders import split_front_matter

    for lang in ("zh", "en"):
        path = REPO / "corpus" / f"policy_landscape_{lang}.md"
        meta, _ = split_front_matter(path.read_text(encoding="utf-8"))
        assert meta["summary"] == "true" and meta["kind"] == "other"


def test_the_loader_keeps_front_matter_metadata_keys(tmp_path: Path) -> None:
    """Front matter's level, region and dates are kept by the loader (the record's side is in
    tests/integration/test_document_metadata.py)."""
    doc = tmp_path / "note.md"
    doc.write_text(
        "---\ntitle: 某学院实习管理办法\nlevel: college\nregion: 浙江省宁波市\n"
        "adopted: 2024-03-01\n---\n\n# 某学院实习管理办法\n\n第一条 为规范学生实习，制定本办法。\n",
        encoding="utf-8",
    )
    from ingest.loaders import split_front_matter

    meta, _ = split_front_matter(doc.read_text(encoding="utf-8"))
    assert (meta["level"], meta["region"], meta["adopted"]) == (
        "college",
        "浙江省宁波市",
        "2024-03-01",
    )


@pytest.mark.parametrize(
    ("name", "dates"),
    [
        ("职业教育法(1996-05-15).md", ("1996-05-15", None, "1996-09-01")),
        ("职业教育法(2022-04-20).md", ("1996-05-15", "2022-04-20", "2022-05-01")),
    ],
)
def test_history_clauses_a_revision_with_its_start_and_a_lapse_note(name, dates) -> None:
    """ "…修订，2022年5月1日起施行" is a revision that starts on a date; the old version's
    "2022年4月20日修订，…本版本随之失效" is about the version that replaced it."""
    from vectorstore.store import version_key

    raw = load_document(REPO / "bench" / "eval_corpus" / name)
    meta = extract_metadata(
        title=raw.meta["title"], meta=raw.meta, text_head="", file_stem=name[:-3], kind="policy"
    )
    assert (meta.adopted, meta.revised, meta.effective) == dates
    assert version_key(meta.title) == "中华人民共和国职业教育法"  # both are one document
