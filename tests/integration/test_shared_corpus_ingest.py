"""The command line over the shared corpora in ../shared/testdata, as a user would run it:
real PDFs (encrypted, corrupt, scanned, garbled, large) and the 12 Chinese laws.

Skipped when ../shared is absent (a user's clone has none)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from advisor.cli import main
from advisor.service import AdvisorService
from advisor.settings import Settings
from ingest.textcheck import assess_page

pytestmark = [pytest.mark.shared, pytest.mark.slow]

# The files whose pypdf text is mojibake, per EXPECTED.md. Their Japanese fonts are not
# embedded: with a CJK system font (the browser set-up installs WenQuanYi) PDFium draws the
# text and OCR reads it; without one the page renders blank and the file is refused as garbled.
# Either way no mojibake is indexed (checked below).
GARBLED = {"jo.pdf", "kampo.pdf"}
NEEDS_PASSWORD = {
    "password-example.pdf",
    "encrypted-file.pdf",
    "r2-user-password.pdf",
    "aes-256-r6.pdf",
    "libreoffice-writer-password.pdf",
    "password.pdf",
}
CORRUPT = {
    "simple1.pdf",
    "simple3.pdf",
    "issue-1113-evil-xobjects.pdf",
    "unreadablemetadata.pdf",
    "empty.pdf",
}
# Image-only pages: OCR reads the scans of text, and names the pages of the pictures it cannot.
UNREADABLE_SCANS = {"pdf-with-jbig2.pdf", "box.pdf"}
READ_WITH_OCR = {"image.pdf": [1], "loremipsum-flat.pdf": [1], "direct_and_image.pdf": [2]}
LARGE = {"DA-619p.pdf", "pdf2image-memory-error-test-400p.pdf", "GeoTopo-komprimiert.pdf"}
TEXT = {
    "naacl06-shinyama.pdf",
    "issue-33-lorem-ipsum.pdf",
    "multilang.pdf",
    "crazyones.pdf",
    "copy-protected.pdf",
    "issue-625-identity-cmap.pdf",
    "direct_and_image.pdf",
}


def test_pdf_corpus_every_file_indexed_or_named(shared_testdata, capsys) -> None:
    pdfs = shared_testdata / "pdfs"
    # 100 pages keeps the run short: the 117/400/619-page files must be reported as too large
    argv = ["ingest", str(pdfs), "--max-pages", "100", "--timeout", "120", "--json"]
    assert main(argv) == 1  # some files fail, the others are indexed
    outcomes = {o["source"]: o for o in json.loads(capsys.readouterr().out)}
    documents = [p for p in pdfs.rglob("*") if p.suffix in {".pdf", ".md", ".txt", ".docx"}]
    assert len(outcomes) == len(documents)  # every file is accounted for (EXPECTED.md too)

    reasons = {name: o["reason"] for name, o in outcomes.items() if o["status"] == "failed"}
    for name in GARBLED:
        outcome = outcomes[name]
        assert reasons.get(name) == "garbled" or outcome["ocr_pages"] == [1], (name, outcome)
    for name in NEEDS_PASSWORD:
        assert reasons.get(name) == "encrypted", (name, outcomes[name])
    for name in CORRUPT:
        assert reasons.get(name) in {"corrupt", "empty"}, (name, outcomes[name])
    for name in UNREADABLE_SCANS:
        assert reasons.get(name) == "unreadable_scan", (name, outcomes[name])
        assert "page 1" in outcomes[name]["message"]
    for name, pages in READ_WITH_OCR.items():
        assert outcomes[name]["status"] == "indexed", (name, outcomes[name])
        assert outcomes[name]["ocr_pages"] == pages
    slides = outcomes["nlp2004slides.pdf"]  # 31 Japanese slides whose text layer is mojibake
    assert slides["status"] == "indexed" and len(slides["ocr_pages"]) >= 25, slides
    for name in LARGE:
        assert reasons.get(name) == "too_large", (name, outcomes[name])
    for name in TEXT:
        assert outcomes[name]["status"] == "indexed", (name, outcomes[name])
    assert all(o["message"] for o in outcomes.values() if o["status"] == "failed")
    assert outcomes["direct_and_image.pdf"]["skipped_pages"] == []

    # nothing garbled reached the store, and failed files left no chunk behind
    kb = AdvisorService(Settings()).knowledge_base()
    chunks = list(kb.iter_chunks())
    assert {c.metadata["source"] for c in chunks}.isdisjoint(reasons)
    assert all(assess_page(c.text).status != "garbled" for c in chunks)
    assert any("你好世界" in c.text for c in chunks if c.metadata["source"] == "multilang.pdf")

    # a second run adds nothing
    before = kb.count_chunks()
    assert main(argv) == 1
    again = json.loads(capsys.readouterr().out)
    assert {o["status"] for o in again} == {"unchanged", "failed"}
    assert sum(o["chunks"] for o in again) == 0
    assert kb.count_chunks() == before

    # the password opens one of the encrypted files
    locked = pdfs / "pdfplumber-tests" / "password-example.pdf"
    assert main(["ingest", str(locked), "--password", "test", "--json"]) == 0
    [opened] = json.loads(capsys.readouterr().out)
    assert opened["status"] == "indexed" and opened["pages"] == 4


ARTICLE_RE = re.compile(r"^第[一二三四五六七八九十百零〇\d]+条", re.M)


def test_zh_policy_article_level_sections(shared_testdata, capsys) -> None:
    laws = shared_testdata / "zh_policy"
    assert main(["ingest", str(laws), "--kind", "policy", "--json"]) == 0
    outcomes = json.loads(capsys.readouterr().out)
    assert len(outcomes) == 12 and {o["status"] for o in outcomes} == {"indexed"}

    kb = AdvisorService(Settings()).knowledge_base()
    docs = kb.list_documents()
    assert (
        len(docs) == 12
        and {d.kind for d in docs} == {"policy"}
        and {d.lang for d in docs} == {"zh"}
    )
    chunks = list(kb.iter_chunks())
    in_articles = [c for c in chunks if ARTICLE_RE.search(c.text)]
    assert len(in_articles) > 0.8 * len(chunks)
    for chunk in chunks:
        starts = ARTICLE_RE.findall(chunk.text)
        assert len(starts) <= 1, (chunk.metadata["section"], starts)  # never two articles
        if starts:
            assert starts[0] in chunk.metadata["section"], chunk.metadata["section"]
    # every article of the Higher Education Law is findable by its section path
    law = next(p for p in laws.iterdir() if p.name.startswith("高等教育法"))
    body = law.read_text(encoding="utf-8").split("<!-- INFO END -->", 1)[1]
    articles = set(ARTICLE_RE.findall(body))
    sections = " ".join(c.metadata["section"] for c in chunks if c.metadata["source"] == law.name)
    assert {a for a in articles if a not in sections} == set()
    sections_of_law = [c.metadata["section"] for c in chunks if c.metadata["source"] == law.name]
    assert "中华人民共和国高等教育法 > 第四章 高等学校的组织和活动 > 第四十条" in sections_of_law

    # an eval run over the set's questions on these laws: every citation's article label is
    # checked against the chunk text it quotes (advisor.evaluation.article_confirmed)
    from advisor.evaluation import load_eval_set, run_eval

    names = {p.name for p in laws.iterdir()}
    repo = Path(__file__).resolve().parents[2]
    items = [
        i
        for i in load_eval_set(repo / "bench" / "eval_set.jsonl")
        if i.answerable and not i.history and set(i.expected_sources) & names
    ]
    assert len(items) >= 25
    service = AdvisorService(Settings(llm="extractive"))
    report = run_eval(service.advisor(), items)
    figures = report.figures()
    labelled = [c for r in report.results for c in r.answer.citations if c.article]
    assert figures["article_labels"] >= 40, figures
    assert figures["article_labels_right"] >= 0.95, [
        (r.item.id, c.article, c.quote[:30])
        for r in report.results
        for c in r.answer.citations
        if c.article and r.articles_right < r.articles_total
    ]
    # and every label names its law by title and version
    assert all(c.label.startswith("《") and c.label.endswith(c.article) for c in labelled)
