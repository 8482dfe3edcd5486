"""Read a .pdf, .txt, .md or .docx file into a :class:`RawDocument` of normalised page texts.

Loaders only read and normalise; whether the text is worth indexing (empty, scanned, garbled)
is decided afterwards by :mod:`ingest.textcheck`. Every failure a user can act on is raised as
an :class:`~ingest.errors.IngestError` with a reason code; nothing else escapes for a bad file.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.errors import (
    CorruptFileError,
    EmptyDocumentError,
    EncryptedError,
    IngestError,
    TooLargeError,
    UnsupportedFormatError,
)
from ingest.metadata import EDITABLE as META_EDITABLE
from ingest.types import SUPPORTED_SUFFIXES, LoadLimits, Page, RawDocument
from textrules import CJK, HAN, KANA, ZH_NUMERAL

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from docx.oxml.xmlchemy import BaseOxmlElement
    from docx.table import Table
    from docx.text.paragraph import Paragraph
    from pypdf import PdfReader

logger = logging.getLogger(__name__)

_MAX_REASON_CHARS = 160

# --------------------------------------------------------------------------------------------
# Text normalisation (shared by every loader)
# --------------------------------------------------------------------------------------------

# Han ideographs, kana and the CJK symbol/punctuation/full-width blocks. Hangul is deliberately
# absent: Korean separates words with spaces, so spaces next to Hangul are real.
_CJK = CJK
_CJK_SPACE_CJK = re.compile(f"(?<=[{_CJK}]) +(?=[{_CJK}])")
# The space after a structural label is meant ("第一章 总则", "第三条 为了…"): the chunker
# tells a heading from a line-wrapped reference ("第三章规定的…") by it.
_ZH_NUMERAL = ZH_NUMERAL
_ZH_LABEL_BEFORE_SPACE = re.compile(
    f"第[{_ZH_NUMERAL}]+(?:分编|编|部分|章|节|条|款)(?:之[一二三四五六七八九十]+)?$"
)
# Lines that open a unit of structure are never the continuation of the line before
# ("第三条 …", "第二章 …", "一、…"), and a division heading never continues on the next line.
_ZH_UNIT_START = re.compile(
    f"^(?:第[{_ZH_NUMERAL}]+(?:分编|编|部分|章|节|条)(?:之[一二三四五六七八九十]+)?[ \u3000]"
    "|[一二三四五六七八九十]+、)"
)
_TABLE_CELL_SEPARATOR = " | "  # how the .docx loader (and Markdown) writes table rows
_ZH_DIVISION_HEADING = re.compile(f"^第[{_ZH_NUMERAL}]+(?:分编|编|部分|章|节)[ \u3000]")
_LABEL_LOOKBEHIND = 16
_SPACE_RUN = re.compile(r"(?<=[^ \n]) {2,}")  # indentation at a line start is kept
_BLANK_LINE_RUN = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_HYPHENATED_BREAK = re.compile(r"(?<=[A-Za-z])[-\u2010]\n[ \t]*(?=[a-z])")
_SOFT_HYPHEN_BREAK = re.compile("\u00ad\n[ \t]*(?=\\w)")

# A line that ends with one of these ended a sentence (or a clause the author broke on purpose).
_CJK_SENTENCE_END = "。！？；：…」』】〕）》〉”’.!?;:)]"
_CJK_NEVER_STARTS_LINE = frozenset("。，、；：！？）」』】〕》〉”’…")
_HAN_OR_KANA = re.compile(f"[{KANA}{HAN}]")
_CJK_CONTINUATION_END = re.compile(f"[{_CJK}]$")
# A line is a layout break only if it runs (nearly) to the text width; a shorter line is a
# title, a list item or the last line of a paragraph, and its line break is meant.
_FULL_LINE_SHARE = 0.7

# NFKC is not applied (it would turn Chinese full-width punctuation into ASCII), but the Latin
# ligatures that PDF fonts produce (U+FB00..U+FB06) break word search, so they are spelt out.
_LATIN_LIGATURES = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
    }
)
# Invisible characters that only get in the way of matching; ZWJ/ZWNJ are kept (they matter for
# Indic and Persian shaping).
_INVISIBLES = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad"))


def normalize_text(text: str) -> str:
    """Clean extracted text without changing what it says.

    Removes control characters (except newline and tab), unifies line ends, collapses runs of
    spaces, strips trailing spaces, drops soft hyphens, re-joins words hyphenated across a line
    break and Chinese lines broken only by page layout, and removes the spaces PDF extraction
    puts between CJK characters. Paragraph breaks (blank lines) are kept.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2029", "\n\n").replace("\u2028", "\n")
    text = _SOFT_HYPHEN_BREAK.sub("", text)
    text = _drop_unwanted_chars(text.translate(_LATIN_LIGATURES))
    text = _SPACE_RUN.sub(" ", text)
    # per line rather than a `[ \t]+$` regex, which backtracks quadratically on long space runs
    text = "\n".join(line.rstrip(" \t") for line in text.split("\n"))
    text = _HYPHENATED_BREAK.sub("", text)
    text = _CJK_SPACE_CJK.sub(_drop_space_unless_after_label, text)
    text = _join_cjk_layout_breaks(text)
    text = join_latin_line_wraps(text)
    text = _BLANK_LINE_RUN.sub("\n\n", text)
    return text.strip("\n ")


def _drop_unwanted_chars(text: str) -> str:
    """Remove controls and invisibles, turn exotic spaces into plain ones, and replace lone
    surrogates (which some broken PDF fonts produce) by U+FFFD so the text stays encodable."""
    text = text.translate(_INVISIBLES)
    out: list[str] = []
    for ch in text:
        if ch in "\n\t" or ch.isprintable():
            out.append(ch)
            continue
        category = unicodedata.category(ch)
        if category == "Zs":
            out.append(" ")
        elif category == "Cs":
            out.append("\ufffd")
        elif category in ("Cf", "Co", "Cn"):
            # format characters (bidi marks, ZWJ), private use and unassigned code points are
            # kept: they are not layout noise, and the text checks use them as mojibake signals
            out.append(ch)
        # Cc (controls), Zl and Zp were handled above or are dropped here
    return "".join(out)


def _drop_space_unless_after_label(match: re.Match[str]) -> str:
    before = match.string[max(0, match.start() - _LABEL_LOOKBEHIND) : match.start()]
    return " " if _ZH_LABEL_BEFORE_SPACE.search(before) else ""


def _join_cjk_layout_breaks(text: str) -> str:
    """Join lines that a PDF broke in the middle of a Chinese/Japanese sentence."""
    if not _HAN_OR_KANA.search(text):
        return text
    lines = text.split("\n")
    width = _typical_cjk_line_width(lines)
    # Parts of one output line are collected in a list (hard-wrapped Chinese .txt files have
    # thousands of lines to join; repeated string concatenation would be quadratic).
    joined: list[list[str]] = []
    for line in lines:
        if joined and _is_layout_break(joined[-1][-1], line, width):
            joined[-1].append(line.lstrip())
        else:
            joined.append([line])
    return "\n".join("".join(parts) for parts in joined)


def _typical_cjk_line_width(lines: list[str]) -> int:
    lengths = sorted(len(line.strip()) for line in lines if _HAN_OR_KANA.search(line))
    if not lengths:
        return 0
    return lengths[int(0.8 * (len(lengths) - 1))]  # 80th percentile: robust to a few long lines


def _is_layout_break(line: str, following: str, width: int) -> bool:
    stripped, next_line = line.strip(), following.lstrip()
    if not stripped or stripped.startswith(("#", "|", ">")) or _ZH_DIVISION_HEADING.match(stripped):
        return False
    if _TABLE_CELL_SEPARATOR in stripped or _TABLE_CELL_SEPARATOR in next_line:
        return False  # table rows are lines on purpose
    if stripped[-1] in _CJK_SENTENCE_END or not _CJK_CONTINUATION_END.search(stripped):
        return False
    if next_line[:1] in _CJK_NEVER_STARTS_LINE:
        return True  # Chinese typesetting never starts a line with closing punctuation
    if len(stripped) < _FULL_LINE_SHARE * width:
        return False
    return bool(_HAN_OR_KANA.match(next_line)) and not _ZH_UNIT_START.match(next_line)


# A line that a hard wrap cut in the middle of an English sentence ends in a word, a figure or
# mid-sentence punctuation, and the next line goes on with a word, a figure or an opening
# bracket or quote; a numbered heading ("2.1 The main body") or a list item starts afresh.
_LATIN_WRAP_END = re.compile(r"[A-Za-z0-9,;)\]'’”%-]$")
_LATIN_WRAP_START = re.compile(r"[A-Za-z0-9(“\"'‘]")
_LATIN_LINE = re.compile(r"[A-Za-z]{2,}")
_FRESH_LINE_START = re.compile(
    r"(?:#|\||>|[-*•]\s|\d{1,2}(?:\.\d{1,2})*\.?\s+[A-Z]|\(?[a-z0-9]\)\s|[IVX]+\.\s)"
)


#: hard wraps are at 60-100 characters; text whose lines are shorter is not wrapped prose
_MIN_WRAP_WIDTH = 40


def join_latin_line_wraps(text: str) -> str:
    """Join the lines of English paragraphs that were hard-wrapped (a .txt file or a PDF text
    layer broken every ~90 characters), so that a sentence is one line and quotes, excerpts
    and extractive answers never end at a wrap. A short line (a heading, a paragraph's last
    line) ends its paragraph; a blank line always does (paragraphs are kept as they are)."""
    lines = text.split("\n")
    latin = [len(ln.strip()) for ln in lines if _LATIN_LINE.search(ln)]
    if len(latin) < 3:
        return text
    width = sorted(latin)[int(0.8 * (len(latin) - 1))]
    if width < _MIN_WRAP_WIDTH:
        return text  # short lines are lines on purpose, not a wrap
    out: list[list[str]] = []
    pending_blank = 0
    for line in lines:
        if not line.strip():
            pending_blank += 1
            continue
        if out and _is_latin_wrap(out[-1][-1], line, width, across_blank=pending_blank > 0):
            out[-1].append(line.strip())
        else:
            out.extend([[""]] * pending_blank)
            out.append([line])
        pending_blank = 0
    out.extend([[""]] * pending_blank)
    return "\n".join(" ".join(parts) for parts in out)


def _is_latin_wrap(line: str, following: str, width: int, *, across_blank: bool) -> bool:
    stripped, nxt = line.strip(), following.strip()
    if not stripped or stripped.startswith(("#", "|")) or _TABLE_CELL_SEPARATOR in stripped:
        return False
    if not _LATIN_WRAP_END.search(stripped) or not _LATIN_WRAP_START.match(nxt):
        return False
    if _FRESH_LINE_START.match(nxt) or not _LATIN_LINE.search(stripped):
        return False
    if across_blank:  # a blank line is a paragraph break: paragraphs are kept as they are
        return False
    return len(stripped) >= 0.6 * width


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


DEFAULT_LIMITS = LoadLimits()


def load_document(
    path: Path, *, password: str | None = None, limits: LoadLimits = DEFAULT_LIMITS
) -> RawDocument:
    """Read ``path`` into normalised page texts, or raise an :class:`IngestError` saying why not.

    ``password`` is only used for encrypted PDFs whose user password is not empty.
    """
    path = Path(path)
    check_file(path, limits)
    loader = _LOADERS[path.suffix.lower()]
    return loader(path, password, limits)


def check_file(path: Path, limits: LoadLimits) -> None:
    """The checks that need no parsing, in one place (the pipeline runs them before it starts
    a parse worker, the loader again when called on its own): a supported type, readable, not
    empty, within the size limit. Raises an :class:`IngestError` that names the file."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        supported = ", ".join(SUPPORTED_SUFFIXES)
        raise UnsupportedFormatError(
            f"{path.name}: unsupported file type {suffix or '(none)'!r}; supported: {supported}"
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IngestError(f"{path.name}: cannot read the file ({exc.strerror or exc})") from exc
    if size == 0:
        raise EmptyDocumentError(f"{path.name}: the file is empty (0 bytes)")
    if size > limits.max_bytes:
        raise TooLargeError(
            f"{path.name}: {size} bytes ({size / 2**20:.1f} MiB) exceeds the limit of "
            f"{limits.max_bytes} bytes ({limits.max_bytes / 2**20:.1f} MiB)"
        )


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise IngestError(f"{path.name}: cannot read the file ({exc.strerror or exc})") from exc


def _short_reason(exc: BaseException) -> str:
    reason = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    if len(reason) > _MAX_REASON_CHARS:
        reason = reason[: _MAX_REASON_CHARS - 1] + "…"
    return reason


# --------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------


def _load_pdf(path: Path, password: str | None, limits: LoadLimits) -> RawDocument:
    # Imported here so that importing the package does not pay for pypdf until a PDF comes.
    from pypdf import PdfReader

    try:
        stream = path.open("rb")
    except OSError as exc:
        raise IngestError(f"{path.name}: cannot read the file ({exc.strerror or exc})") from exc
    try:
        with stream:
            reader = PdfReader(stream, strict=False)
            _unlock_pdf(reader, password, path.name)
            page_count = _count_pdf_pages(reader, path.name, limits)
            pages = _extract_pdf_pages(reader, path.name)
    except IngestError:
        raise
    # pypdf raises many exception types (and worse) on malformed input; an OSError from inside
    # it is a seek to an offset the file cannot have (a broken startxref), not a read failure
    except Exception as exc:
        raise CorruptFileError(f"{path.name}: not a readable PDF ({_short_reason(exc)})") from exc
    return RawDocument(path=path, pages=pages, page_count=page_count)


def _unlock_pdf(reader: PdfReader, password: str | None, name: str) -> None:
    """Open an encrypted PDF: the empty user password first (permissions-only encryption is
    common and needs no password from the user), then ``password`` if one was given."""
    from pypdf import PasswordType

    if not reader.is_encrypted:
        return
    try:
        if reader.decrypt("") != PasswordType.NOT_DECRYPTED:
            return
        if password is None:
            raise EncryptedError(
                f"{name}: the PDF is encrypted and needs a password; give it with --password"
            )
        if reader.decrypt(password) != PasswordType.NOT_DECRYPTED:
            return
    except IngestError:
        raise
    except Exception as exc:  # unsupported algorithm, missing AES backend, broken /Encrypt
        raise EncryptedError(
            f"{name}: the PDF is encrypted in a way that cannot be opened ({_short_reason(exc)})"
        ) from exc
    raise EncryptedError(f"{name}: the password given for this encrypted PDF is wrong")


def _count_pdf_pages(reader: PdfReader, name: str, limits: LoadLimits) -> int:
    page_count = len(reader.pages)
    if page_count == 0:
        raise EmptyDocumentError(f"{name}: the PDF has no pages")
    if page_count > limits.max_pages:
        raise TooLargeError(
            f"{name}: {page_count} pages exceeds the limit of {limits.max_pages} pages"
        )
    return page_count


def _extract_pdf_pages(reader: PdfReader, name: str) -> list[Page]:
    """Extract page by page; a page whose extraction fails becomes an empty page (the text
    checks then skip it) instead of failing the whole file."""
    pages: list[Page] = []
    failed: list[int] = []
    first_error = ""
    for number, page in enumerate(reader.pages, start=1):
        try:
            text = page.extract_text()
        except Exception as exc:  # one bad content stream must not sink the other pages
            reason = _short_reason(exc)
            logger.warning("%s: text extraction failed on page %d: %s", name, number, reason)
            failed.append(number)
            first_error = first_error or reason
            text = ""
        pages.append(Page(number=number, text=normalize_text(text or "")))
    if failed and len(failed) == len(pages):
        raise CorruptFileError(f"{name}: text extraction failed on every page ({first_error})")
    return pages


# --------------------------------------------------------------------------------------------
# Plain text and Markdown
# --------------------------------------------------------------------------------------------

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _decode_text_file(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else GB18030 (the usual encoding of
    Chinese text files saved on Windows)."""
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif b"\x00" in data:
        raise CorruptFileError(f"{name}: binary data (NUL bytes), not a text file")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CorruptFileError(f"{name}: not valid UTF-8 or GB18030 text")


def _load_txt(path: Path, password: str | None, limits: LoadLimits) -> RawDocument:
    text = _decode_text_file(_read_bytes(path), path.name)
    return RawDocument(
        path=path, pages=[Page(number=None, text=normalize_text(text))], page_count=1
    )


def _load_md(path: Path, password: str | None, limits: LoadLimits) -> RawDocument:
    text = _decode_text_file(_read_bytes(path), path.name).replace("\r\n", "\n")
    meta, body = split_front_matter(text)
    header_meta, body = split_info_header(body)
    meta = {**header_meta, **meta}  # explicit front matter wins over the derived header
    body = strip_html_comments(body)
    return RawDocument(
        path=path, pages=[Page(number=None, text=normalize_text(body))], page_count=1, meta=meta
    )


#: the corpus's own keys, the document metadata an author may set (``ingest.metadata``: level,
#: region, dates, 文号…) and ``summary`` (the document summarises others)
FRONT_MATTER_KEYS: tuple[str, ...] = ("title", "kind", "lang", "sources", *META_EDITABLE, "summary")
_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\n(?P<block>.*?)^---[ \t]*$\n?", re.S | re.M)
_KEY_LINE = re.compile(r"^(?P<key>[A-Za-z_][\w-]*)[ \t]*:(?:[ \t]+(?P<value>.*))?$")
_LIST_ITEM = re.compile(r"^[ \t]*-[ \t]+(?P<item>.*)$")
_INFO_END = "<!-- INFO END -->"


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split a ``---``-delimited front matter block off Markdown text.

    Understands ``key: value`` lines and ``key:`` followed by ``- item`` lines (items joined
    with ``"; "``), which is all the corpus uses; a YAML library is not worth a dependency
    here. Only :data:`FRONT_MATTER_KEYS` are kept.
    """
    match = _FRONT_MATTER.match(text)
    if match is None:
        return {}, text
    values: dict[str, list[str]] = {}
    key: str | None = None
    for line in match.group("block").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if (item := _LIST_ITEM.match(line)) and key is not None:
            values[key].append(_unquote(item.group("item")))
        elif key_line := _KEY_LINE.match(line):
            key = key_line.group("key").lower()
            values[key] = _split_inline_list(key_line.group("value") or "")
        else:
            logger.debug("front matter line not understood: %r", line)
    meta = {k: "; ".join(v for v in vs if v) for k, vs in values.items() if k in FRONT_MATTER_KEYS}
    return {k: v for k, v in meta.items() if v}, text[match.end() :]


def _split_inline_list(value: str) -> list[str]:
    value = value.strip()
    if value.startswith("[") and value.endswith("]"):
        return [_unquote(part) for part in value[1:-1].split(",")]
    return [_unquote(value)] if value else []


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return value.strip()


def strip_html_comments(text: str) -> str:
    """Remove ``<!-- ... -->`` comments; an unclosed ``<!--`` is left as it is.

    A scan with ``str.find`` rather than a lazy regex, which is quadratic on text with many
    unclosed ``<!--``.
    """
    parts: list[str] = []
    position = 0
    while (start := text.find("<!--", position)) != -1:
        end = text.find("-->", start + 4)
        if end == -1:
            break
        parts.append(text[position:start])
        position = end + 3
    parts.append(text[position:])
    return "".join(parts)


def split_info_header(text: str) -> tuple[dict[str, str], str]:
    """Handle the header block of the Chinese law files (title + enactment history, ending at
    ``<!-- INFO END -->``): the history goes to meta, the ``# title`` line stays in the body so
    the chunker still sees the document title."""
    head, marker, rest = text.partition(_INFO_END)
    if not marker:
        return {}, text
    title = ""
    history: list[str] = []
    for line in strip_html_comments(head).splitlines():
        line = line.strip()
        if not title and line.startswith("# "):
            title = line[2:].strip()
        elif line:
            history.append(line)
    meta = {"title": title} if title else {}
    if history:
        meta["history"] = "\n".join(history)
    body = f"# {title}\n\n{rest.lstrip()}" if title else rest.lstrip()
    return meta, body


# --------------------------------------------------------------------------------------------
# Word (.docx)
# --------------------------------------------------------------------------------------------

# A .docx is a zip of XML; refuse one that inflates to far more than the size limit allows.
_DOCX_MAX_INFLATION = 10
_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(?P<level>\d)$", re.IGNORECASE)
_TITLE_STYLES = ("title", "标题")
_MAX_HEADING_LEVEL = 6


def _load_docx(path: Path, password: str | None, limits: LoadLimits) -> RawDocument:
    _check_docx_container(path, limits)
    import docx

    try:
        document = docx.Document(str(path))
        blocks = list(_docx_blocks(document))
    except Exception as exc:  # python-docx/lxml raise KeyError, ValueError, XMLSyntaxError, ...
        raise CorruptFileError(f"{path.name}: not a readable .docx ({_short_reason(exc)})") from exc
    text = normalize_text("\n\n".join(blocks))
    return RawDocument(path=path, pages=[Page(number=None, text=text)], page_count=1)


def _check_docx_container(path: Path, limits: LoadLimits) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CorruptFileError(
            f"{path.name}: not a .docx (zip) file ({_short_reason(exc)})"
        ) from exc
    if inflated > _DOCX_MAX_INFLATION * limits.max_bytes:
        raise TooLargeError(
            f"{path.name}: unpacks to {inflated} bytes, more than the limit of "
            f"{_DOCX_MAX_INFLATION * limits.max_bytes} bytes"
        )


def _docx_blocks(document: DocxDocument) -> Iterator[str]:
    """Body paragraphs and tables in reading order, as Markdown-ish text blocks."""
    from docx.table import Table

    for item in document.iter_inner_content():
        if isinstance(item, Table):
            table = _docx_table_text(item)
            if table:
                yield table
            continue
        text = item.text.strip()
        if not text:
            continue
        level = _docx_heading_level(item)
        yield f"{'#' * level} {text}" if level else text


def _docx_table_text(table: Table) -> str:
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            # a merged cell is returned once per grid column it spans; keep it once
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def _docx_heading_level(paragraph: Paragraph) -> int:
    """Heading level from the style name ("Heading 2", "标题 2", "Title") or, for custom styles
    common in Chinese templates, from the outline level of the paragraph or its style chain."""
    style = paragraph.style
    name = (style.name or "").strip() if style is not None else ""
    if name.lower() in _TITLE_STYLES:
        return 1
    if match := _HEADING_STYLE.match(name):
        return min(int(match.group("level")), _MAX_HEADING_LEVEL) or 1
    outline = _outline_level(paragraph._p)
    depth = 0
    while outline is None and style is not None and depth < 10:  # guard against style cycles
        outline = _outline_level(style.element)
        style = style.base_style
        depth += 1
    if outline is None or not 0 <= outline <= 8:  # 9 is Word's "body text"
        return 0
    return min(outline + 1, _MAX_HEADING_LEVEL)


def _outline_level(element: BaseOxmlElement) -> int | None:
    values = element.xpath("./w:pPr/w:outlineLvl/@w:val")
    try:
        return int(values[0]) if values else None
    except ValueError:
        return None


_Loader = Callable[[Path, str | None, LoadLimits], RawDocument]
_LOADERS: dict[str, _Loader] = {
    ".pdf": _load_pdf,
    ".txt": _load_txt,
    ".md": _load_md,
    ".docx": _load_docx,
}
