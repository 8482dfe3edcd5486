"""OCR with the real engine (RapidOCR, PP-OCRv6 models from its wheel) on scans the tests make:
known Chinese text rendered into image-only PDFs (devkit/scangen.py), so that what is
indexed can be compared with what was printed.

The text is the project's own (``scangen.COLLEGE_RULES``): a college's rules for
school-enterprise cooperation, two A4 pages of articles (第N条), so the tests need no
../shared."""

from __future__ import annotations

import json
import re
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from advisor.cli import main
from advisor.service import AdvisorService
from advisor.settings import Settings
from devkit.scangen import COLLEGE_RULES, Degradation, char_accuracy, write_scanned_pdf
from ingest.ocr import RapidOcrEngine, render_pdf_page
from ingest.pipeline import IngestOptions, IngestPipeline
from ingest.types import OcrOptions

pytestmark = pytest.mark.slow

PAGES = ["\n".join(page) for page in COLLEGE_RULES]
ARTICLE = re.compile(r"第[一二三四五六七八九十]+条")


@pytest.fixture(autouse=True)
def _extractive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADVISOR_LLM", "extractive")  # answers without the model: fast


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("scans")
    return {
        "clean": write_scanned_pdf(folder / "合作管理办法-扫描件.pdf", PAGES, dpi=200),
        "degraded": write_scanned_pdf(
            folder / "合作管理办法-盖章件.pdf", PAGES[:1], dpi=200, degrade=True, seed=3
        ),
        "two_columns": write_scanned_pdf(
            folder / "合作管理办法-双栏.pdf", PAGES, dpi=200, columns=2
        ),
    }


def ingest_json(*argv: str, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    main(["ingest", *argv, "--json"])
    return json.loads(capsys.readouterr().out)


def test_scanned_rules_are_indexed_per_article_with_ocr_provenance(scans, capsys) -> None:
    [outcome] = ingest_json(str(scans["clean"]), capsys=capsys)
    assert outcome["status"] == "indexed", outcome
    assert outcome["ocr_pages"] == [1, 2] and outcome["skipped_pages"] == []

    assert main(["kb", "docs", "--json"]) == 0
    [record] = json.loads(capsys.readouterr().out)
    assert record["ocr_pages"] == [1, 2] and record["ocr_confidence"] > 0.9

    kb = AdvisorService(Settings()).knowledge_base()
    chunks = sorted(kb.iter_chunks(), key=lambda c: c.metadata["chunk_index"])
    assert all(c.metadata["ocr_pages"] and 0.9 < c.metadata["ocr_confidence"] <= 1 for c in chunks)
    # the text as indexed, against the text printed (chunks of single articles do not overlap)
    indexed = "".join(c.text for c in chunks)
    assert char_accuracy("".join(PAGES), indexed) >= 0.97
    # one chunk per article, each under its article in the section path
    articles = {a for page in PAGES for a in ARTICLE.findall(page)}
    by_article = {}
    for chunk in chunks:
        label = ARTICLE.search(chunk.metadata["section"])
        if label:
            by_article[label.group()] = chunk
    found = set(by_article)
    assert len(found & articles) >= 0.9 * len(articles), sorted(articles - found)
    assert by_article["第八条"].metadata["page"] == 2 and by_article["第五条"].metadata["page"] == 1

    # an answer from the scan cites its page and says it was read with OCR
    assert main(["ask", "兼职教师承担的专业课课时不低于总课时的多少？", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert not answer["refused"], answer
    first = answer["citations"][0]
    assert first["source"] == scans["clean"].name and first["page"] == 2 and first["ocr"] is True
    assert "百分之二十" in first["quote"]
    assert main(["ask", "兼职教师承担的专业课课时不低于总课时的多少？"]) == 0
    assert "p.2 (OCR)" in capsys.readouterr().out

    # the same scan again costs nothing: its hash is known
    [again] = ingest_json(str(scans["clean"]), capsys=capsys)
    assert again["status"] == "unchanged" and "ocr" not in again["timings"]


def test_degraded_and_two_column_scans_read_accurately(scans) -> None:
    engine = RapidOcrEngine()
    from ingest.loaders import normalize_text
    from ingest.ocr import ocr_image

    degraded = ocr_image(engine, render_pdf_page(scans["degraded"], 1), 1)
    assert char_accuracy(PAGES[0], normalize_text(degraded.text)) >= 0.92
    for number, page in enumerate(PAGES, start=1):
        read = ocr_image(engine, render_pdf_page(scans["two_columns"], number), number)
        assert char_accuracy(page, normalize_text(read.text)) >= 0.97, read.text


def test_with_ocr_off_a_scan_is_refused_with_the_reason(scans, capsys) -> None:
    [outcome] = ingest_json(str(scans["clean"]), "--no-ocr", capsys=capsys)
    assert outcome["status"] == "failed" and outcome["reason"] == "no_text_layer"
    assert "--no-ocr" in outcome["message"]
    assert AdvisorService(Settings()).knowledge_base().count_chunks() == 0


def test_a_page_ocr_cannot_read_well_is_left_out_and_named(tmp_path, capsys) -> None:
    """Page 2 is a 100-dpi scan blurred, noisy and compressed past reading (mean OCR
    confidence 0.70, 60 % of its characters right): it is reported by page, and page 1 is
    indexed."""
    clean = write_scanned_pdf(tmp_path / "p1.pdf", PAGES[:1], dpi=200)
    ruined = write_scanned_pdf(
        tmp_path / "p2.pdf",
        PAGES[1:],
        dpi=100,
        degrade=Degradation(blur_radius=1.5, noise_sigma=25, jpeg_quality=15),
    )
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for part in (clean, ruined):
        for page in PdfReader(part).pages:
            writer.add_page(page)
    both = tmp_path / "办法-部分模糊.pdf"
    with both.open("wb") as fh:
        writer.write(fh)
    [outcome] = ingest_json(str(both), capsys=capsys)
    assert outcome["status"] == "indexed", outcome
    assert outcome["ocr_pages"] == [1]
    assert outcome["skipped_pages"] == ["2:ocr_low_confidence"]
    # alone, the unreadable page is refused, by name and page
    [alone] = ingest_json(str(ruined), capsys=capsys)
    assert alone["status"] == "failed" and alone["reason"] == "unreadable_scan"
    assert "page 1" in alone["message"] and "confidence" in alone["message"]


class RecordingProgress:
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def file_started(self, path: Path, index: int, total: int) -> None:
        self.events.append(("started", path.name))

    def stage(self, name: str, total: int | None = None, *, files: int = 1) -> None:
        self.events.append(("stage", name, total))

    def advance(self, n: int = 1) -> None:
        self.events.append(("advance", n))

    def file_finished(self, outcome) -> None:
        self.events.append(("finished", outcome.source, outcome.status))


def test_ocr_reports_each_page_and_takes_a_compute_turn_per_page(
    scans, tmp_path, embeddings
) -> None:
    service = AdvisorService(Settings(data_dir=tmp_path / "data"), embeddings=embeddings)
    turns: list[int] = []

    @contextmanager
    def turn():
        turns.append(threading.get_ident())
        yield

    progress = RecordingProgress()
    pipeline = IngestPipeline(
        service.knowledge_base(), embeddings, IngestOptions(), progress, compute_turn=turn
    )
    report = pipeline.run([scans["clean"]])
    assert report.ok and report.outcomes[0].ocr_pages == [1, 2]
    events = progress.events
    start = events.index(("stage", "ocr", 2))
    assert events[start + 1 : start + 3] == [("advance", 1), ("advance", 1)]
    assert len(turns) == 2  # one turn per page, taken in the caller's process
    assert report.outcomes[0].timings["ocr"] > 0


def test_a_page_over_its_time_budget_fails_its_file_only(scans, tmp_path, embeddings) -> None:
    service = AdvisorService(Settings(data_dir=tmp_path / "data"), embeddings=embeddings)
    notes = tmp_path / "notes.txt"
    notes.write_text("校企合作委员会每学期召开一次全体会议。", encoding="utf-8")
    options = IngestOptions(ocr=OcrOptions(page_timeout_s=0.05))
    report = IngestPipeline(service.knowledge_base(), embeddings, options).run(
        [scans["clean"], notes]
    )
    scan, text = report.outcomes
    assert scan.status == "failed" and scan.reason == "timeout"
    assert "OCR of page 1" in scan.message
    assert text.status == "indexed"  # the worker was replaced for the next file
    assert {d.source for d in service.knowledge_base().list_documents()} == {"notes.txt"}


def test_the_engine_loads_its_models_from_the_wheel_and_never_downloads(monkeypatch) -> None:
    import rapidocr.utils.download_file as download

    def refuse(*args, **kwargs):
        raise AssertionError("RapidOCR tried to download a model")

    monkeypatch.setattr(download.DownloadFile, "run", refuse)
    import requests

    monkeypatch.setattr(requests, "get", refuse)
    import numpy as np

    image = np.full((200, 800, 3), 255, dtype=np.uint8)
    assert RapidOcrEngine(threads=1).read(image) == []
