"""Plan review against the rubric: two sample plans (devkit/plans.py) generated as PDF and
DOCX, reviewed with the real store, embedder and starter corpus (extractive recommendations, so the
grading is what is under test, not a model)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from advisor.cli import main
from advisor.review import (
    load_rubric,
    plan_sentences,
    review_plan,
    rubric_questions,
    signals_in,
    unwrap,
    write_report,
)
from advisor.service import AdvisorService
from advisor.settings import Settings
from devkit.pdfgen import write_docx, write_pdf
from devkit.plans import GAPPED, GAPPED_EXPECTED, THOROUGH, as_docx_blocks
from ingest.loaders import load_document
from tests.support.contract import CITATION_FIELDS, EVIDENCE_FIELDS
from vectorstore.retrieval import Passage

REPO = Path(__file__).resolve().parents[2]
CORPUS = [REPO / "corpus" / "framework_zh.md", REPO / "corpus" / "policy_landscape_zh.md"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def reviewer(tmp_path_factory: pytest.TempPathFactory, embeddings) -> AdvisorService:
    data = tmp_path_factory.mktemp("review") / "data"
    service = AdvisorService(Settings(data_dir=data, llm="extractive"), embeddings=embeddings)
    assert service.ingest(CORPUS).ok
    return service


@pytest.fixture(scope="module")
def thorough_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_pdf(tmp_path_factory.mktemp("plans") / "thorough.pdf", THOROUGH, chinese=True)


@pytest.fixture(scope="module")
def gapped_docx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_docx(tmp_path_factory.mktemp("plans") / "gapped.docx", as_docx_blocks(GAPPED))


def plan_text_by_page(path: Path) -> dict[int | None, str]:
    raw = load_document(path)
    return {page.number if path.suffix == ".pdf" else None: squash(page.text) for page in raw.pages}


# ------------------------------------------------------------------ rubric and grading units


def test_rubric_has_at_least_ten_complete_dimensions() -> None:
    rubric = load_rubric()
    assert len(rubric) >= 10
    assert len({d.key for d in rubric}) == len(rubric)
    for dim in rubric:
        assert dim.questions_zh and dim.questions_en and dim.policy_zh and dim.advice_en
        assert len(dim.signals) >= 2 and 1 <= dim.covered_at <= len(dim.signals)
    questions = rubric_questions("zh")
    assert len(questions) >= len(rubric)
    assert questions[0]["id"] == f"{rubric[0].key}-1"
    assert all(q["question"].endswith("？") for q in questions)


def test_negated_statements_are_not_evidence() -> None:
    governance = next(d for d in load_rubric() if d.key == "governance")
    assert signals_in("学院与企业共同组建理事会，制定章程。", governance) == {0, 1}
    assert signals_in("目前尚未建立理事会，章程待定。", governance) == set()
    assert signals_in("There is no council yet.", governance) == set()
    assert signals_in("A steering committee meets quarterly.", governance) == {0, 2}


def test_unwrap_joins_layout_wraps_only() -> None:
    assert (
        unwrap("理事会由学院、企\n业代表组成。\n\n二、企业参与")
        == "理事会由学院、企业代表组成。\n\n二、企业参与"
    )
    assert (
        unwrap("the council meets\nevery quarter.\n- item")
        == "the council meets every quarter.\n- item"
    )


def test_sentences_keep_their_page_across_a_page_break() -> None:
    passage = Passage(
        chunk_id="c",
        text="第一页的句子在这里结束。第二页的句子\n继续写。",
        source="p.pdf",
        page=1,
        section="",
        lang="zh",
        kind="plan",
        kb="k",
        page_breaks=((12, 2),),
    )
    got = [(s.text, s.page) for s in plan_sentences([passage])]
    assert got == [("第一页的句子在这里结束。", 1), ("第二页的句子继续写。", 2)]


# ------------------------------------------------------------------ whole reviews


def test_thorough_pdf_plan_is_covered_everywhere_with_quotes_from_its_pages(
    reviewer, thorough_pdf
) -> None:
    report = review_plan(reviewer, thorough_pdf)
    assert report.lang == "zh"
    assert {d.dimension.key: d.status for d in report.dimensions} == {
        d.key: "covered" for d in load_rubric()
    }
    pages = plan_text_by_page(thorough_pdf)
    for d in report.dimensions:
        assert d.evidence, d.dimension.key
        for e in d.evidence:
            assert e.source == "thorough.pdf"
            assert squash(e.quote) in pages[e.page], (d.dimension.key, e)
        assert d.recommendation.startswith("已覆盖") and not d.citations
    governance = report.dimensions[0]
    assert governance.evidence[0].page == 1 and "理事会" in governance.evidence[0].quote
    quality = next(d for d in report.dimensions if d.dimension.key == "quality_evaluation")
    assert {e.page for e in quality.evidence} == {3}
    assert report.score == 1.0 and "覆盖12个" in report.summary()
    # the plan was reviewed in a private scope that is gone now
    assert reviewer.list_knowledge_bases() == ["default"]


def test_gapped_docx_plan_gaps_are_found_and_recommendations_cite_the_knowledge_base(
    reviewer, gapped_docx
) -> None:
    report = review_plan(reviewer, gapped_docx)
    assert {d.dimension.key: d.status for d in report.dimensions} == GAPPED_EXPECTED
    plan_text = plan_text_by_page(gapped_docx)[None]
    by_key = {d.dimension.key: d for d in report.dimensions}
    for d in report.dimensions:
        for e in d.evidence:
            assert squash(e.quote) in plan_text
        if d.status == "missing":
            assert not d.evidence
    # the negated sentence is not taken as governance evidence
    assert not by_key["governance"].evidence
    assert "双师型" in by_key["faculty"].evidence[0].quote
    # shortfalls get a recommendation grounded in the knowledge base, cited by file
    for key in ("governance", "funding", "policy_alignment"):
        d = by_key[key]
        assert d.recommendation.startswith("方案应补充")
        assert d.citations, key
        assert {c.source for c in d.citations} <= {p.name for p in CORPUS}
        for c in d.citations:
            assert f"[{c.n}]" in d.recommendation
    counts = report.counts()
    assert counts == {"covered": 1, "partial": 4, "missing": 7}
    assert "缺失的维度：治理与共同决策" in report.summary()


def test_review_command_writes_json_markdown_and_docx(reviewer, gapped_docx, tmp_path) -> None:
    import docx

    out_json = tmp_path / "r" / "report.json"
    assert main(["review", str(gapped_docx), "--out", str(out_json)], service=reviewer) == 0
    record = json.loads(out_json.read_text(encoding="utf-8"))
    assert set(record) >= {"plan", "dimensions", "summary"}
    assert record["plan"] == "gapped.docx"
    for dim in record["dimensions"]:
        assert set(dim) >= {"key", "title", "status", "evidence", "recommendation", "citations"}
        assert dim["status"] in ("covered", "partial", "missing")
        for e in dim["evidence"]:
            assert set(e) == EVIDENCE_FIELDS
        for c in dim["citations"]:
            assert set(c) == CITATION_FIELDS

    out_md = tmp_path / "r" / "report.md"
    assert main(["review", str(gapped_docx), "--out", str(out_md)], service=reviewer) == 0
    markdown = out_md.read_text(encoding="utf-8")
    assert "![覆盖度](report_coverage.png)" in markdown
    assert (tmp_path / "r" / "report_coverage.png").read_bytes().startswith(PNG_MAGIC)
    assert "## 治理与共同决策 · 缺失" in markdown

    out_docx = tmp_path / "r" / "report.docx"
    assert main(["review", str(gapped_docx), "--out", str(out_docx)], service=reviewer) == 0
    document = docx.Document(str(out_docx))
    assert len(document.inline_shapes) == 1  # the coverage chart
    text = "\n".join(p.text for p in document.paragraphs)
    assert "方案评审报告：gapped.docx" in text and "治理与共同决策 · 缺失" in text
    assert len(document.tables[0].rows) == len(load_rubric()) + 1


def test_review_errors(reviewer, tmp_path, capsys) -> None:
    plan = tmp_path / "plan.txt"
    plan.write_text("学院与企业共建理事会。", encoding="utf-8")
    assert main(["review", str(plan), "--out", str(tmp_path / "r.xlsx")], service=reviewer) == 2
    assert "--out must end in one of .json .md .docx" in capsys.readouterr().err
    missing = tmp_path / "nope.pdf"
    assert main(["review", str(missing), "--out", str(tmp_path / "r.json")], service=reviewer) == 1
    assert "no such plan file" in capsys.readouterr().err
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    assert main(["review", str(empty), "--out", str(tmp_path / "r.json")], service=reviewer) == 1
    assert "plan not indexed" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()
    assert reviewer.list_knowledge_bases() == ["default"]


def test_english_report(reviewer, tmp_path) -> None:
    plan = tmp_path / "plan.md"
    plan.write_text(
        "# Riverside Polytechnic cooperation plan\n\nA steering committee of the college and "
        "three enterprises meets quarterly under a written charter. Enterprise mentors teach "
        "core courses, and the training plan is designed jointly.\n",
        encoding="utf-8",
    )
    report = review_plan(reviewer, plan)
    assert report.lang == "en"
    statuses = {d.dimension.key: d.status for d in report.dimensions}
    assert statuses["governance"] == "covered" and statuses["enterprise_depth"] == "covered"
    assert statuses["funding"] == "missing"
    assert report.summary().startswith("plan.md reviewed on 12 dimensions")
    written = write_report(report, tmp_path / "en.md")
    assert written[1].read_bytes().startswith(PNG_MAGIC)
    assert "## Governance and joint decision-making · covered" in written[0].read_text("utf-8")
