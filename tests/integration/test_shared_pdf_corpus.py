"""load_document + screen_document over the shared real-world PDF corpus, checked against
``../shared/testdata/pdfs/EXPECTED.md`` (what pypdf does with every file, and its category).

Every file is read once per session (about 15 s on 2 cores) under a 60 s alarm, with
max_pages=200 so the 400- and 619-page files stop at the page count. The module is skipped
when the shared folder is absent (a user's clone has no ``../shared``).
"""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import pytest

from ingest.errors import (
    CorruptFileError,
    EmptyDocumentError,
    EncryptedError,
    GarbledTextError,
    IngestError,
    NoTextLayerError,
    TooLargeError,
)
from ingest.loaders import load_document
from ingest.textcheck import assess_page, screen_document
from ingest.types import LoadLimits, ScreenedDocument

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared" / "testdata"
PDFS = SHARED / "pdfs"

if not (PDFS / "EXPECTED.md").is_file():
    pytest.skip("../shared/testdata/pdfs is not present", allow_module_level=True)

pytestmark = pytest.mark.shared

LIMITS = LoadLimits(max_pages=200)
PER_FILE_TIMEOUT_S = 60


# --------------------------------------------------------------------------------------------
# EXPECTED.md
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    file: str
    pages: int | None
    decrypt: str  # "empty:0;'foo':2" — pypdf PasswordType per password tried
    chars: int | None
    category: str
    notes: str

    @property
    def password(self) -> str | None:
        match = re.search(r"'([^']*)':[12]", self.decrypt)
        return match.group(1) if match else None

    @property
    def needs_password(self) -> bool:
        return self.decrypt.startswith("empty:0")


def _int_or_none(cell: str) -> int | None:
    return int(cell) if cell.isdigit() else None


def read_expected() -> dict[str, Expected]:
    rows: dict[str, Expected] = {}
    for line in (PDFS / "EXPECTED.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 11 or not cells[0].endswith(".pdf"):
            continue
        rows[cells[0]] = Expected(
            file=cells[0],
            pages=_int_or_none(cells[2]),
            decrypt=cells[4],
            chars=_int_or_none(cells[6]),
            category=cells[9],
            notes=cells[10],
        )
    return rows


EXPECTED = read_expected()

# Files the table calls "text" (or similar) whose only text is numbers: the text checks find no
# words to index, and say so, rather than index "1" and "2".
NUMBERS_ONLY = {
    "pypdf-resources/two-different-pages.pdf": "pages hold only '1' and '2'",
    "pdfminer-samples/matplotlib.pdf": "axis tick labels '0 2 4 6 8'",
    "pdfplumber-tests/malformed-from-issue-932.pdf": "only '2021 3 31' survives",
}
# pypdf returns mojibake for these (EXPECTED.md says so in its notes)
GARBLED_TEXT_LAYERS = {
    "pdfminer-samples/jo.pdf",
    "pdfminer-samples/kampo.pdf",
    "pdfminer-samples/nlp2004slides.pdf",
    "pdfminer-samples/issue-791-non-unicode-cmap.pdf",
    "pypdf-resources/issue-301.pdf",  # "junk OCR layer (~145 chars of noise)"
}
# Pages that must be skipped (and only these) in documents that are otherwise accepted.
SKIPPED_PAGES = {
    "rapidocrpdf-tests/direct_and_image.pdf": [2],
    "unstructured-example-docs/layout-parser-paper-with-empty-pages.pdf": [2, 3],
    "pypdf-sample-files/imagemagick-images.pdf": [4, 5],
}
# Text the accepted document must contain (from EXPECTED.md's notes).
MUST_CONTAIN = {
    "pypdf-resources/multilang.pdf": ["你好世界", "こんにちは世界", "Hello World", "Привет"],
    "pdfminer-samples/issue-625-identity-cmap.pdf": ["Termin płatności: 2021-05-03"],
    "pdfminer-samples/zen_of_python_corrupted.pdf": ["Beautiful is better than ugly"],
    "pypdf-resources/issue-297.pdf": ["test example"],
    "pypdf-resources/encryption/unencrypted.pdf": ["pdf encryption test\npassword: asdfzxcv"],
    "unstructured-example-docs/korean-text-with-tables.pdf": ["적립"],
    "pdfminer-samples/issue-886-xref-stream-widths.pdf": ["Hello"],
}


def expected_outcome(rel: str) -> tuple[type[IngestError], ...] | None:
    """The error(s) allowed for ``rel`` opened without a password; None = accepted."""
    row = EXPECTED[rel]
    if row.category == "encrypted" and row.needs_password:
        return (EncryptedError,)
    if row.category == "corrupt":
        return (CorruptFileError, EmptyDocumentError)
    if rel in GARBLED_TEXT_LAYERS:
        return (GarbledTextError,)
    if row.pages is not None and row.pages > LIMITS.max_pages:
        return (TooLargeError,)
    if row.chars == 0 or row.category in ("scanned", "image-only") or rel in NUMBERS_ONLY:
        return (NoTextLayerError,)
    return None


# --------------------------------------------------------------------------------------------
# Running every file once
# --------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    document: ScreenedDocument | None
    error: BaseException | None
    seconds: float

    @property
    def label(self) -> str:
        if self.error is None:
            assert self.document is not None
            skipped = f", skipped {[s.number for s in self.document.skipped]}"
            kept = f"{len(self.document.pages)}/{self.document.page_count} pages"
            return f"ok ({kept}{skipped if self.document.skipped else ''})"
        return type(self.error).__name__


class FileTimeout(Exception):
    pass


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise FileTimeout(f"more than {PER_FILE_TIMEOUT_S} s")


def ingest_once(path: Path, password: str | None = None) -> Outcome:
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(PER_FILE_TIMEOUT_S)
    started = time.monotonic()
    try:
        document = screen_document(load_document(path, password=password, limits=LIMITS))
        return Outcome(document, None, time.monotonic() - started)
    except Exception as exc:  # recorded; the tests decide which exceptions are acceptable
        return Outcome(None, exc, time.monotonic() - started)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def outcomes() -> Iterator[dict[str, Outcome]]:
    results = {
        str(path.relative_to(PDFS)): ingest_once(path) for path in sorted(PDFS.rglob("*.pdf"))
    }
    yield results
    _log_table(results)


def _log_table(results: dict[str, Outcome]) -> None:
    import logging

    log = logging.getLogger(__name__)
    for rel, outcome in results.items():
        category = EXPECTED[rel].category if rel in EXPECTED else "?"
        log.info("%-22s %-70s %s (%.1fs)", category, rel, outcome.label, outcome.seconds)


ALL_FILES = sorted(EXPECTED)


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


def test_expected_table_lists_every_pdf_on_disk() -> None:
    on_disk = {str(path.relative_to(PDFS)) for path in PDFS.rglob("*.pdf")}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("rel", ALL_FILES)
def test_outcome_matches_expected(rel: str, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes[rel]
    allowed = expected_outcome(rel)

    assert not isinstance(outcome.error, FileTimeout), f"{rel} took too long"
    if outcome.error is not None:
        # nothing may escape as anything but an IngestError, with a message a person can read
        assert isinstance(outcome.error, IngestError), repr(outcome.error)
        assert outcome.error.message.startswith(Path(rel).name)
    if allowed is None:
        assert outcome.error is None, f"{rel}: {outcome.error}"
    else:
        assert isinstance(outcome.error, allowed), f"{rel}: {outcome.label} {outcome.error}"


@pytest.mark.parametrize("rel", [r for r in ALL_FILES if expected_outcome(r) is None])
def test_accepted_documents_keep_numbered_pages_and_no_mojibake(
    rel: str, outcomes: dict[str, Outcome]
) -> None:
    document = outcomes[rel].document
    assert document is not None

    kept = [page.number for page in document.pages]
    skipped = [page.number for page in document.skipped]
    assert sorted(kept + skipped) == list(range(1, document.page_count + 1))  # type: ignore[type-var]
    assert skipped == SKIPPED_PAGES.get(rel, [])
    assert all(assess_page(page.text).status == "ok" for page in document.pages)
    for needle in MUST_CONTAIN.get(rel, []):
        assert any(needle in page.text for page in document.pages), needle


@pytest.mark.parametrize(
    "rel", [r for r in ALL_FILES if EXPECTED[r].category == "encrypted" and EXPECTED[r].password]
)
def test_encrypted_files_open_with_their_password(rel: str) -> None:
    row = EXPECTED[rel]
    outcome = ingest_once(PDFS / rel, password=row.password)

    assert outcome.error is None, f"{rel}: {outcome.error}"
    assert outcome.document is not None
    text = "\n".join(page.text for page in outcome.document.pages)
    quoted = re.search(r'text "([^"]+)"', row.notes)
    if quoted:
        assert quoted.group(1) in text


def test_wrong_password_fails_cleanly() -> None:
    outcome = ingest_once(PDFS / "pypdf-resources/encrypted-file.pdf", password="qwerty")

    assert isinstance(outcome.error, EncryptedError)
    assert "wrong" in outcome.error.message


def test_garbled_files_name_the_reason(outcomes: dict[str, Outcome]) -> None:
    for rel in sorted(GARBLED_TEXT_LAYERS):
        error = outcomes[rel].error
        assert isinstance(error, GarbledTextError), rel
        assert "page 1" in error.message or "pages 1," in error.message


def test_large_files_stop_at_the_page_count(outcomes: dict[str, Outcome]) -> None:
    for rel in (
        "unstructured-example-docs/DA-619p.pdf",
        "unstructured-example-docs/pdf2image-memory-error-test-400p.pdf",
    ):
        error = outcomes[rel].error
        assert isinstance(error, TooLargeError)
        assert "exceeds the limit of 200 pages" in error.message


def test_a_file_over_the_page_limit_is_refused_before_any_page_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The page count is checked first: no page's text is extracted. (The corpus's load times
    are figures of bench/text_rules_bench.py, not assertions.)"""
    import pypdf

    extracted: list[int] = []
    original = pypdf.PageObject.extract_text

    def counting(self: pypdf.PageObject, *args: object, **kwargs: object) -> str:
        extracted.append(1)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pypdf.PageObject, "extract_text", counting)
    with pytest.raises(TooLargeError):
        load_document(PDFS / "unstructured-example-docs" / "DA-619p.pdf", limits=LIMITS)
    assert extracted == []


# --------------------------------------------------------------------------------------------
# Real text must never be flagged
# --------------------------------------------------------------------------------------------

REAL_TEXT_FILES = sorted((SHARED / "zh_policy").glob("*.md")) + sorted(
    (SHARED.parent / "seed").glob("*.txt")
)


@pytest.mark.parametrize("path", REAL_TEXT_FILES, ids=lambda path: path.name)
def test_real_chinese_and_english_text_is_never_flagged(path: Path) -> None:
    document = screen_document(load_document(path))
    text = document.pages[0].text

    assert document.skipped == []
    # as PDF pages would cut it: every 600-character window must pass on its own
    windows = [text[i : i + 600] for i in range(0, len(text), 600)]
    verdicts = [assess_page(window) for window in windows]
    assert [v.detail for v in verdicts if v.status == "garbled"] == []


# --------------------------------------------------------------------------------------------
# With OCR: the files without a usable text layer are read from their page images
# --------------------------------------------------------------------------------------------

#: the files the text layer alone cannot index (scans, images, mojibake, numbers only) and the
#: documents with pages left out: OCR is tried on each of their pages
OCR_CANDIDATES = [
    r
    for r in ALL_FILES
    if expected_outcome(r) in ((NoTextLayerError,), (GarbledTextError,)) or r in SKIPPED_PAGES
]
#: what OCR must find in files it can read (the page images hold this text)
OCR_MUST_READ = {
    "unstructured-example-docs/loremipsum-flat.pdf": ["Lorem ipsum dolor sit amet"],
    "rapidocrpdf-tests/image.pdf": ["Proteomics"],
    "rapidocrpdf-tests/direct_and_image.pdf": ["ABCNet"],
    "pdfminer-samples/nlp2004slides.pdf": ["固有表現"],
    "pdfplumber-tests/malformed-from-issue-932.pdf": ["债务融资工具"],
}


@pytest.fixture(scope="module")
def ocr_outcomes() -> dict[str, Outcome]:
    from ingest.types import OcrOptions
    from ingest.worker import parse_file

    results = {}
    for rel in OCR_CANDIDATES:
        started = time.monotonic()
        try:
            document = parse_file(PDFS / rel, None, LIMITS, OcrOptions())
            results[rel] = Outcome(document, None, time.monotonic() - started)
        except Exception as exc:
            results[rel] = Outcome(None, exc, time.monotonic() - started)
    return results


@pytest.mark.parametrize("rel", OCR_CANDIDATES)
def test_with_ocr_a_file_is_read_or_refused_naming_its_pages(
    rel: str, ocr_outcomes: dict[str, Outcome]
) -> None:
    outcome = ocr_outcomes[rel]
    if outcome.error is not None:
        assert isinstance(outcome.error, IngestError), repr(outcome.error)
        assert rel not in OCR_MUST_READ, outcome.error
        assert re.search(r"pages? \d", outcome.error.message), outcome.error.message
        assert outcome.error.reason in {"garbled", "unreadable_scan"}, outcome.error
        return
    document = outcome.document
    assert document is not None
    # every page is kept or named as left out, and nothing kept is mojibake
    kept = [page.number for page in document.pages]
    skipped = [page.number for page in document.skipped]
    assert sorted(kept + skipped) == list(range(1, document.page_count + 1))  # type: ignore[type-var]
    assert all(assess_page(page.text).status == "ok" for page in document.pages)
    assert any(page.ocr_confidence is not None for page in document.pages) or skipped
    text = "\n".join(page.text for page in document.pages)
    for needle in OCR_MUST_READ.get(rel, []):
        assert needle in text, (needle, text[:300])


def test_ocr_reads_the_scans_and_slides_that_had_no_usable_layer(
    ocr_outcomes: dict[str, Outcome],
) -> None:
    read = {rel for rel, o in ocr_outcomes.items() if o.error is None}
    assert set(OCR_MUST_READ) <= read
    slides = ocr_outcomes["pdfminer-samples/nlp2004slides.pdf"].document
    assert slides is not None and len(slides.pages) >= 28  # of 31 garbled slides
