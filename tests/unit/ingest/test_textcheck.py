"""Page verdicts (ok / empty / garbled) and the document-level decisions of the text checks.

Garbled samples are produced the way real mojibake is: bytes decoded with the wrong codec,
CIDs or GBK codes taken for Unicode, Caesar-shifted glyph ids.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.errors import EmptyDocumentError, GarbledTextError, NoTextLayerError
from ingest.loaders import normalize_text
from ingest.textcheck import (
    MAX_EMPTY_PAGE_SHARE,
    MAX_GARBLED_PAGE_SHARE,
    PageVerdict,
    assess_page,
    common_han_characters,
    measure_text,
    screen_document,
)
from ingest.types import Page, RawDocument
from tests.support.guards import hang_guard

EN = (
    "The collaboration of industry, learning and research is the focus of higher vocational "
    "education in recent years. Many colleges have begun to practise collaborative innovation "
    "in teaching, but the mechanism for training talent is still not mature, and some problems "
    "have been exposed in practice."
)
ZH = (
    "第一条 为了深化产教融合，推动校企合作，提高技术技能人才培养质量，制定本办法。"
    "第二条 职业学校和企业可以共建实训基地、产业学院和技术创新平台。地方政府对参与校企合作的"
    "企业给予财政补助和税收优惠，行业组织发挥中介作用，协调学校与企业的利益。"
)
ZH_TRADITIONAL = (
    "國立臺灣大學電機資訊學院與產業界合作，培養具備實務能力的專業人才，並推動技職教育。"
    "學校應當與企業聯繫，進行實習訓練，這個問題還沒有解決，請參閱網頁資料。"
)
JA = (
    "東京都千代田区霞が関の文部科学省は、産学官連携の推進について通知を発出した。"
    "大学と企業の共同研究を促進するため、新たな支援制度を設ける方針である。"
)
KO = "산학협력은 대학과 기업이 함께 인재를 양성하는 제도입니다. 정부는 재정 지원을 확대합니다."
MULTILANG = (
    "English:\nHello World\nArabic:\nمرحبا بالعالم\nRussian:\nПривет, мир\nChinese:\n你好世界\n"
    "Thai:\nสวัสดีชาวโลก\nJapanese:\nこんにちは世界"
)
ZH_MATH = (
    "设α、β、γ为三角形的三个内角，则α+β+γ=π。若λ>0，则函数f(x)=λx在区间上单调递增，其中σ为标准差。"
)
ZH_CHEMISTRY = (
    "对羟基苯甲酸乙酯、山梨酸钾和苯甲酸钠是常用的防腐剂，氘和氚是氢的同位素，"
    "镓、锗、铟、铊均为稀有金属，在半导体产业中有重要用途。"
)
EN_BULLETS = "\n".join(f"\uf0b7 Item {i}: shared training base with partner firm" for i in range(8))
EN_TOC = "Contents\n" + "\n".join(f"{i}. Chapter {i} {'.' * 60} {i * 7}" for i in range(1, 12))


def _shift(text: str, offset: int) -> str:
    """Glyph ids off by a constant: what a font with a non-Unicode CMap yields."""
    return "".join(chr(ord(ch) + offset) if ch.isalpha() else ch for ch in text)


# --------------------------------------------------------------------------------------------
# assess_page: real text is ok
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        EN,
        ZH,
        ZH_TRADITIONAL,
        JA,
        KO,
        MULTILANG,
        ZH_MATH,
        ZH_CHEMISTRY,
        EN_BULLETS,
        EN_TOC,
        "Hello",
        "Secret!",
        "Hi",
        "你好",
        "Name\nCheck\nSubmit\n1",
        "pdf encryption test password: asdfzxcv",
        "Peněžní prostředky na účtech, Termin płatności: 2021-05-03, Übungsaufgaben",
        "Donaudampfschifffahrtsgesellschaftskapitän Stichwortverzeichnis Inhaltsverzeichnis",
        "Le café où l’élève a étudié. « Ça va ? » NÃO, PÂTE, São Paulo",
        "产教融合 ERP系统 CRM平台 5G+工业互联网 AI赋能职业教育 PLC编程 Python课程",
    ],
    ids=lambda text: text[:24],
)
def test_real_text_is_ok(text: str) -> None:
    verdict = assess_page(text)
    assert verdict.status == "ok", verdict.detail


# --------------------------------------------------------------------------------------------
# assess_page: empty
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("", "no text"),
        (" \n\t\n", "no text"),
        ("1", "no words"),
        ("2021 3 31", "no words"),
        ("0 2 4 6 8\n0\n2\n4\n6\n8", "no words"),
        ("- 12 -", "no words"),
        ("I", "no words"),
    ],
)
def test_text_without_words_is_empty(text: str, detail: str) -> None:
    verdict = assess_page(text)
    assert verdict.status == "empty"
    assert verdict.detail.startswith(detail)


# --------------------------------------------------------------------------------------------
# assess_page: garbled
# --------------------------------------------------------------------------------------------


def _rare_han(count: int) -> str:
    common = common_han_characters()
    rare = [chr(cp) for cp in range(0x9E00, 0x9FA5) if chr(cp) not in common]
    return "".join(rare[i % len(rare)] for i in range(count))


GARBLED = {
    "replacement chars": "产教融合\ufffd\ufffd是职业\ufffd教育\ufffd发展的\ufffd必由之路" * 3,
    "private use": "".join(chr(0xE000 + i * 7) for i in range(40)) + " text",
    "utf8 as cp1252": "Le cafÃ© oÃ¹ lâ€™Ã©lÃ¨ve a Ã©tudiÃ©, câ€™est trÃ¨s bien.",
    "utf8 as gbk": ZH.encode("utf-8").decode("gbk", errors="ignore"),
    "gbk as big5": ZH.encode("gbk").decode("big5", errors="ignore"),
    "gbk as utf-16": ZH.encode("gbk").decode("utf-16-be", errors="ignore"),
    "gbk as shift-jis": ZH.encode("gbk").decode("shift_jis", errors="ignore"),
    "gbk as latin-1": ZH.encode("gbk").decode("latin-1"),
    "cids as code points": "".join(chr(4000 + (i * 37) % 3000) for i in range(150)),
    "script soup": "ΘͨఆΕͨ༗ަػి౯ͷͻͱͭ੨রͰ͢ớΒΏΔಁͳ༓ྶͷෳ߹ମỜܠΈΜͳͱỳỶʹͤ" * 2,
    "rare han": "第一条 " + _rare_han(40),
    "caesar shifted": _shift(EN, 1),
    "substitution": EN.lower().translate(str.maketrans("etaoinsrhl", "qzjxkvwbpg")),
    "shifted by 29": _shift("Penezni prostredky na uctech banky", -29),
    "junk ocr": ":., dP . . i, . . . ? . i ' » 14 e. : .. Pr . srN • ki ., , LIL k 1 sa s "
    ".. % , 2 Y. . g . %Z.. , I ' I .4 i \\ ... ' 4 .n., . i —. . 41. 1111101 ; a , t .",
    "symbol soup": "§±¶@#$%^&*~|<>{}[]" * 4 + " ab",
    "unspaced hangul": "닺뷌죚뫏쫇횰튵뷌폽랢햹뗄뇘평횮슷닺뷌죚뫏쫇횰튵뷌폽",
    "no spaces": " ".join(["Thecollaborationofindustrylearningandresearchisthefocus"] * 6),
}


@pytest.mark.parametrize("name", list(GARBLED))
def test_mojibake_is_garbled(name: str) -> None:
    verdict = assess_page(normalize_text(GARBLED[name]))
    assert verdict.status == "garbled", verdict.stats
    assert verdict.detail


def test_raw_control_characters_count_before_normalisation() -> None:
    # assess_page also works on raw extractor output, where controls are still present;
    # normalize_text removes them (and the other signals must then do the work)
    raw = "H\x01e\x02l\x03l\x04o\x05 w\x06o\x07r\x08l\x0ed\x0f and a few more words here"
    assert assess_page(raw).stats.bad == 10
    assert "control" in assess_page(raw).detail
    assert assess_page(normalize_text(raw)).status == "ok"


def test_garbled_detail_names_the_signal() -> None:
    assert "common" in assess_page(GARBLED["rare han"]).detail
    assert "e t a o i n s r" in assess_page(GARBLED["caesar shifted"]).detail
    assert "vowels" in assess_page(GARBLED["shifted by 29"]).detail
    assert "Latin-1" in assess_page(GARBLED["utf8 as cp1252"]).detail
    assert "scripts" in assess_page(GARBLED["script soup"]).detail
    assert "unassigned" in assess_page(GARBLED["cids as code points"]).detail
    assert "katakana" in assess_page(GARBLED["gbk as shift-jis"]).detail


# --------------------------------------------------------------------------------------------
# measure_text and the common-character set
# --------------------------------------------------------------------------------------------


def test_measure_text_counts() -> None:
    stats = measure_text("Hello 世界 42 \ufffd …")

    assert stats.chars == 11
    assert stats.letters == 7
    assert stats.digits == 2
    assert stats.bad == 1
    assert (stats.han, stats.common_han, stats.latin, stats.latin_vowels) == (2, 2, 5, 2)
    assert stats.latin_words == 1


def test_common_han_set_covers_simplified_traditional_and_japanese() -> None:
    common = common_han_characters()

    assert 7000 < len(common) < 7500
    assert set("的是产教融合學國們気読") <= common
    assert not set("龘靐齉爩") & common  # rare characters
    assert all("\u4e00" <= ch <= "\u9fff" for ch in common - {"々"})


def test_assess_page_ends_on_a_large_page() -> None:
    """Its time on this page is measured in bench/text_rules_bench.py."""
    text = (EN + "\n" + ZH + "\n" + GARBLED["script soup"] + "\n") * 2000  # ~900 k chars
    with hang_guard():
        assess_page(text)


_ANY_TEXT = st.one_of(
    st.text(max_size=400),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=400),  # incl. surrogates
    st.lists(st.sampled_from([EN, ZH, "\ufffd", "\x00", "  ", "\n", "Ã©", "ｱ"]), max_size=12).map(
        "".join
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ANY_TEXT)
def test_assess_page_never_raises_and_counts_consistently(text: str) -> None:
    verdict = assess_page(text)
    stats = verdict.stats

    assert isinstance(verdict, PageVerdict)
    assert verdict.status in ("ok", "empty", "garbled")
    assert (verdict.status == "ok") == (verdict.detail == "")
    assert 0 <= stats.letters + stats.digits + stats.bad <= stats.chars <= len(text)
    assert stats.common_han <= stats.han <= stats.letters
    assert stats.latin_vowels <= stats.latin <= stats.letters
    assert 0.0 <= stats.script_switch_rate <= 1.0
    assert assess_page(text) == verdict  # deterministic


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from([EN, ZH, ZH_TRADITIONAL, JA, KO]), min_size=1, max_size=6))
def test_any_mix_of_real_paragraphs_is_ok(paragraphs: list[str]) -> None:
    assert assess_page(normalize_text("\n\n".join(paragraphs))).status == "ok"


# --------------------------------------------------------------------------------------------
# screen_document
# --------------------------------------------------------------------------------------------

PAGE_NUMBER_ONLY = "12"
SOUP = GARBLED["cids as code points"]


def _pdf(*texts: str, meta: dict[str, str] | None = None) -> RawDocument:
    pages = [Page(number=i, text=text) for i, text in enumerate(texts, start=1)]
    return RawDocument(path=Path("doc.pdf"), pages=pages, page_count=len(pages), meta=meta or {})


def _single(text: str, name: str = "notes.txt") -> RawDocument:
    return RawDocument(path=Path(name), pages=[Page(number=None, text=text)], page_count=1)


def test_good_document_is_returned_whole_with_its_meta() -> None:
    screened = screen_document(_pdf(EN, ZH, "Hello", meta={"title": "T"}))

    assert [page.number for page in screened.pages] == [1, 2, 3]
    assert screened.skipped == []
    assert screened.page_count == 3
    assert screened.meta == {"title": "T"}
    assert screened.path == Path("doc.pdf")


def test_a_few_empty_pages_are_skipped_and_listed() -> None:
    screened = screen_document(_pdf(EN, "", ZH, PAGE_NUMBER_ONLY))

    assert [page.number for page in screened.pages] == [1, 3]
    assert [(s.number, s.reason) for s in screened.skipped] == [(2, "empty"), (4, "empty")]
    assert screened.skipped[0].detail == "no text"
    assert screened.skipped[1].detail.startswith("no words")


def test_mostly_empty_pages_mean_a_scan() -> None:
    assert MAX_EMPTY_PAGE_SHARE == 0.5
    with pytest.raises(
        NoTextLayerError, match=r"3 of 4 pages have no text layer \(pages 2, 3, 4\)"
    ):
        screen_document(_pdf(EN, "", "", ""))


def test_no_text_on_any_page_is_no_text_layer() -> None:
    with pytest.raises(NoTextLayerError, match="no text layer on any of 3 pages — scanned"):
        screen_document(_pdf("", " ", "\n"))


def test_only_page_numbers_is_no_text_layer_that_says_so() -> None:
    with pytest.raises(NoTextLayerError, match="no words on any of 2 pages"):
        screen_document(_pdf("1", "2"))


def test_empty_text_file_is_an_empty_document() -> None:
    for text in ("", "   ", "42"):
        with pytest.raises(EmptyDocumentError) as info:
            screen_document(_single(text))
        assert info.value.reason == "empty"


def test_an_odd_garbled_page_is_skipped() -> None:
    assert MAX_GARBLED_PAGE_SHARE == 0.2
    texts = [EN] * 9 + [SOUP]  # 1 of 10 pages: 10 %

    screened = screen_document(_pdf(*texts))

    assert len(screened.pages) == 9
    assert [(s.number, s.reason) for s in screened.skipped] == [(10, "garbled")]
    assert "unassigned" in screened.skipped[0].detail


def test_garbled_pages_at_one_in_five_reject_the_document() -> None:
    with pytest.raises(GarbledTextError, match=r"2 of 10 pages with text \(pages 3, 7\)") as info:
        screen_document(_pdf(EN, EN, SOUP, EN, EN, EN, SOUP, EN, EN, EN))
    assert info.value.reason == "garbled"


def test_empty_pages_do_not_dilute_the_garbled_share() -> None:
    # 1 garbled of 4 pages with text (25 %), although 1 of 6 pages overall
    with pytest.raises(GarbledTextError, match="1 of 4 pages with text"):
        screen_document(_pdf(EN, "", EN, SOUP, "", EN))


def test_single_garbled_page_rejects_the_document() -> None:
    with pytest.raises(GarbledTextError, match="page 1"):
        screen_document(_pdf(SOUP))


def test_garbled_text_file_names_the_text_not_a_page() -> None:
    with pytest.raises(GarbledTextError, match=r"^notes\.txt: garbled text: only \d+% of"):
        screen_document(_single(GARBLED["utf8 as gbk"]))


def test_tiny_real_single_page_documents_are_kept() -> None:
    for text in ("Hello", "Secret!", "Test"):
        assert screen_document(_pdf(text)).pages[0].text == text


def test_long_page_lists_are_shortened_in_messages() -> None:
    with pytest.raises(NoTextLayerError) as info:
        screen_document(_pdf(EN, *[""] * 30))
    assert "and 18 more" in info.value.message
