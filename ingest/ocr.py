"""Read scanned PDF pages: render a page, recognise its text lines, put them back in reading
order as paragraphs.

Used by the parse worker (``ingest/worker.py``) for the pages whose text layer is missing or
fails the text checks (``ingest/textcheck.py``); the pipeline decides which pages those are and
asks for them one at a time, so each page has its own time budget, its own progress step and
its own turn at the compute gate.

The engine is RapidOCR 3 on ONNX Runtime (PP-OCRv6 detection and recognition models inside
the ``rapidocr`` wheel, loaded by explicit path: nothing is downloaded at run time). The choice
was measured against the other offline candidates in ``bench/ocr_bench.py``
(docs/BENCHMARKS.md).

Reading order is rebuilt from the line boxes alone:

* columns: a vertical gutter that no line crosses, in the middle of the page, with enough
  lines on both sides; lines that cross it (titles) cut the page into bands, and each band is
  read left column first;
* lines: boxes on the same row are joined left to right (the detector may split a row);
* paragraphs: a new paragraph starts after a vertical gap, at an indented line, after a line
  that stops well short of the column's right edge, and at a structure label (第X章/条,
  一、, （一）), so that the chunker finds articles in an OCR'd law as in its text version.

Paragraphs are separated by a blank line; the lines of one paragraph are joined without a
space between Chinese characters and with one between Latin words (a hyphen at a line end is
a broken word).
"""

from __future__ import annotations

import itertools
import logging
import re
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from textrules import CJK, ZH_NUMERAL

log = logging.getLogger(__name__)

ENGINE_NAME = "rapidocr 3 (PP-OCRv6 small, ONNX Runtime)"
DET_MODEL = "PP-OCRv6_det_small.onnx"
REC_MODEL = "PP-OCRv6_rec_small.onnx"
CLS_MODEL = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"
#: a page is rendered at this resolution unless a setting says otherwise: PP-OCR's detector
#: works on ~1,000-2,000 pixel sides, and 200 dpi puts an A4 page at 1,654 x 2,339
DEFAULT_DPI = 200
#: the longest side of a rendered page, whatever its size in points (an A0 poster at 200 dpi
#: would be 6,600 x 9,400 pixels: 186 MB of RGB for one page)
MAX_SIDE_PX = 3_600

_LABEL_START = re.compile(
    f"^(?:第[{ZH_NUMERAL}]+(?:分编|编|部分|章|节|条)"
    "|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]{1,3}[)）]|\\d{1,2}[.、]\\D)"
)
# "第三条为了…" as recognised → "第三条 为了…": the text versions of laws put a space after an
# article or division label at a paragraph start, and the chunker relies on it
_LABEL_WITHOUT_SPACE = re.compile(
    f"^(第[{ZH_NUMERAL}]+(?:分编|编|部分|章|节|条)(?:之[一二三四五六七八九十]+)?)(?=[^\\s{ZH_NUMERAL}])"
)
_CJK_CHAR = re.compile(f"[{CJK}]")
_PARAGRAPH_END = frozenset("。！？：；.!?:;”」』）)")


@dataclass(frozen=True, slots=True)
class OcrLine:
    """One recognised text line: its box in pixels and the engine's confidence (0-1)."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    confidence: float

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def yc(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass(frozen=True, slots=True)
class OcrPage:
    """What OCR made of one page."""

    number: int
    text: str
    #: mean confidence of the recognised characters (each line weighted by its length); 0.0
    #: for a page where nothing was recognised
    confidence: float
    lines: int
    seconds: float


class OcrEngine(Protocol):
    name: str

    def read(self, image: np.ndarray) -> list[OcrLine]: ...


class RapidOcrEngine:
    """RapidOCR 3 on ONNX Runtime: PP-OCRv6 small detection and recognition and the v2
    direction classifier, the three model files inside the ``rapidocr`` wheel. Their paths
    are given explicitly, so RapidOCR's download branch (taken for any model it does not
    find) is never reached. ``threads`` caps ONNX Runtime's intra-op threads (default: all
    cores)."""

    name = ENGINE_NAME

    def __init__(self, threads: int | None = None) -> None:
        from importlib.resources import files

        from rapidocr import RapidOCR

        models = files("rapidocr") / "models"
        params: dict[str, Any] = {
            "Global.log_level": "error",
            "Det.model_path": str(models / DET_MODEL),
            "Cls.model_path": str(models / CLS_MODEL),
            "Rec.model_path": str(models / REC_MODEL),
        }
        if threads:
            params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
            params["EngineConfig.onnxruntime.inter_op_num_threads"] = 1
        for name in (DET_MODEL, CLS_MODEL, REC_MODEL):
            if not (models / name).is_file():
                raise FileNotFoundError(f"the OCR model {name} is missing from the rapidocr wheel")
        self._engine = RapidOCR(params=params)

    def read(self, image: np.ndarray) -> list[OcrLine]:
        out: Any = self._engine(np.ascontiguousarray(image[..., ::-1]))  # RapidOCR reads BGR
        if out.txts is None or out.boxes is None or out.scores is None:
            return []
        lines = []
        for box, text, score in zip(out.boxes, out.txts, out.scores, strict=True):
            xs = [float(p[0]) for p in box]
            ys = [float(p[1]) for p in box]
            text = str(text).strip()
            if text:
                lines.append(OcrLine(text, min(xs), min(ys), max(xs), max(ys), float(score)))
        return lines


def render_pdf_page(
    path: Path, number: int, *, dpi: int = DEFAULT_DPI, password: str | None = None
) -> np.ndarray:
    """Page ``number`` (1-based) of a PDF as an RGB array, at ``dpi`` (less for pages so big
    that the longest side would pass ``MAX_SIDE_PX``). Opens the file for this one page; a
    document's pages are rendered from one open ``PdfDocument`` with :func:`render_page`."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path), password=password)
    try:
        return render_page(pdf, number, dpi=dpi)
    finally:
        pdf.close()


def render_page(pdf: Any, number: int, *, dpi: int = DEFAULT_DPI) -> np.ndarray:
    """Page ``number`` (1-based) of an open ``pypdfium2.PdfDocument`` as an RGB array."""
    page = pdf[number - 1]
    try:
        width_pt, height_pt = page.get_size()
        scale = min(dpi / 72, MAX_SIDE_PX / max(width_pt, height_pt, 1))
        bitmap = page.render(scale=scale, grayscale=False)
        return np.asarray(bitmap.to_pil().convert("RGB"))
    finally:
        page.close()


def ocr_image(engine: OcrEngine, image: np.ndarray, number: int) -> OcrPage:
    """Recognise one page image and rebuild its text in reading order."""
    started = time.perf_counter()
    lines = engine.read(image)
    text = assemble_text(lines, page_width=float(image.shape[1]))
    return OcrPage(
        number=number,
        text=text,
        confidence=mean_confidence(lines),
        lines=len(lines),
        seconds=time.perf_counter() - started,
    )


def mean_confidence(lines: Sequence[OcrLine]) -> float:
    chars = sum(len(line.text) for line in lines)
    if not chars:
        return 0.0
    return sum(line.confidence * len(line.text) for line in lines) / chars


# ---- reading order --------------------------------------------------------------------------


def assemble_text(lines: Sequence[OcrLine], *, page_width: float) -> str:
    """The page's text: columns in reading order, rows joined, paragraphs separated by a
    blank line."""
    if not lines:
        return ""
    paragraphs: list[str] = []
    open_end = False
    for column in _reading_blocks(list(lines), page_width):
        block, starts_fresh, ends_open = _paragraphs(_rows(column))
        if paragraphs and open_end and not starts_fresh and block:
            # a paragraph that runs from the foot of one column to the head of the next
            paragraphs[-1] = _join(paragraphs[-1], block.pop(0), spaced=None)
        paragraphs += block
        open_end = ends_open
    return "\n\n".join(p for p in paragraphs if p)


def _reading_blocks(lines: list[OcrLine], page_width: float) -> list[list[OcrLine]]:
    """Groups of lines to read one after the other: the whole page, or, on a two-column page,
    each band's left column then its right column (a line across the gutter is a band of its
    own)."""
    gutter = _find_gutter(lines, page_width)
    if gutter is None:
        return [lines]
    left_edge, right_edge = gutter
    middle = (left_edge + right_edge) / 2
    blocks: list[list[OcrLine]] = []
    band: list[OcrLine] = []
    for line in sorted(lines, key=lambda ln: ln.y0):
        if line.x0 < left_edge and line.x1 > right_edge:  # crosses the gutter: a title
            blocks += _split_band(band, middle)
            blocks.append([line])
            band = []
        else:
            band.append(line)
    blocks += _split_band(band, middle)
    return [b for b in blocks if b]


def _split_band(band: list[OcrLine], middle: float) -> list[list[OcrLine]]:
    left = [ln for ln in band if (ln.x0 + ln.x1) / 2 < middle]
    right = [ln for ln in band if (ln.x0 + ln.x1) / 2 >= middle]
    return [left, right]


def _find_gutter(lines: list[OcrLine], page_width: float) -> tuple[float, float] | None:
    """The widest vertical strip in the middle 30-70 % of the page that hardly any line
    crosses (titles and headings across both columns may: they become bands of their own),
    if it is wide enough and has at least three lines wholly on each side."""
    if len(lines) < 6:
        return None
    step = max(1.0, page_width / 400)
    counts = np.zeros(int(page_width / step) + 2, dtype=np.int32)
    for ln in lines:
        counts[int(ln.x0 / step) : int(ln.x1 / step) + 1] += 1
    allowed = max(1, int(0.15 * len(lines)))
    lo, hi = int(0.3 * page_width / step), int(0.7 * page_width / step)
    best: tuple[int, int] | None = None
    start: int | None = None
    for i in range(lo, hi + 2):
        free = i <= hi and counts[i] <= allowed
        if free and start is None:
            start = i
        elif not free and start is not None:
            if best is None or i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    if best is None or (best[1] - best[0]) * step < 0.015 * page_width:
        return None
    gutter = (best[0] * step, best[1] * step)
    left = sum(1 for ln in lines if ln.x1 <= gutter[0] + step)
    right = sum(1 for ln in lines if ln.x0 >= gutter[1] - step)
    if left < 3 or right < 3:
        return None
    return gutter


@dataclass(slots=True)
class _Row:
    text: str
    x0: float
    x1: float
    y0: float
    y1: float


def _rows(lines: list[OcrLine]) -> list[_Row]:
    """Lines sorted top to bottom; boxes that share a row (vertical overlap over half the
    smaller height) are joined left to right."""
    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda ln: (ln.yc, ln.x0)):
        if rows:
            last = rows[-1]
            y0 = min(ln.y0 for ln in last)
            y1 = max(ln.y1 for ln in last)
            overlap = min(y1, line.y1) - max(y0, line.y0)
            if overlap > 0.5 * min(line.height, y1 - y0):
                last.append(line)
                continue
        rows.append([line])
    out = []
    for row in rows:
        row.sort(key=lambda ln: ln.x0)
        text = row[0].text
        for prev, ln in itertools.pairwise(row):
            text = _join(text, ln.text, spaced=ln.x0 - prev.x1 > 0.6 * ln.height)
        out.append(
            _Row(
                text,
                min(ln.x0 for ln in row),
                max(ln.x1 for ln in row),
                min(ln.y0 for ln in row),
                max(ln.y1 for ln in row),
            )
        )
    return out


def _paragraphs(rows: list[_Row]) -> tuple[list[str], bool, bool]:
    """The block's paragraphs; whether its first row starts a paragraph (indented or a
    label) rather than going on with the one before; whether its last row runs to the right
    edge without ending a sentence (the paragraph goes on in the next block)."""
    if not rows:
        return [], True, False
    height = statistics.median(r.y1 - r.y0 for r in rows)
    left = _edge([r.x0 for r in rows], low=True)
    right = _edge([r.x1 for r in rows], low=False)
    gaps = [b.y0 - a.y1 for a, b in itertools.pairwise(rows)]
    usual_gap = statistics.median(gaps) if gaps else 0.0
    paragraphs: list[str] = []
    current = ""
    for i, row in enumerate(rows):
        if i == 0:
            current = row.text
            continue
        prev = rows[i - 1]
        new = (
            row.y0 - prev.y1 > max(usual_gap + 0.5 * height, 0.8 * height)  # a blank line
            or row.x0 - left > 1.2 * height  # an indented first line
            or right - prev.x1 > 2.0 * height  # the row before stopped short: a paragraph end
            or bool(_LABEL_START.match(row.text))
        )
        if new:
            paragraphs.append(current)
            current = row.text
        else:
            current = _join(current, row.text, spaced=None)
    paragraphs.append(current)
    first, last = rows[0], rows[-1]
    starts_fresh = first.x0 - left > 1.2 * height or bool(_LABEL_START.match(first.text))
    ends_open = (
        len(rows) >= 3  # a title or a stray line has no column width to run to
        and right - last.x1 <= 2.0 * height
        and last.text[-1:] not in _PARAGRAPH_END
    )
    return (
        [_LABEL_WITHOUT_SPACE.sub(r"\1 ", p.strip()) for p in paragraphs],
        starts_fresh,
        ends_open,
    )


def _edge(values: list[float], *, low: bool) -> float:
    """The column's left (or right) edge: a low (high) percentile of the rows' ends, robust
    to indented first lines and short last lines."""
    ordered = sorted(values)
    k = int(0.1 * (len(ordered) - 1)) if low else int(0.9 * (len(ordered) - 1))
    return ordered[k]


def _join(left: str, right: str, *, spaced: bool | None) -> str:
    """Join two pieces of one paragraph: no space between CJK characters, a space between
    words, a hyphen at the end of a Latin line dropped (``spaced=None``: decide by script)."""
    if not left:
        return right
    if not right:
        return left
    a, b = left[-1], right[0]
    if _CJK_CHAR.match(a) or _CJK_CHAR.match(b):
        return left + right if not spaced else left + " " + right
    if spaced is None and a == "-" and left[-2:-1].isalpha() and b.islower():
        return left[:-1] + right
    return left + " " + right


# ---- which pages, and the document ------------------------------------------------------------

#: a page that passes the text checks with fewer letters than this, and holds an image, is a
#: scan with a stray text layer (a page number, a stamp's caption): it is OCR'd, and the OCR
#: text replaces the layer when it reads more
THIN_PAGE_LETTERS = 30


class PageTurns(Protocol):
    """How the worker takes turns with the process that asked for the parse: ``before`` may
    block until this page may use the CPU; ``after`` says it is done."""

    def before(self, index: int, total: int, number: int) -> None: ...

    def after(self, index: int, total: int, page: OcrPage) -> None: ...


class NoTurns:
    def before(self, index: int, total: int, number: int) -> None:
        pass

    def after(self, index: int, total: int, page: OcrPage) -> None:
        pass


def pages_to_ocr(pdf: Any, pages: Sequence[Any]) -> dict[int, str]:
    """The pages to OCR, each with its text layer's verdict: ``empty``, ``garbled``, or
    ``ok`` for a thin layer on a page that holds an image. ``pdf`` is the open
    ``pypdfium2.PdfDocument``."""
    from ingest.textcheck import assess_page

    wanted: dict[int, str] = {}
    for page in pages:
        if page.number is None:
            continue
        verdict = assess_page(page.text)
        if verdict.status != "ok":
            wanted[page.number] = verdict.status
        elif verdict.stats.letters < THIN_PAGE_LETTERS and _has_image(pdf, page.number):
            wanted[page.number] = "ok"
    return dict(sorted(wanted.items()))


def _has_image(pdf: Any, number: int) -> bool:
    import pypdfium2.raw as pdfium_c

    page = pdf[number - 1]
    try:
        objects = page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=4)
        return next(iter(objects), None) is not None
    finally:
        page.close()


def ocr_document(
    raw: Any,
    *,
    options: Any,
    password: str | None,
    engine: OcrEngine,
    turns: PageTurns | None = None,
) -> Any:
    """``raw`` (a ``RawDocument`` of a PDF) with the text of its scanned, garbled or thin
    pages recognised from their images. A page OCR reads with too little confidence is left
    out and listed in ``skipped`` with the figure; the text checks then judge every page as
    usual."""
    import pypdfium2 as pdfium

    from ingest.types import RawDocument

    pdf = pdfium.PdfDocument(str(raw.path), password=password)
    try:
        pages, skipped = _ocr_pages(raw, pdf, options, engine, turns or NoTurns())
    finally:
        pdf.close()
    if pages is None:
        return raw
    return RawDocument(
        path=raw.path,
        pages=pages,
        page_count=raw.page_count,
        meta=dict(raw.meta),
        skipped=skipped,
        ocr_tried=True,
    )


def _ocr_pages(
    raw: Any, pdf: Any, options: Any, engine: OcrEngine, turns: PageTurns
) -> tuple[list[Any] | None, list[Any]]:
    """The document's pages with OCR text where it was read, and the pages left out; None
    when no page needs OCR."""
    from ingest.errors import TooLargeError
    from ingest.loaders import normalize_text
    from ingest.textcheck import assess_page, measure_text
    from ingest.types import Page, SkippedPage

    layers = pages_to_ocr(pdf, raw.pages)
    if not layers:
        return None, list(raw.skipped)
    if len(layers) > options.max_pages:
        raise TooLargeError(
            f"{raw.path.name}: {len(layers)} pages need OCR, more than the limit of "
            f"{options.max_pages} (ADVISOR_OCR_MAX_PAGES)"
        )
    pages = list(raw.pages)
    where = {page.number: i for i, page in enumerate(pages)}
    skipped = list(raw.skipped)
    for k, (number, layer) in enumerate(layers.items()):
        turns.before(k, len(layers), number)
        result = ocr_image(engine, render_page(pdf, number, dpi=options.dpi), number)
        turns.after(k, len(layers), result)
        old = pages[where[number]]
        text = normalize_text(result.text)
        layer_ok = layer == "ok"
        if not text or assess_page(text).status == "empty":
            if layer == "garbled":  # a garbled layer, and nothing readable on the image
                pages[where[number]] = Page(number=number, text="")
                skipped.append(
                    SkippedPage(
                        number=number,
                        reason="garbled",
                        detail="the text layer is garbled and OCR found no text on the image",
                    )
                )
            continue  # a blank image: the text checks call the page empty
        if layer_ok and measure_text(text).letters <= measure_text(old.text).letters:
            continue  # a thin layer that says as much as the image: used as it is
        if result.confidence < options.min_confidence:
            if layer_ok:
                continue
            pages[where[number]] = Page(number=number, text="")
            skipped.append(
                SkippedPage(
                    number=number,
                    reason="ocr_low_confidence",
                    detail=f"OCR confidence {result.confidence:.2f} < {options.min_confidence:.2f}",
                )
            )
            log.info(
                "%s: page %d: OCR confidence %.2f, left out",
                raw.path.name,
                number,
                result.confidence,
            )
            continue
        pages[where[number]] = Page(number=number, text=text, ocr_confidence=result.confidence)
    return pages, skipped
