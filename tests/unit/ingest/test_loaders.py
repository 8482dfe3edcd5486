"""Loaders and text normalisation, on fixtures generated in tmp_path.

PDFs are written with pypdf alone (no font files): English with the standard Type1 Helvetica,
Chinese with the Adobe CID font STSong-Light in the UniGB-UCS2-H encoding, which pypdf maps back
to Unicode without any font program. (This machine has no CJK TrueType font, and none is
needed.) "Garbled" Chinese PDFs pass GBK codes or raw CIDs through Identity-H without a
ToUnicode map, which is how real Chinese PDFs turn into mojibake.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

from ingest.errors import (
    CorruptFileError,
    EmptyDocumentError,
    EncryptedError,
    GarbledTextError,
    IngestError,
    NoTextLayerError,
    TooLargeError,
    UnsupportedFormatError,
)
from ingest.loaders import (
    load_document,
    normalize_text,
    split_front_matter,
    split_info_header,
    strip_html_comments,
)
from ingest.textcheck import screen_document
from ingest.types import LoadLimits
from tests.support.guards import hang_guard

# --------------------------------------------------------------------------------------------
# PDF fixtures
# --------------------------------------------------------------------------------------------

N = NameObject


def _helvetica() -> DictionaryObject:
    return DictionaryObject(
        {N("/Type"): N("/Font"), N("/Subtype"): N("/Type1"), N("/BaseFont"): N("/Helvetica")}
    )


def _cid_font(writer: PdfWriter, encoding: str) -> DictionaryObject:
    descendant = DictionaryObject(
        {
            N("/Type"): N("/Font"),
            N("/Subtype"): N("/CIDFontType0"),
            N("/BaseFont"): N("/STSong-Light"),
            N("/CIDSystemInfo"): DictionaryObject(
                {
                    N("/Registry"): TextStringObject("Adobe"),
                    N("/Ordering"): TextStringObject("GB1"),
                    N("/Supplement"): NumberObject(2),
                }
            ),
        }
    )
    return DictionaryObject(
        {
            N("/Type"): N("/Font"),
            N("/Subtype"): N("/Type0"),
            N("/BaseFont"): N("/STSong-Light"),
            N("/Encoding"): N(encoding),
            N("/DescendantFonts"): ArrayObject([writer._add_object(descendant)]),
        }
    )


def _gray_image(writer: PdfWriter) -> StreamObject:
    image = StreamObject()
    image._data = zlib.compress(bytes([200]) * 64)
    image.update(
        {
            N("/Type"): N("/XObject"),
            N("/Subtype"): N("/Image"),
            N("/Width"): NumberObject(8),
            N("/Height"): NumberObject(8),
            N("/ColorSpace"): N("/DeviceGray"),
            N("/BitsPerComponent"): NumberObject(8),
            N("/Filter"): N("/FlateDecode"),
        }
    )
    return image


FontFactory = Callable[[PdfWriter], DictionaryObject]


def write_pdf(
    path: Path, contents: Sequence[bytes], font: FontFactory | None = None, image: bool = False
) -> Path:
    """One content stream per page; ``/F1`` is ``font``, ``/Im1`` a small gray image."""
    writer = PdfWriter()
    for content in contents:
        page = writer.add_blank_page(width=595, height=842)
        resources = DictionaryObject()
        if font is not None:
            resources[N("/Font")] = DictionaryObject({N("/F1"): writer._add_object(font(writer))})
        if image:
            resources[N("/XObject")] = DictionaryObject(
                {N("/Im1"): writer._add_object(_gray_image(writer))}
            )
        page[N("/Resources")] = resources
        stream = DecodedStreamObject()
        stream.set_data(content)
        page[N("/Contents")] = writer._add_object(stream)
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def _pdf_string(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("latin-1") + b")"


def english_page(*lines: str) -> bytes:
    ops = [b"BT /F1 12 Tf 72 760 Td 16 TL"]
    ops += [_pdf_string(line) + b" '" for line in lines]
    return b" ".join([*ops, b"ET"])


def _ucs2(text: str) -> bytes:
    return b"<" + text.encode("utf-16-be").hex().upper().encode() + b">"


def chinese_page(*lines: str, spaced: str = "") -> bytes:
    """Lines in STSong-Light/UniGB-UCS2-H; ``spaced`` is drawn glyph by glyph with gaps, which
    pypdf extracts as "产 教 融 合"."""
    ops = [b"BT /F1 12 Tf 72 760 Td 16 TL"]
    if spaced:
        ops.append(b"[" + b" -800 ".join(_ucs2(ch) for ch in spaced) + b"] TJ T*")
    ops += [_ucs2(line) + b" '" for line in lines]
    return b" ".join([*ops, b"ET"])


def identity_page(codes: bytes) -> bytes:
    """Raw 2-byte codes through Identity-H with no ToUnicode map (a broken Chinese PDF)."""
    return b"BT /F1 12 Tf 72 760 Td <" + codes.hex().upper().encode() + b"> Tj ET"


def helvetica(writer: PdfWriter) -> DictionaryObject:
    return _helvetica()


def stsong(writer: PdfWriter) -> DictionaryObject:
    return _cid_font(writer, "/UniGB-UCS2-H")


def identity(writer: PdfWriter) -> DictionaryObject:
    return _cid_font(writer, "/Identity-H")


def encrypt_copy(source: Path, target: Path, *, user: str, owner: str) -> Path:
    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=user, owner_password=owner, algorithm="AES-256")
    with target.open("wb") as fh:
        writer.write(fh)
    return target


EN_PAGE_1 = (
    "Shared training bases",
    "Colleges and enterprises build shared training bases where students practise on",
    "real production lines. The enterprise provides equipment and mentors.",
)
EN_PAGE_2 = (
    "Dual-qualified teachers",
    "Teachers spend time in enterprises every year so that their teaching follows",
    "current practice, and engineers from industry teach courses at the college.",
)
ZH_LINES = (
    "第一章 总则",
    "第一条 为了深化产教融合，推动校企合作，提高技术技能人才培养",
    "质量，制定本办法。",
    "第二条 职业学校和企业可以共建实训基地、产业学院和技术创新平",
    "台，地方政府对参与校企合作的企业给予财政补助和税收优惠。",
)


@pytest.fixture()
def english_pdf(tmp_path: Path) -> Path:
    pages = [english_page(*EN_PAGE_1), english_page(*EN_PAGE_2)]
    return write_pdf(tmp_path / "english.pdf", pages, helvetica)


# --------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------


def test_pdf_pages_are_numbered_from_one_and_keep_their_text(english_pdf: Path) -> None:
    raw = load_document(english_pdf)

    assert raw.page_count == 2
    assert [page.number for page in raw.pages] == [1, 2]
    assert raw.pages[0].text.startswith("Shared training bases\nColleges and enterprises")
    assert "engineers from industry teach courses" in raw.pages[1].text
    assert raw.meta == {}


def test_pdf_suffix_is_matched_case_insensitively(english_pdf: Path) -> None:
    upper = english_pdf.rename(english_pdf.with_name("ENGLISH.PDF"))
    assert load_document(upper).page_count == 2


def test_encrypted_pdf_without_password_asks_for_one(english_pdf: Path, tmp_path: Path) -> None:
    locked = encrypt_copy(english_pdf, tmp_path / "locked.pdf", user="s3cret", owner="owner")

    with pytest.raises(EncryptedError, match="--password") as info:
        load_document(locked)
    assert info.value.reason == "encrypted"


def test_encrypted_pdf_with_wrong_password_says_so(english_pdf: Path, tmp_path: Path) -> None:
    locked = encrypt_copy(english_pdf, tmp_path / "locked.pdf", user="s3cret", owner="owner")

    with pytest.raises(EncryptedError, match="wrong"):
        load_document(locked, password="qwerty")


def test_encrypted_pdf_opens_with_user_or_owner_password(english_pdf: Path, tmp_path: Path) -> None:
    locked = encrypt_copy(english_pdf, tmp_path / "locked.pdf", user="s3cret", owner="owner")

    for password in ("s3cret", "owner"):
        raw = load_document(locked, password=password)
        assert [page.number for page in raw.pages] == [1, 2]
        assert "Shared training bases" in raw.pages[0].text


def test_pdf_with_empty_user_password_opens_without_one(english_pdf: Path, tmp_path: Path) -> None:
    # permissions-only encryption ("copy-protected"): anyone may open it
    protected = encrypt_copy(english_pdf, tmp_path / "protected.pdf", user="", owner="owner")

    raw = load_document(protected, password="ignored")
    assert "Dual-qualified teachers" in raw.pages[1].text


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9])
def test_truncated_pdf_is_corrupt(english_pdf: Path, tmp_path: Path, keep: float) -> None:
    data = english_pdf.read_bytes()
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(data[: int(len(data) * keep)])

    with pytest.raises(CorruptFileError, match="not a readable PDF") as info:
        load_document(broken)
    assert info.value.reason == "corrupt"
    assert len(info.value.message) < 300  # a short reason, not a traceback


def test_non_pdf_bytes_with_pdf_suffix_are_corrupt(tmp_path: Path) -> None:
    fake = tmp_path / "fake.pdf"
    fake.write_text("this is not a PDF at all", encoding="utf-8")

    with pytest.raises(CorruptFileError):
        load_document(fake)


def test_zero_byte_file_is_empty(tmp_path: Path) -> None:
    for name in ("empty.pdf", "empty.txt", "empty.md", "empty.docx"):
        path = tmp_path / name
        path.write_bytes(b"")
        with pytest.raises(EmptyDocumentError, match="0 bytes"):
            load_document(path)


def test_size_limit_is_checked_first_and_names_both_numbers(english_pdf: Path) -> None:
    size = english_pdf.stat().st_size

    with pytest.raises(TooLargeError) as info:
        load_document(english_pdf, limits=LoadLimits(max_bytes=100))
    assert str(size) in info.value.message
    assert "100 bytes" in info.value.message
    assert info.value.reason == "too_large"


def test_page_limit_is_checked_before_any_extraction(
    english_pdf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    original = PageObject.extract_text

    def counting(self: PageObject, *args: object, **kwargs: object) -> str:
        calls.append(1)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(PageObject, "extract_text", counting)

    with pytest.raises(TooLargeError, match="2 pages exceeds the limit of 1 pages"):
        load_document(english_pdf, limits=LoadLimits(max_pages=1))
    assert calls == []


def test_a_page_that_fails_to_extract_becomes_an_empty_page(
    english_pdf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = PageObject.extract_text
    calls: list[int] = []

    def failing_on_second(self: PageObject, *args: object, **kwargs: object) -> str:
        calls.append(1)
        if len(calls) == 2:
            raise KeyError("/Font")
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(PageObject, "extract_text", failing_on_second)

    raw = load_document(english_pdf)
    assert [page.number for page in raw.pages] == [1, 2]
    assert "Shared training bases" in raw.pages[0].text
    assert raw.pages[1].text == ""


def test_pdf_whose_every_page_fails_is_corrupt(
    english_pdf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def always_failing(self: PageObject, *args: object, **kwargs: object) -> str:
        raise ValueError("broken content stream")

    monkeypatch.setattr(PageObject, "extract_text", always_failing)

    with pytest.raises(CorruptFileError, match=r"every page.*ValueError: broken content stream"):
        load_document(english_pdf)


def test_image_only_pdf_loads_empty_pages_and_is_screened_as_no_text_layer(
    tmp_path: Path,
) -> None:
    scan = write_pdf(tmp_path / "scan.pdf", [b"q 400 0 0 400 72 300 cm /Im1 Do Q"] * 3, image=True)

    raw = load_document(scan)
    assert [(page.number, page.text) for page in raw.pages] == [(1, ""), (2, ""), (3, "")]
    with pytest.raises(NoTextLayerError, match="no text layer on any of 3 pages") as info:
        screen_document(raw)
    assert info.value.reason == "no_text_layer"


def test_chinese_pdf_is_cleaned_of_glyph_spacing_and_layout_line_breaks(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "zh.pdf", [chinese_page(*ZH_LINES, spaced="产教融合")], stsong)

    text = load_document(pdf).pages[0].text

    assert text.split("\n") == [
        "产教融合",
        "第一章 总则",
        "第一条 为了深化产教融合，推动校企合作，提高技术技能人才培养质量，制定本办法。",
        "第二条 职业学校和企业可以共建实训基地、产业学院和技术创新平台，地方政府对参与校企合作的"
        "企业给予财政补助和税收优惠。",
    ]
    assert screen_document(load_document(pdf)).pages[0].number == 1


def test_chinese_pdf_with_gbk_codes_and_no_unicode_map_is_garbled(tmp_path: Path) -> None:
    # A font that passes GBK codes on as if they were Unicode: Hangul and Yi soup.
    sentence = "".join(ZH_LINES)
    codes = sentence.encode("gbk")
    pdf = write_pdf(tmp_path / "gbk.pdf", [identity_page(codes)], identity)

    raw = load_document(pdf)
    assert "产教融合" not in raw.pages[0].text
    with pytest.raises(GarbledTextError, match="page 1") as info:
        screen_document(raw)
    assert info.value.reason == "garbled"


def test_chinese_pdf_with_raw_cids_is_garbled(tmp_path: Path) -> None:
    # Adobe-GB1 CIDs read as code points land in a dozen unrelated scripts.
    cids = b"".join((4000 + (i * 37) % 3000).to_bytes(2, "big") for i in range(120))
    pages = [identity_page(cids)] * 2
    pdf = write_pdf(tmp_path / "cids.pdf", pages, identity)

    with pytest.raises(GarbledTextError, match="2 of 2 pages with text"):
        screen_document(load_document(pdf))


# --------------------------------------------------------------------------------------------
# Plain text
# --------------------------------------------------------------------------------------------

ZH_TEXT = "产教融合是职业教育发展的必由之路。\n\n学校与企业共建实训基地。"


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("utf-8", ZH_TEXT),
        ("utf-8-sig", ZH_TEXT),
        ("gb18030", ZH_TEXT),
        ("utf-16", ZH_TEXT),
        ("utf-8", "Order classes\n\nAn order class trains students for one employer."),
    ],
)
def test_text_file_is_decoded_to_one_unnumbered_page(
    tmp_path: Path, encoding: str, text: str
) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(text.encode(encoding))

    raw = load_document(path)

    assert raw.page_count == 1
    assert [(page.number, page.text) for page in raw.pages] == [(None, text)]


def test_text_file_in_neither_utf8_nor_gb18030_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"caf\xe9 \x80\xff")

    with pytest.raises(CorruptFileError, match="not valid UTF-8 or GB18030 text"):
        load_document(path)


def test_binary_file_with_txt_suffix_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

    with pytest.raises(CorruptFileError, match="binary"):
        load_document(path)


def test_text_file_of_whitespace_is_screened_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "blank.txt"
    path.write_text(" \n\n\t \r\n", encoding="utf-8")

    raw = load_document(path)
    assert raw.pages[0].text == ""
    with pytest.raises(EmptyDocumentError):
        screen_document(raw)


def test_unsupported_suffix_is_refused_before_reading(tmp_path: Path) -> None:
    for name in ("sheet.xlsx", "README", "scan.png"):
        path = tmp_path / name
        path.write_bytes(b"")  # 0 bytes: the suffix decides first
        with pytest.raises(
            UnsupportedFormatError, match=re.escape("supported: .pdf, .txt, .md, .docx")
        ):
            load_document(path)


def test_missing_file_is_an_ingest_error(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="cannot read"):
        load_document(tmp_path / "nowhere.txt")


# --------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------


def test_markdown_front_matter_goes_to_meta_and_out_of_the_text(tmp_path: Path) -> None:
    path = tmp_path / "case.md"
    path.write_text(
        "---\n"
        "title: 订单班案例\n"
        "kind: case\n"
        'lang: "zh"\n'
        "sources:\n"
        "  - 教育部 2019\n"
        "  - 'Interview notes'\n"
        "author: somebody  # not a kept key\n"
        "---\n\n"
        "# 订单班案例\n\n"
        "<!-- editor's note -->某职业学院与企业合作开设订单班。\n",
        encoding="utf-8",
    )

    raw = load_document(path)

    assert raw.meta == {
        "title": "订单班案例",
        "kind": "case",
        "lang": "zh",
        "sources": "教育部 2019; Interview notes",
    }
    assert raw.pages[0].text == "# 订单班案例\n\n某职业学院与企业合作开设订单班。"


def test_front_matter_inline_list_and_missing_close() -> None:
    meta, body = split_front_matter("---\nsources: [a, 'b c']\ntitle:\n---\nBody")
    assert meta == {"sources": "a; b c"}
    assert body == "Body"

    text = "---\ntitle: never closed\n\nBody text"
    assert split_front_matter(text) == ({}, text)
    assert split_front_matter("No front matter\n---\n") == ({}, "No front matter\n---\n")


def test_policy_header_history_goes_to_meta_and_title_stays_in_body(tmp_path: Path) -> None:
    path = tmp_path / "教育法.md"
    path.write_text(
        "# 中华人民共和国教育法\n\n"
        "1995年3月18日 第八届全国人民代表大会第三次会议通过\n\n"
        "2021年4月29日 第十三届全国人民代表大会常务委员会第二十八次会议第三次修正\n\n"
        "<!-- INFO END -->\n\n"
        "## 第一章 总则\n\n"
        "第一条 为了发展教育事业，提高全民族的素质，制定本法。\n",
        encoding="utf-8",
    )

    raw = load_document(path)

    assert raw.meta == {
        "title": "中华人民共和国教育法",
        "history": "1995年3月18日 第八届全国人民代表大会第三次会议通过\n"
        "2021年4月29日 第十三届全国人民代表大会常务委员会第二十八次会议第三次修正",
    }
    assert raw.pages[0].text == (
        "# 中华人民共和国教育法\n\n## 第一章 总则\n\n"
        "第一条 为了发展教育事业，提高全民族的素质，制定本法。"
    )


def test_front_matter_title_wins_over_header_title() -> None:
    # the loader merges header meta first, then front matter over it
    meta, body = split_front_matter("---\ntitle: Chosen\n---\n# Header\n\nold\n<!-- INFO END -->x")
    header, rest = split_info_header(body)
    assert {**header, **meta}["title"] == "Chosen"
    assert rest == "# Header\n\nx"


def test_html_comments_are_stripped_and_unclosed_ones_kept() -> None:
    assert strip_html_comments("a<!-- x -->b<!--\nmulti\nline-->c") == "abc"
    assert strip_html_comments("a <!-- never closed") == "a <!-- never closed"


def test_html_comment_stripping_ends_on_hostile_input() -> None:
    """Linear time is measured in bench/text_rules_bench.py; here, that it ends and keeps an
    unclosed comment."""
    hostile = "<!--" * 200_000
    with hang_guard():
        assert strip_html_comments(hostile) == hostile
        meta, body = split_front_matter("---\n" + "key: value\n" * 100_000)
    assert isinstance(meta, dict) and isinstance(body, str)


# --------------------------------------------------------------------------------------------
# Word
# --------------------------------------------------------------------------------------------


def _set_outline_level(element: object, level: int) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    ppr = element.get_or_add_pPr()  # type: ignore[attr-defined]
    outline = OxmlElement("w:outlineLvl")
    outline.set(qn("w:val"), str(level))
    ppr.append(outline)


def write_docx(path: Path) -> Path:
    import docx
    from docx.enum.style import WD_STYLE_TYPE

    document = docx.Document()
    document.add_heading("校企合作方案", level=0)
    document.add_heading("一、总体目标", level=1)
    document.add_paragraph("学校与企业共建产业学院。")
    document.add_paragraph("")  # empty paragraphs are dropped
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate(
        [("项目", "负责方", "经费"), ("实训基地", "企业", "50万"), ("", "", "")]
    ):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    merged = table.cell(1, 1).merge(table.cell(1, 2))
    merged.text = "企业与学校"
    document.add_heading("Details", level=2)
    custom = document.styles.add_style("Custom Chapter", WD_STYLE_TYPE.PARAGRAPH)
    _set_outline_level(custom.element, 1)
    document.add_paragraph("Custom styled heading", style=custom)
    marked = document.add_paragraph("Paragraph with its own outline level")
    _set_outline_level(marked._p, 0)
    document.add_paragraph("Final paragraph.")
    document.save(str(path))
    return path


def test_docx_keeps_reading_order_headings_and_table_rows(tmp_path: Path) -> None:
    raw = load_document(write_docx(tmp_path / "plan.docx"))

    assert raw.page_count == 1
    assert raw.pages[0].number is None
    assert raw.pages[0].text.split("\n\n") == [
        "# 校企合作方案",
        "# 一、总体目标",
        "学校与企业共建产业学院。",
        "项目 | 负责方 | 经费\n实训基地 | 企业与学校",
        "## Details",
        "## Custom styled heading",
        "# Paragraph with its own outline level",
        "Final paragraph.",
    ]


def test_docx_that_is_not_a_zip_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "old.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0 an old binary .doc")

    with pytest.raises(CorruptFileError, match=re.escape("not a .docx")):
        load_document(path)


def test_docx_zip_without_a_document_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "hollow.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a word document")

    with pytest.raises(CorruptFileError, match=re.escape("not a readable .docx")):
        load_document(path)


def test_truncated_docx_is_corrupt(tmp_path: Path) -> None:
    good = write_docx(tmp_path / "plan.docx")
    broken = tmp_path / "broken.docx"
    broken.write_bytes(good.read_bytes()[:2000])

    with pytest.raises(CorruptFileError):
        load_document(broken)


def test_docx_that_inflates_beyond_the_limit_is_too_large(tmp_path: Path) -> None:
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", "0" * 2_000_000)

    with pytest.raises(TooLargeError, match="unpacks to"):
        load_document(path, limits=LoadLimits(max_bytes=100_000))


def test_empty_docx_is_screened_as_empty(tmp_path: Path) -> None:
    import docx

    path = tmp_path / "blank.docx"
    docx.Document().save(str(path))

    raw = load_document(path)
    assert raw.pages[0].text == ""
    with pytest.raises(EmptyDocumentError, match="no text"):
        screen_document(raw)


# --------------------------------------------------------------------------------------------
# normalize_text
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hello   world  \r\nnext\tline   \r\rend", "Hello world\nnext\tline\n\nend"),
        ("one\n\n\n\n\ntwo", "one\n\ntwo"),
        (
            "ctrl\x00\x01chars\x1b, C1\x85 and\u200b zero\ufeff width",
            "ctrlchars, C1 and zero width",
        ),
        ("soft\u00adhyphen and bro\u00ad\n  ken", "softhyphen and broken"),
        ("collabo-\nration, well-\nKnown, 2020-\n2021", "collaboration, well-\nKnown, 2020-\n2021"),
        ("oﬀen Deﬁnition ﬂow", "offen Definition flow"),
        ("产 教 融 合 是 职 业 教 育", "产教融合是职业教育"),
        ("产教　融合", "产教融合"),  # ideographic space
        ("## 第一章  总则", "## 第一章 总则"),  # the space after a label is structure
        ("第三十条之一 内容", "第三十条之一 内容"),
        ("依照本法第 三 条", "依照本法第三条"),
        ("한국어 텍스트 입니다", "한국어 텍스트 입니다"),  # Korean spaces are words
        ("ERP 系统 and 校企 cooperation", "ERP 系统 and 校企 cooperation"),
        ("全角标点：，。！（）保持不变", "全角标点：，。！（）保持不变"),  # no NFKC
        ("ＡＢＣ１２３", "ＡＢＣ１２３"),
        ("line one\u2028line two\u2029para", "line one\nline two\n\npara"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("a\u00a0b\u2003c", "a b c"),
        ("  - indented   list", "- indented list"),
        ("first\n    - nested   item", "first\n    - nested item"),
    ],
)
def test_normalize_text_examples(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_chinese_layout_breaks_are_joined_but_structure_is_kept() -> None:
    text = (
        "第二章 职业学校和企业在产教融合中的权利和义务关系\n"
        "第三条 职业学校和企业可以共建实训基地、产业学院和技术创新\n"
        "平台，并且提高技术技能人才培养质量和水平，实现互利共赢\n"
        "一、总体要求和基本原则以及主要目标任务和保障措施内容\n"
        "第四条 行业组织发挥中介作用，协调学校与企业的利益关系。\n"
        "短标题\n"
        "下一段落从这里开始，这是一行很长的正文内容，用来确定行宽\n"
        "。"
    )
    assert normalize_text(text).split("\n") == [
        "第二章 职业学校和企业在产教融合中的权利和义务关系",
        "第三条 职业学校和企业可以共建实训基地、产业学院和技术创新平台，并且提高技术技能人才培养"
        "质量和水平，实现互利共赢",
        "一、总体要求和基本原则以及主要目标任务和保障措施内容",
        "第四条 行业组织发挥中介作用，协调学校与企业的利益关系。",
        "短标题",
        "下一段落从这里开始，这是一行很长的正文内容，用来确定行宽。",
    ]


@pytest.mark.parametrize(
    "hostile",
    [
        " " * 1_000_000 + "x",
        ("产" + " " * 50_000 + "x\n") * 20,
        "a-\n" * 200_000,
        "产 " * 200_000,
        ("很长的一行中文没有标点符号用来测试换行合并" * 3 + "\n") * 20_000,
        "\n \n" * 200_000,
        "\x00\x01" * 300_000,
    ],
    ids=["space-run", "cjk-space-runs", "hyphens", "spaced-cjk", "wrapped-zh", "blanks", "ctrl"],
)
def test_normalize_text_ends_on_hostile_input(hostile: str) -> None:
    """Its time on these inputs is measured in bench/text_rules_bench.py."""
    with hang_guard():
        out = normalize_text(hostile)
    assert len(out) <= len(hostile)


# Characters worth mixing: Latin, CJK, Hangul, punctuation, spaces of all kinds, controls,
# hyphens, soft hyphens, ligatures, surrogates and private use.
_ALPHABET = st.sampled_from(
    list("abcXYZ -\t.,;:!?'\"()")
    + list("产教融合。，、第一条章（）「」")
    + ["한", "국"]
    + ["\u00ad", "\u00a0", "\u3000", "\u200b", "\ufeff", "\ufb01", "\ufffd", "\ue000"]
    + ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\r", "\u2028", "\ud800"]
)
_TEXT = st.one_of(st.text(_ALPHABET, max_size=300), st.text(max_size=300))


def _is_forbidden_control(ch: str) -> bool:
    return ch not in "\n\t" and unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT)
def test_normalize_text_output_is_clean(text: str) -> None:
    out = normalize_text(text)

    assert not any(_is_forbidden_control(ch) for ch in out)
    assert "\r" not in out and "\n\n\n" not in out and "\u00ad" not in out
    assert all(line == line.rstrip(" \t") for line in out.split("\n"))
    assert all("  " not in line.lstrip(" ") for line in out.split("\n"))
    assert out == out.strip("\n ")
    out.encode("utf-8")  # always encodable (lone surrogates are replaced)


@settings(max_examples=200, deadline=None)
@given(_TEXT)
def test_normalize_text_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


_PARAGRAPH_PIECES = st.lists(
    st.sampled_from(
        [*"abc XYZ-.,\t", *"产教融合。，第一条", "\n", "\x00", "\u00ad", "\u200b", " \n", "-\n"]
    ),
    max_size=40,
).map("".join)
_PARAGRAPH = st.tuples(_PARAGRAPH_PIECES, st.sampled_from(list("aZ产합")), _PARAGRAPH_PIECES).map(
    "".join
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PARAGRAPH, min_size=1, max_size=8), st.sampled_from(["\n\n", "\n \n", "\n\n\n"]))
def test_normalize_text_keeps_the_paragraph_count(paragraphs: list[str], separator: str) -> None:
    # each generated paragraph holds at least one letter and no blank line of its own
    paragraphs = [p for p in (_without_blank_lines(p) for p in paragraphs) if p]
    text = separator.join(paragraphs)

    blocks = [block for block in normalize_text(text).split("\n\n") if block.strip()]
    assert len(blocks) == len(paragraphs)


def _without_blank_lines(paragraph: str) -> str:
    lines = [line for line in paragraph.split("\n") if normalize_text(line)]
    return "\n".join(lines)
