"""Scanned Chinese pages for OCR tests: known text rendered into page images and image-only PDFs.

The pages look like scans of 红头文件 (official documents): A4, black CJK text on white, 12 pt
at the chosen dpi (38 characters a line in one column, 18 in two), paragraphs indented by two
characters and set apart by half a line, chapter headings (第一章 总则) centred, optionally a red
header with a red rule on the first page. With ``degrade`` a page also gets what a scanner and a
desk add: a red round seal pressed over the last lines, a slight skew, blur, noise and JPEG
artefacts, all drawn from ``seed`` so that the same call gives the same pixels.

The text put in is the ground truth: :func:`char_accuracy` compares OCR output with it.
:func:`law_pages` cuts the Chinese laws in ``../shared/testdata/zh_policy`` into pages.

Only pillow, numpy and pypdf are used (pypdf for :func:`pdf_has_text_layer`); the CJK font
comes from the ``paperang-p2-fonts-cjk`` package, or else from a system CJK font.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

__all__ = [
    "A4_MM",
    "ZH_POLICY",
    "Degradation",
    "char_accuracy",
    "cjk_font_path",
    "law_pages",
    "law_text",
    "pdf_has_text_layer",
    "render_pages",
    "write_scanned_pdf",
]

A4_MM = (210.0, 297.0)
ZH_POLICY = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "zh_policy"

FONT_PACKAGE = "paperang_p2_fonts_cjk"
_FONT_SUFFIXES = (".ttc", ".ttf", ".otf")
# System fonts tried when the package is missing, best first (file name stems, lower case).
_SYSTEM_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
_SYSTEM_FONT_NAMES = (
    "wqy-microhei",
    "wqy-zenhei",
    "notosanscjk-regular",
    "notoserifcjk-regular",
    "droidsansfallbackfull",
)

INK = (20, 20, 20)
PAPER = (255, 255, 255)
STAMP_RED = (200, 30, 40)

# Characters that may not open a line (they hang at the end of the previous one instead).
_NO_LINE_START = set("，。、；：？！）》」』】〕”’%…—·,.;:?!)]")
_HEADING = re.compile(r"^第[一二三四五六七八九十百零〇两]+[编章节](?:[\s\u3000]|$)")
_SENTENCE_PUNCTUATION = re.compile(r"[，。、；：？！,.;:?!]")
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+")
_SPACES = re.compile(r"[ \t\u3000]+")
_INFO_END = "<!-- INFO END -->"


# --------------------------------------------------------------------------------------------
# Font
# --------------------------------------------------------------------------------------------


#: a college's rules for school-enterprise cooperation, written for the tests and benches (the
#: project's own text): two A4 pages of articles, one paragraph per item
COLLEGE_RULES: list[list[str]] = [
    [
        "某职业技术学院校企合作管理办法",
        "第一章 总则",
        "第一条 为深化产教融合，规范学校与企业的合作，保障合作各方的合法权益，根据有关法律法规，"
        "结合本院实际，制定本办法。",
        "第二条 本办法所称校企合作，是指学院与企业在人才培养、专业建设、实训基地、技术服务和"
        "员工培训等方面开展的合作。",
        "第三条 校企合作坚持平等自愿、优势互补、互利共赢的原则，实行学院统筹、二级学院实施、"
        "企业参与的管理体制。",
        "第二章 合作内容",
        "第四条 学院与合作企业共同制定人才培养方案，企业专家参与课程标准的修订，每年不少于两次。",
        "第五条 合作企业接收学生顶岗实习的，应当安排不少于二名技术人员担任实习指导教师，学院"
        "按每名学生每月三百元的标准给予补助。",
        "第六条 学院与企业共建生产性实训基地，企业投入的设备按原值的百分之五十计入学院的合作"
        "贡献，基地的管理由双方协商确定。",
    ],
    [
        "第七条 学院支持教师到合作企业实践，专业教师每五年累计实践时间不少于六个月，实践经历"
        "作为职称评审的条件之一。",
        "第八条 合作企业的技术骨干可以受聘为兼职教师，学院按课时支付报酬，兼职教师承担的专业"
        "课课时不低于总课时的百分之二十。",
        "第三章 保障措施",
        "第九条 学院每年安排校企合作专项经费，用于订单培养、实训基地建设和技术服务项目，专项"
        "经费实行专款专用。",
        "第十条 学院设立校企合作委员会，委员会每学期召开一次全体会议，研究合作中的重大事项，"
        "会议纪要报学院党委备案。",
        "第十一条 对在校企合作中作出突出贡献的企业和个人，学院给予表彰，并向主管部门推荐。",
        "第十二条 本办法自发布之日起施行，由学院校企合作办公室负责解释。",
    ],
]


@cache
def cjk_font_path() -> Path:
    """The CJK font file: the one shipped in ``paperang-p2-fonts-cjk`` (wqy-microhei), found
    as a package resource, else a wqy or Noto CJK font installed on the system.

    Raises ``FileNotFoundError`` when there is none.
    """
    root: Traversable | None
    try:
        root = resources.files(FONT_PACKAGE)
    except ModuleNotFoundError:
        root = None
    if root is not None:
        for entry in _walk_resources(root):
            if entry.name.lower().endswith(_FONT_SUFFIXES):
                return Path(str(entry))
    found: dict[str, Path] = {}
    for folder in _SYSTEM_FONT_DIRS:
        if folder.is_dir():
            for path in folder.rglob("*"):
                if path.suffix.lower() in _FONT_SUFFIXES:
                    found.setdefault(path.stem.lower(), path)
    for name in _SYSTEM_FONT_NAMES:
        if name in found:
            return found[name]
    raise FileNotFoundError(
        f"no CJK font: install the {FONT_PACKAGE.replace('_', '-')} package "
        "(or Debian's fonts-wqy-microhei / fonts-noto-cjk)"
    )


def _walk_resources(root: Traversable) -> Iterator[Traversable]:
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            yield from _walk_resources(entry)
        elif entry.is_file():
            yield entry


@cache
def _font(size_px: int, path: str) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size_px)


# --------------------------------------------------------------------------------------------
# Known text: the Chinese laws
# --------------------------------------------------------------------------------------------


def _law_file(name_or_path: str | Path) -> Path:
    path = Path(name_or_path)
    if path.is_file():
        return path
    candidates = sorted(ZH_POLICY.glob("*.md"))
    name = str(name_or_path)
    for candidate in candidates:
        if name in (candidate.name, candidate.stem, candidate.stem.split("(")[0]):
            return candidate
    matches = [c for c in candidates if name in c.stem]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise FileNotFoundError(f"no law file {name_or_path!r} (looked in {ZH_POLICY})")
    raise ValueError(
        f"{name_or_path!r} names {len(matches)} law files: {[m.name for m in matches]}"
    )


def law_text(name_or_path: str | Path, *, include_title: bool = False) -> str:
    """The plain text of a law file in ``zh_policy``: one paragraph a line, no blank lines.

    ``name_or_path`` is a path or names a file there: its name, its stem, its stem before the
    date (``"教育法"``; the earliest such file if there are several) or a unique part of it.
    The body is what follows ``<!-- INFO END -->``; Markdown ``#`` marks and ``**`` are
    stripped and runs of spaces (ASCII or ideographic) become one space. With
    ``include_title`` the ``# title`` line before the marker opens the text.
    """
    raw = _law_file(name_or_path).read_text(encoding="utf-8")
    head, marker, body = raw.partition(_INFO_END)
    if not marker:
        head, body = "", raw
    lines: list[str] = []
    if include_title:
        title = next((ln for ln in head.splitlines() if ln.startswith("# ")), "")
        if title:
            lines.append(_clean_line(title))
    lines.extend(cleaned for ln in body.splitlines() if (cleaned := _clean_line(ln)))
    return "\n".join(lines)


def _clean_line(line: str) -> str:
    line = _MARKDOWN_HEADING.sub("", line.strip()).replace("**", "")
    return _SPACES.sub(" ", line).strip()


def law_pages(
    name_or_path: str | Path,
    chars_per_page: int = 1100,
    *,
    line_chars: int = 38,
    include_title: bool = False,
) -> list[str]:
    """A law's text (:func:`law_text`) cut into page-sized pieces at paragraph boundaries, so
    every 第N条 article still opens a line.

    A page takes paragraphs while their cost stays within ``chars_per_page``; a paragraph costs
    the whole lines it fills at ``line_chars`` characters a line (two more for the indent),
    plus half a line for the gap after it, so pages of many short paragraphs hold fewer
    characters. A single-column page of :func:`render_pages` at 12 pt holds about 38 lines of
    38 characters; the defaults use at most 29 of them, which leaves room for a
    ``red_header`` (4 lines) and keeps the seal over text. For ``columns=2`` (18 characters a
    line, about 77 column lines) pass ``line_chars=18``. A paragraph longer than a page is cut
    after a sentence end (。；：) as near the limit as there is one.
    """
    if line_chars < 4 or chars_per_page < 4 * line_chars:
        raise ValueError("need line_chars >= 4 and chars_per_page >= 4 * line_chars")
    pieces: list[str] = []
    for paragraph in law_text(name_or_path, include_title=include_title).split("\n"):
        pieces.extend(_split_long(paragraph, chars_per_page - 2 * line_chars))
    pages: list[str] = []
    current: list[str] = []
    used = 0.0
    for piece in pieces:
        cost = (math.ceil((len(piece) + 2) / line_chars) + 0.5) * line_chars
        if current and used + cost > chars_per_page:
            pages.append("\n".join(current))
            current, used = [], 0.0
        current.append(piece)
        used += cost
    if current:
        pages.append("\n".join(current))
    return pages


def _split_long(paragraph: str, limit: int) -> list[str]:
    parts: list[str] = []
    while len(paragraph) > limit:
        cut = max(paragraph.rfind(mark, 0, limit) for mark in "。；：")
        cut = cut + 1 if cut > 0 else limit
        parts.append(paragraph[:cut])
        paragraph = paragraph[cut:]
    if paragraph:
        parts.append(paragraph)
    return parts


# --------------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    text: str
    x: int
    y: int  # top of the line box
    width: int


@dataclass(frozen=True)
class _Geometry:
    dpi: int
    font_px: int
    line_px: int
    page: tuple[int, int]
    columns: list[tuple[int, int]]  # (left, width) of each column
    top: int
    bottom: int

    @classmethod
    def make(cls, *, dpi: int, columns: int, font_pt: float, margin_mm: float) -> _Geometry:
        def px(mm: float) -> int:
            return round(mm / 25.4 * dpi)

        width, height = px(A4_MM[0]), px(A4_MM[1])
        margin, gutter = px(margin_mm), px(8.0)
        font_px = round(font_pt / 72 * dpi)
        column_width = (width - 2 * margin - (columns - 1) * gutter) // columns
        lefts = [margin + i * (column_width + gutter) for i in range(columns)]
        return cls(
            dpi=dpi,
            font_px=font_px,
            line_px=round(font_px * 1.5),
            page=(width, height),
            columns=[(left, column_width) for left in lefts],
            top=margin,
            bottom=height - margin,
        )


def _is_heading(paragraph: str) -> bool:
    """A chapter/section heading (第一章 总则), or a short line with no punctuation (a title)."""
    if _HEADING.match(paragraph):
        return True
    return len(paragraph) <= 24 and not _SENTENCE_PUNCTUATION.search(paragraph)


def _wrap(paragraph: str, font: ImageFont.FreeTypeFont, first: float, rest: float) -> list[str]:
    """Greedy wrap by glyph advance; closing punctuation hangs instead of opening a line."""
    lines: list[str] = []
    line, used, limit = "", 0.0, first
    for char in paragraph:
        advance = font.getlength(char)
        if line and used + advance > limit and char not in _NO_LINE_START:
            lines.append(line)
            line, used, limit = "", 0.0, rest
        line += char
        used += advance
    lines.append(line)
    return lines


def _layout(
    text: str,
    geometry: _Geometry,
    font: ImageFont.FreeTypeFont,
    *,
    start_y: int,
    page_number: int,
) -> list[_Line]:
    indent = 2 * geometry.font_px
    gap = geometry.line_px // 2
    column = 0
    y = start_y
    placed: list[_Line] = []
    paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
    for index, paragraph in enumerate(paragraphs):
        left, width = geometry.columns[column]
        heading = _is_heading(paragraph)
        wrapped = _wrap(paragraph, font, width if heading else width - indent, width)
        for number, line in enumerate(wrapped):
            if y + geometry.line_px > geometry.bottom:
                column += 1
                if column == len(geometry.columns):
                    raise ValueError(
                        f"page {page_number}: the text does not fit (it overflows at paragraph "
                        f"{index + 1} of {len(paragraphs)}); give it fewer characters"
                    )
                left, width = geometry.columns[column]
                y = geometry.top
            line_width = round(font.getlength(line))
            if heading:
                x = left + max(0, (width - line_width) // 2)
            else:
                x = left + (indent if number == 0 else 0)
            placed.append(_Line(line, x, y, line_width))
            y += geometry.line_px
        y += gap
    return placed


# --------------------------------------------------------------------------------------------
# Degradation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Degradation:
    """What a scan adds to a page, in the order it happens: seal, skew, blur, noise, JPEG.

    ``skew_deg`` is the range of the skew's size (its sign is drawn too); ``noise_sigma`` is
    the standard deviation of the gaussian noise in grey levels; ``salt_fraction`` the share of
    pixels turned black or white; ``jpeg_quality`` None leaves out the JPEG round trip and
    ``seal_text`` None the seal.
    """

    skew_deg: tuple[float, float] = (0.5, 1.5)
    blur_radius: float = 0.6
    noise_sigma: float = 8.0
    salt_fraction: float = 0.001
    jpeg_quality: int | None = 35
    seal_text: str | None = "某某市人力资源和社会保障局"
    seal_diameter_mm: float = 42.0


def _seal(
    diameter: int, text: str, font_path: str, rng: np.random.Generator
) -> tuple[Image.Image, Image.Image]:
    """A round seal: red ring, five-pointed star, the issuer's name along the upper arc.

    Returns the red image and its ink mask (uneven, as a stamp prints).
    """
    size = diameter + 8
    mask = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask)
    centre = size / 2
    radius = diameter / 2
    ring = max(3, round(diameter * 0.03))
    draw.ellipse(
        (centre - radius, centre - radius, centre + radius, centre + radius),
        outline=255,
        width=ring,
    )
    star_r = radius * 0.28
    points = [
        (
            centre + (star_r if k % 2 == 0 else star_r * 0.38) * math.sin(math.pi * k / 5),
            centre - (star_r if k % 2 == 0 else star_r * 0.38) * math.cos(math.pi * k / 5),
        )
        for k in range(10)
    ]
    draw.polygon(points, fill=255)
    char_px = max(8, round(diameter * 0.13))
    font = _font(char_px, font_path)
    span = math.radians(min(250.0, 20.0 * len(text)))
    text_radius = radius - ring - char_px * 0.65
    for i, char in enumerate(text):
        angle = -span / 2 + span * (i + 0.5) / len(text)  # 0 is straight up, clockwise
        glyph = Image.new("L", (char_px * 2, char_px * 2), 0)
        ImageDraw.Draw(glyph).text((char_px, char_px), char, font=font, fill=255, anchor="mm")
        glyph = glyph.rotate(-math.degrees(angle), resample=Image.Resampling.BICUBIC)
        gx = centre + text_radius * math.sin(angle) - char_px
        gy = centre - text_radius * math.cos(angle) - char_px
        mask.paste(255, (round(gx), round(gy)), glyph)
    ink = rng.uniform(0.55, 1.0, size=(size, size))
    mask = Image.fromarray((np.asarray(mask, dtype=np.float64) * ink).astype(np.uint8))
    mask = mask.filter(ImageFilter.GaussianBlur(0.8))
    red = Image.new("RGB", (size, size), STAMP_RED)
    return red, mask


def _press_seal(
    page: Image.Image,
    lines: Sequence[_Line],
    geometry: _Geometry,
    degradation: Degradation,
    font_path: str,
    rng: np.random.Generator,
) -> None:
    if degradation.seal_text is None or not lines:
        return
    diameter = round(degradation.seal_diameter_mm / 25.4 * geometry.dpi)
    red, mask = _seal(diameter, degradation.seal_text, font_path, rng)
    mask = mask.rotate(float(rng.uniform(-20, 20)), resample=Image.Resampling.BICUBIC)
    last = lines[-1]
    left, width = next(
        (col for col in reversed(geometry.columns) if col[0] <= last.x), geometry.columns[0]
    )
    cx = left + width * float(rng.uniform(0.55, 0.8))
    cy = last.y + geometry.line_px * float(rng.uniform(-1.5, 0.5))
    x = round(min(max(cx - red.width / 2, 0), page.width - red.width))
    y = round(min(max(cy - red.height / 2, 0), page.height - red.height))
    # Multiply: red ink over black toner stays black, over paper turns red.
    region = page.crop((x, y, x + red.width, y + red.height))
    inked = ImageChops.multiply(region, red)
    page.paste(Image.composite(inked, region, mask), (x, y))


def _scan(page: Image.Image, degradation: Degradation, rng: np.random.Generator) -> Image.Image:
    low, high = degradation.skew_deg
    angle = float(rng.uniform(low, high)) * (1 if rng.random() < 0.5 else -1)
    if angle:
        page = page.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=PAPER)
    if degradation.blur_radius > 0:
        page = page.filter(ImageFilter.GaussianBlur(degradation.blur_radius))
    pixels = np.asarray(page, dtype=np.float32)
    if degradation.noise_sigma > 0:
        noise = rng.normal(0.0, degradation.noise_sigma, size=pixels.shape[:2])
        pixels = pixels + noise[..., None].astype(np.float32)
    if degradation.salt_fraction > 0:
        speckle = rng.random(size=pixels.shape[:2])
        pixels[speckle < degradation.salt_fraction / 2] = 0.0
        pixels[speckle > 1 - degradation.salt_fraction / 2] = 255.0
    page = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    if degradation.jpeg_quality is not None:
        buffer = io.BytesIO()
        page.save(buffer, "JPEG", quality=degradation.jpeg_quality)
        buffer.seek(0)
        with Image.open(buffer) as compressed:
            page = compressed.convert("RGB")
    return page


# --------------------------------------------------------------------------------------------
# Pages and PDFs
# --------------------------------------------------------------------------------------------


def _red_header(page: Image.Image, header: str, geometry: _Geometry, font_path: str) -> int:
    """Draw the red masthead (issuer + 文件) and the red rule; return where the body starts."""
    draw = ImageDraw.Draw(page)
    left = geometry.columns[0][0]
    right = geometry.columns[-1][0] + geometry.columns[-1][1]
    size = geometry.font_px * 2
    font = _font(size, font_path)
    while size > geometry.font_px and font.getlength(header) > right - left:
        size -= 2
        font = _font(size, font_path)
    y = geometry.top + geometry.line_px
    draw.text(((left + right) / 2, y), header, font=font, fill=STAMP_RED, anchor="mt")
    rule_y = y + size + geometry.line_px
    draw.line((left, rule_y, right, rule_y), fill=STAMP_RED, width=max(2, geometry.dpi // 60))
    return rule_y + geometry.line_px


def render_pages(
    text_pages: Sequence[str],
    *,
    dpi: int = 200,
    columns: int = 1,
    degrade: bool | Degradation = False,
    seed: int = 0,
    font_pt: float = 12.0,
    margin_mm: float = 25.0,
    red_header: str | None = None,
    font_path: str | Path | None = None,
) -> list[Image.Image]:
    """One A4 RGB page image per string, at ``dpi``.

    Each line of a string is a paragraph (blank lines are ignored): its first line is indented
    by two characters and paragraphs are half a line apart; a chapter heading (第一章 ……) and a
    short line without punctuation (a title) are centred. Lines wrap by glyph width, closing
    punctuation hanging rather than opening a line; ``columns=2`` sets two columns, filled left
    first. ``red_header`` (e.g. ``"某某市人民政府文件"``) draws a red masthead and rule on the
    first page, which is not part of ``text_pages``. ``degrade=True`` applies
    :class:`Degradation`'s defaults, a ``Degradation`` those settings; page ``i`` draws from
    ``(seed, i)``.

    Raises ``ValueError`` when a page's text does not fit (see :func:`law_pages`).
    """
    if columns not in (1, 2):
        raise ValueError("columns must be 1 or 2")
    degradation: Degradation | None
    if isinstance(degrade, Degradation):
        degradation = degrade
    else:
        degradation = Degradation() if degrade else None
    path = str(font_path) if font_path is not None else str(cjk_font_path())
    geometry = _Geometry.make(dpi=dpi, columns=columns, font_pt=font_pt, margin_mm=margin_mm)
    font = _font(geometry.font_px, path)
    pages: list[Image.Image] = []
    for number, text in enumerate(text_pages):
        page = Image.new("RGB", geometry.page, PAPER)
        start = geometry.top
        if red_header and number == 0:
            start = _red_header(page, red_header, geometry, path)
        lines = _layout(text, geometry, font, start_y=start, page_number=number + 1)
        draw = ImageDraw.Draw(page)
        for line in lines:
            draw.text((line.x, line.y), line.text, font=font, fill=INK)
        if degradation is not None:
            rng = np.random.default_rng([seed, number])
            _press_seal(page, lines, geometry, degradation, path, rng)
            page = _scan(page, degradation, rng)
        pages.append(page)
    return pages


def write_scanned_pdf(
    path: str | Path,
    text_pages: Sequence[str],
    *,
    dpi: int = 200,
    columns: int = 1,
    degrade: bool | Degradation = False,
    seed: int = 0,
    font_pt: float = 12.0,
    margin_mm: float = 25.0,
    red_header: str | None = None,
    font_path: str | Path | None = None,
    pdf_quality: int = 92,
) -> Path:
    """An image-only PDF of :func:`render_pages`' pages (same arguments): one JPEG image a
    page at ``dpi`` (A4 size), and no text layer, no fonts, nothing a text extractor can read.

    ``pdf_quality`` is the JPEG quality the images are stored with; the artefacts of
    ``degrade`` are already in the pixels, so the default adds little of its own.
    """
    if not text_pages:
        raise ValueError("no pages")
    images = render_pages(
        text_pages,
        dpi=dpi,
        columns=columns,
        degrade=degrade,
        seed=seed,
        font_pt=font_pt,
        margin_mm=margin_mm,
        red_header=red_header,
        font_path=font_path,
    )
    target = Path(path)
    images[0].save(
        target,
        "PDF",
        save_all=True,
        append_images=images[1:],
        resolution=float(dpi),
        quality=pdf_quality,
    )
    return target


def pdf_has_text_layer(path: str | Path) -> bool:
    """Whether pypdf extracts any non-blank text from any page of the PDF."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    return any((page.extract_text() or "").strip() for page in reader.pages)


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------

_NOT_COMPARED = re.compile(r"\s+")


def _edit_distance(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def char_accuracy(reference: str, hypothesis: str) -> float:
    """1 - CER: one minus the character edit distance over the reference length, whitespace
    left out of both (OCR line breaks differ from the layout's); may go below 0 when the
    hypothesis is much longer than the reference. An empty reference scores 1.0 only against
    an empty hypothesis."""
    ref = _NOT_COMPARED.sub("", reference)
    hyp = _NOT_COMPARED.sub("", hypothesis)
    if not ref:
        return 1.0 if not hyp else 0.0
    return 1.0 - _edit_distance(ref, hyp) / len(ref)
