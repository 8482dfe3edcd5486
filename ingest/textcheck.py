"""Decide whether extracted text is worth indexing: per page (ok / empty / garbled) and per
document (raise when the document as a whole is scanned, empty or mojibake).

The known traps are PDFs whose fonts lack a usable ToUnicode map (pypdf then returns glyph ids
as code points: a soup of scripts, rare ideographs and control characters) and scans without a
text layer. Both must be reported, never indexed. The checks are plain character statistics,
cheap enough to run on every page:

* characters that never occur in real text: U+FFFD, private use, unassigned, controls;
* UTF-8 read as Latin-1/cp1252 ("Ã©", "â€™");
* neighbouring letters from scripts that do not mix in real writing (Greek next to Telugu
  next to Tibetan), while Latin mixes with anything, Greek with the scripts of maths texts
  and Han with kana / Hangul;
* for Chinese and Japanese: the share of Han characters among the common ones (level 1 of
  GB 2312, Big5 and JIS X 0208: about 7,200 characters that cover more than 99.9 % of running
  text, simplified or traditional); mojibake lands on rare ideographs;
* bytes read with the wrong CJK codec: half-width katakana soup, Hangul without word spaces;
* for Latin script: the share of vowels and of the frequent letters e t a o i n s r, the
  length of words, the share of letters and digits.

Each threshold below says why it sits where it does; they were tuned on the shared PDF corpus
(../shared/testdata/pdfs) and on real Chinese laws and an English paper, none of which trips.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from ingest.errors import (
    EmptyDocumentError,
    GarbledTextError,
    IngestError,
    NoTextLayerError,
    UnreadableScanError,
)
from ingest.types import Page, RawDocument, ScreenedDocument, SkippedPage

logger = logging.getLogger(__name__)

PageStatus = Literal["ok", "empty", "garbled"]

# ---- page thresholds ------------------------------------------------------------------------
# Fewer letters than this and the page holds no words (page numbers, "1", a stray "I" from a
# scan). Kept tiny on purpose: a real one-page document can be as short as "Hello".
MIN_LETTERS = 2
# Characters that real text never contains. A few can come from a symbol font (maths glyphs
# without a Unicode mapping); at 5 % of the visible characters the text layer is broken.
MAX_BAD_SHARE = 0.05
MIN_BAD_CHARS = 3
# Neighbouring letters from scripts that never mix: at 10 % of letter pairs the page is a soup
# of glyph ids. Real multilingual text switches only at word or line boundaries (< 1 %).
MAX_SCRIPT_SWITCH_RATE = 0.10
MIN_SCRIPT_SWITCHES = 3
# Real Chinese/Japanese text has > 99 % of its Han characters in the common set; random code
# points land there about 30 % of the time. 75 % leaves room for names and technical terms.
MIN_COMMON_HAN_SHARE = 0.75
MIN_HAN_FOR_STATS = 20
# Latin-script languages have 30-45 % vowels (a, e, i, o, u, y and accented forms); shifted or
# glyph-id text drifts far outside. Measured only with enough letters to be meaningful; short
# real strings (a password such as "asdfzxcv" in a 33-letter page) reach down to 24 %.
MIN_LATIN_FOR_STATS = 20
LATIN_VOWEL_SHARE_RANGE = (0.15, 0.7)
# e t a o i n s r make up 50-65 % of the letters of English, German, French, Spanish, Czech or
# Polish prose; text shifted by a constant (glyph ids off by one: "Dpmmfhft") or mapped by a
# substitution lands at 20-35 %. Formula-heavy maths pages go as low as 35 % too, but their
# "words" are one- and two-letter variables, so the rule only applies to word-shaped text.
MIN_LATIN_FOR_FREQUENT = 100
MIN_FREQUENT_LETTER_SHARE = 0.38
MIN_WORD_LENGTH_FOR_FREQUENT = 3.0
# Junk OCR layers are punctuation with one- and two-letter fragments (mean word length ~1.4);
# formula-heavy maths pages, the shortest real words seen, average 2.4 letters.
MIN_ALNUM_SHARE = 0.5
MIN_CHARS_FOR_SHARE = 30
MIN_MEAN_WORD_LENGTH = 1.9
MIN_WORDS_FOR_SHORT_WORDS = 15
# Text whose spaces were lost (or glyph ids) forms "words" of dozens of letters; German
# compounds average well below this even on an index page.
MAX_MEAN_WORD_LENGTH = 25.0
MIN_WORDS_FOR_LONG_WORDS = 5
# Half-width katakana is what Chinese (GBK) or UTF-8 bytes turn into when read as Shift-JIS.
# Genuine half-width-only Japanese (legacy exports) exists but is foreign to this corpus.
MAX_HALFWIDTH_KANA_SHARE = 0.3
MIN_LETTERS_FOR_KANA = 10
# Korean separates words of two to five syllables with spaces. Hangul without spaces is what
# Chinese GBK codes become when a font without a ToUnicode map passes them on as code points.
MAX_MEAN_HANGUL_WORD_LENGTH = 10.0
MIN_HANGUL_FOR_STATS = 20
MOJIBAKE_MIN_HITS = 3
MOJIBAKE_MIN_SHARE = 0.02

# ---- document thresholds ---------------------------------------------------------------------
# A broken font garbles every page that uses it, and the pages where the detector stays below
# its thresholds are then damaged too, just less visibly. When one in five of the pages that
# have text is garbled, the document is rejected as a whole rather than half-indexed; below
# that, the odd garbled page (a figure label in a symbol font) is skipped and reported.
MAX_GARBLED_PAGE_SHARE = 0.2
# More than half of the pages without text means a (mostly) scanned document: indexing only
# the few born-digital pages would silently leave most of it out.
MAX_EMPTY_PAGE_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class TextStats:
    """Character counts behind a :class:`PageVerdict` (useful for reports and tuning)."""

    chars: int = 0  # visible (non-whitespace) characters
    letters: int = 0  # Unicode letters of any script
    digits: int = 0
    bad: int = 0  # U+FFFD, private use, unassigned, surrogates, C0/C1 controls
    filler: int = 0  # repeats of the previous symbol: dot leaders, rules ("....", "----")
    mojibake: int = 0  # "Ã©" / "â€™" sequences (UTF-8 decoded as Latin-1 or cp1252)
    scripted_letters: int = 0  # letters whose script takes part in the mixing test
    script_switches: int = 0  # neighbouring letters from scripts that do not mix
    han: int = 0
    common_han: int = 0
    latin: int = 0
    latin_vowels: int = 0
    latin_frequent: int = 0  # Latin letters among e t a o i n s r (folded)
    halfwidth_kana: int = 0
    latin_words: int = 0  # whitespace-separated tokens that contain a Latin letter
    latin_word_letters: int = 0
    hangul: int = 0
    hangul_words: int = 0  # whitespace-separated tokens that contain Hangul

    @property
    def bad_share(self) -> float:
        return self.bad / self.chars if self.chars else 0.0

    @property
    def alnum_share(self) -> float:
        """Letters and digits among the visible characters, leaders and rules not counted."""
        counted = self.chars - self.filler
        return (self.letters + self.digits) / counted if counted > 0 else 0.0

    @property
    def script_switch_rate(self) -> float:
        pairs = self.scripted_letters - 1
        return self.script_switches / pairs if pairs > 0 else 0.0

    @property
    def common_han_share(self) -> float:
        return self.common_han / self.han if self.han else 1.0

    @property
    def latin_vowel_share(self) -> float:
        return self.latin_vowels / self.latin if self.latin else 0.0

    @property
    def latin_frequent_share(self) -> float:
        return self.latin_frequent / self.latin if self.latin else 0.0

    @property
    def mean_latin_word_length(self) -> float:
        return self.latin_word_letters / self.latin_words if self.latin_words else 0.0

    @property
    def mean_hangul_word_length(self) -> float:
        return self.hangul / self.hangul_words if self.hangul_words else 0.0


@dataclass(frozen=True, slots=True)
class PageVerdict:
    status: PageStatus
    detail: str
    stats: TextStats


# --------------------------------------------------------------------------------------------
# Character classification
# --------------------------------------------------------------------------------------------

_LETTER, _MARK, _DIGIT, _SPACE, _BAD, _OTHER = range(6)

# Name prefixes of letters that belong to no particular writing system (maths alphabets,
# letterlike symbols, modifier letters): they neither prove nor disprove a script mix.
_NEUTRAL_PREFIXES = (
    "MODIFIER",
    "MATHEMATICAL",
    "DOUBLE-STRUCK",
    "SCRIPT",
    "BLACK-LETTER",
    "PLANCK",
    "INFORMATION",
    "TURNED",
    "SUPERSCRIPT",
    "SUBSCRIPT",
    "NUMERO",
)
_MIXES_WITH_GREEK = frozenset({"GREEK", "COPTIC", "CYRILLIC", "HAN", "KANA", "HANGUL"})
_MIXES_WITH_HAN = frozenset({"KANA", "HANGUL", "BOPOMOFO"})


# Private-use code points that symbol fonts use for ordinary symbols: Symbol/Wingdings glyphs
# remapped to U+F0xx (Word's bullets) and Adobe Symbol's bracket pieces (U+F8E5..U+F8FF, big
# parentheses in maths). They are layout symbols, not mojibake.
_SYMBOL_FONT_PUA = (("\uf000", "\uf0ff"), ("\uf8e5", "\uf8ff"))


@functools.lru_cache(maxsize=1 << 16)
def _classify(ch: str) -> tuple[int, str]:
    """(kind, script) of one character; the script is "" unless the character is a letter."""
    if ch == "\ufffd":
        return _BAD, ""
    if any(low <= ch <= high for low, high in _SYMBOL_FONT_PUA):
        return _OTHER, ""
    category = unicodedata.category(ch)
    if category in ("Co", "Cn", "Cs") or (category == "Cc" and ch not in "\n\t\r"):
        return _BAD, ""
    if ch.isspace():
        return _SPACE, ""
    if category.startswith("L"):
        return _LETTER, _script_of(ch)
    if category.startswith("M"):
        return _MARK, ""
    if category.startswith("N"):
        return _DIGIT, ""
    return _OTHER, ""


def _script_of(letter: str) -> str:
    name = unicodedata.name(letter, "")
    first, _, rest = name.partition(" ")
    if first in ("FULLWIDTH", "HALFWIDTH"):
        # full-width Latin is ordinary in CJK text; half-width katakana soup is a mojibake sign
        if rest.startswith("KATAKANA"):
            return "HALFWIDTH-KANA"
        first = rest.partition(" ")[0]
    if first in ("CJK", "IDEOGRAPHIC"):
        return "HAN"
    if first in ("HIRAGANA", "KATAKANA", "KATAKANA-HIRAGANA"):
        return "KANA"
    if first in _NEUTRAL_PREFIXES or not first:
        return ""
    return first


def _scripts_mix(a: str, b: str) -> bool:
    """True for script pairs that sit side by side in real writing: Latin next to anything
    (terms, names, units), Greek next to the scripts of maths texts ("设α为…"), Han next to
    kana, Hangul or bopomofo."""
    if a == b or a == "LATIN" or b == "LATIN":
        return True
    if "GREEK" in (a, b):
        return a in _MIXES_WITH_GREEK and b in _MIXES_WITH_GREEK
    return "HAN" in (a, b) and (a in _MIXES_WITH_HAN or b in _MIXES_WITH_HAN)


@functools.lru_cache(maxsize=1 << 12)
def _latin_base(letter: str) -> str:
    """ "é" -> "e", "Č" -> "c": the letter without accents, in lower case."""
    return unicodedata.normalize("NFD", letter)[0].lower()


_LATIN_VOWELS = frozenset("aeiouyæøœ")
_FREQUENT_LATIN = frozenset("etaoinsr")


def _decode_level_one(encoding: str, lead_bytes: range, trail_bytes: list[int]) -> set[str]:
    chars: set[str] = set()
    for lead in lead_bytes:
        for trail in trail_bytes:
            try:
                chars.add(bytes((lead, trail)).decode(encoding))
            except UnicodeDecodeError:
                continue
    return chars


@functools.cache
def common_han_characters() -> frozenset[str]:
    """The frequently used Han characters of Chinese (simplified and traditional) and Japanese:
    level 1 of GB 2312 (3,755), the "常用字" of Big5 (5,401) and level 1 of JIS X 0208 (2,965).

    The national standards ordered these sets by frequency of use, and Python's own codecs
    carry them, so no word list has to be shipped or downloaded.
    """
    row_94 = list(range(0xA1, 0xFF))
    simplified = _decode_level_one("gb2312", range(0xB0, 0xD8), row_94)
    traditional = _decode_level_one("big5", range(0xA4, 0xC7), [*range(0x40, 0x7F), *row_94])
    japanese = _decode_level_one("euc_jp", range(0xB0, 0xD0), row_94)
    return frozenset(ch for ch in simplified | traditional | japanese if _script_of(ch) == "HAN")


# UTF-8 lead bytes C2..C3 / E2 read as Latin-1 or cp1252: "Ã©", "Â ", "â€™", "â€œ".
_CP1252_SPECIALS = (
    "\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u2018-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
)
_LATIN1_MOJIBAKE = re.compile(f"[ÂÃ][\u0080-\u00bf{_CP1252_SPECIALS}]|â€")


# --------------------------------------------------------------------------------------------
# Measuring and judging one page
# --------------------------------------------------------------------------------------------


def measure_text(text: str) -> TextStats:
    """Count what :func:`assess_page` judges on; one pass over the characters."""
    common = common_han_characters()
    counts = [0] * 6
    scripted = switches = han = common_han = latin = vowels = frequent = 0
    filler = halfwidth = hangul = 0
    previous_script = previous_visible = ""
    for ch in text:
        kind, script = _classify(ch)
        counts[kind] += 1
        if kind == _SPACE:
            continue
        filler += kind == _OTHER and ch == previous_visible
        previous_visible = ch
        if kind != _LETTER or not script:
            continue
        scripted += 1
        if previous_script and not _scripts_mix(previous_script, script):
            switches += 1
        previous_script = script
        if script == "HAN":
            han += 1
            common_han += ch in common
        elif script == "LATIN":
            latin += 1
            base = _latin_base(ch)
            vowels += base in _LATIN_VOWELS
            frequent += base in _FREQUENT_LATIN
        elif script == "HALFWIDTH-KANA":
            halfwidth += 1
        elif script == "HANGUL":
            hangul += 1
    words, word_letters, hangul_words = _count_words(text)
    return TextStats(
        chars=len(text) - counts[_SPACE],
        letters=counts[_LETTER],
        digits=counts[_DIGIT],
        bad=counts[_BAD],
        filler=filler,
        mojibake=len(_LATIN1_MOJIBAKE.findall(text)),
        scripted_letters=scripted,
        script_switches=switches,
        han=han,
        common_han=common_han,
        latin=latin,
        latin_vowels=vowels,
        latin_frequent=frequent,
        halfwidth_kana=halfwidth,
        latin_words=words,
        latin_word_letters=word_letters,
        hangul=hangul,
        hangul_words=hangul_words,
    )


def _count_words(text: str) -> tuple[int, int, int]:
    """(tokens with Latin letters, Latin letters in them, tokens with Hangul)."""
    latin_words = latin_letters = hangul_words = 0
    for token in text.split():
        scripts = [_classify(ch)[1] for ch in token]
        in_token = scripts.count("LATIN")
        if in_token:
            latin_words += 1
            latin_letters += in_token
        hangul_words += "HANGUL" in scripts
    return latin_words, latin_letters, hangul_words


def assess_page(text: str) -> PageVerdict:
    """Judge one page (or one whole text file): ``ok``, ``empty`` or ``garbled``.

    Works on raw or normalised text; never raises. Very short text is only judged by the
    signals that are reliable on a handful of characters, so a real page such as "Hello" is
    ``ok``: whether a document of tiny pages is worth indexing is decided per document.
    """
    stats = measure_text(text)
    garbled = _garbled_reason(stats)
    if garbled:
        return PageVerdict("garbled", garbled, stats)
    if stats.letters < MIN_LETTERS:
        return PageVerdict("empty", _empty_detail(stats), stats)
    return PageVerdict("ok", "", stats)


def _empty_detail(stats: TextStats) -> str:
    if stats.chars == 0:
        return "no text"
    return f"no words: {stats.chars} characters of numbers or symbols only"


def _garbled_reason(stats: TextStats) -> str:
    """The first mojibake signal that fires, as a short explanation; "" when none does."""
    for check in _GARBLED_CHECKS:
        reason = check(stats)
        if reason:
            return reason
    return ""


def _check_bad_characters(stats: TextStats) -> str:
    if stats.bad >= MIN_BAD_CHARS and stats.bad_share >= MAX_BAD_SHARE:
        return (
            f"{stats.bad} replacement, private-use, unassigned or control characters "
            f"({stats.bad_share:.0%} of the text)"
        )
    return ""


def _check_latin1_mojibake(stats: TextStats) -> str:
    enough = max(MOJIBAKE_MIN_HITS, MOJIBAKE_MIN_SHARE * stats.letters)
    if stats.mojibake >= enough:
        return f"{stats.mojibake} UTF-8-read-as-Latin-1 sequences (like 'Ã©', 'â€™')"
    return ""


def _check_script_mix(stats: TextStats) -> str:
    if (
        stats.script_switches >= MIN_SCRIPT_SWITCHES
        and stats.script_switch_rate >= MAX_SCRIPT_SWITCH_RATE
    ):
        return (
            f"letters from unrelated scripts interleaved ({stats.script_switch_rate:.0%} of "
            "neighbouring letters): a font without a usable Unicode map"
        )
    return ""


def _check_rare_han(stats: TextStats) -> str:
    if stats.han >= MIN_HAN_FOR_STATS and stats.common_han_share < MIN_COMMON_HAN_SHARE:
        return (
            f"only {stats.common_han_share:.0%} of {stats.han} Chinese characters are common "
            "ones (real text: over 99%): a font without a usable Unicode map"
        )
    return ""


def _check_halfwidth_kana(stats: TextStats) -> str:
    if (
        stats.letters >= MIN_LETTERS_FOR_KANA
        and stats.halfwidth_kana > MAX_HALFWIDTH_KANA_SHARE * stats.letters
    ):
        return (
            f"{stats.halfwidth_kana} of {stats.letters} letters are half-width katakana: "
            "bytes read as Shift-JIS"
        )
    return ""


def _check_unspaced_hangul(stats: TextStats) -> str:
    if (
        stats.hangul >= MIN_HANGUL_FOR_STATS
        and stats.mean_hangul_word_length > MAX_MEAN_HANGUL_WORD_LENGTH
    ):
        return (
            f"Hangul words average {stats.mean_hangul_word_length:.0f} syllables (Korean: 2-5): "
            "character codes read as the wrong encoding"
        )
    return ""


def _check_latin_shape(stats: TextStats) -> str:
    if stats.latin < MIN_LATIN_FOR_STATS or stats.latin * 2 < stats.letters:
        return ""
    low, high = LATIN_VOWEL_SHARE_RANGE
    if not low <= stats.latin_vowel_share <= high:
        return (
            f"{stats.latin_vowel_share:.0%} vowels among {stats.latin} Latin letters "
            f"(real text: {low:.0%}-{high:.0%}): shifted or mis-mapped glyphs"
        )
    if (
        stats.latin >= MIN_LATIN_FOR_FREQUENT
        and stats.latin_frequent_share < MIN_FREQUENT_LETTER_SHARE
        and stats.mean_latin_word_length >= MIN_WORD_LENGTH_FOR_FREQUENT
    ):
        return (
            f"only {stats.latin_frequent_share:.0%} of {stats.latin} Latin letters are among "
            "e t a o i n s r (real text: 50-65%): shifted or mis-mapped glyphs"
        )
    if (
        stats.latin_words >= MIN_WORDS_FOR_LONG_WORDS
        and stats.mean_latin_word_length > MAX_MEAN_WORD_LENGTH
    ):
        return (
            f"words average {stats.mean_latin_word_length:.0f} letters: text without spaces "
            "or glyph ids"
        )
    if (
        stats.latin_words >= MIN_WORDS_FOR_SHORT_WORDS
        and stats.mean_latin_word_length < MIN_MEAN_WORD_LENGTH
    ):
        return (
            f"words average {stats.mean_latin_word_length:.1f} letters: fragments, such as a "
            "junk OCR layer"
        )
    return ""


def _check_symbol_soup(stats: TextStats) -> str:
    if stats.chars - stats.filler >= MIN_CHARS_FOR_SHARE and stats.alnum_share < MIN_ALNUM_SHARE:
        return f"only {stats.alnum_share:.0%} letters or digits: mostly stray symbols"
    return ""


_GARBLED_CHECKS = (
    _check_bad_characters,
    _check_latin1_mojibake,
    _check_script_mix,
    _check_rare_han,
    _check_halfwidth_kana,
    _check_unspaced_hangul,
    _check_latin_shape,
    _check_symbol_soup,
)


# --------------------------------------------------------------------------------------------
# Judging a document
# --------------------------------------------------------------------------------------------


def screen_document(raw: RawDocument) -> ScreenedDocument:
    """Keep the pages worth indexing, or raise when the document as a whole is not.

    Raises :class:`EmptyDocumentError` (a text file with no words), :class:`NoTextLayerError`
    (no page with text, or more than half without: a scan), :class:`GarbledTextError` (a
    sizeable share of the pages is mojibake), :class:`UnreadableScanError` (OCR read no page
    well enough). Otherwise the skipped pages are listed. Once OCR has read a document's
    scanned pages (``raw.ocr_tried``), a page still without text is blank, and blank pages
    only get skipped.
    """
    left_out = {s.number for s in raw.skipped}
    verdicts = [(page, assess_page(page.text)) for page in raw.pages if page.number not in left_out]
    ok = [page for page, verdict in verdicts if verdict.status == "ok"]
    garbled = [(page, v) for page, v in verdicts if v.status == "garbled"]
    empty = [(page, v) for page, v in verdicts if v.status == "empty"]
    name = raw.path.name
    if not ok and raw.skipped:
        raise _unreadable_scan_error(raw)
    if not ok and not garbled:
        raise _no_text_error(raw, [v for _, v in empty])
    _raise_if_mostly_garbled(name, len(ok), garbled)
    if not raw.ocr_tried and len(empty) > MAX_EMPTY_PAGE_SHARE * len(raw.pages):
        numbers = _page_list([page for page, _ in empty])
        raise NoTextLayerError(
            f"{name}: {len(empty)} of {len(raw.pages)} pages have no text layer ({numbers}) "
            "— mostly scanned? OCR is needed (it is off: ADVISOR_OCR=false or --no-ocr)"
        )
    skipped = list(raw.skipped) + [
        SkippedPage(number=page.number, reason=verdict.status, detail=verdict.detail)
        for page, verdict in verdicts
        if verdict.status != "ok"
    ]
    skipped.sort(key=lambda s: s.number or 0)
    for page in skipped:
        logger.info("%s: skipping page %s (%s: %s)", name, page.number, page.reason, page.detail)
    return ScreenedDocument(
        path=raw.path, pages=ok, page_count=raw.page_count, skipped=skipped, meta=dict(raw.meta)
    )


def _unreadable_scan_error(raw: RawDocument) -> IngestError:
    """No page is left: OCR read some with too little confidence, or found nothing under a
    garbled text layer. The error names the pages and the first reason."""
    pages = ", ".join(str(s.number) for s in raw.skipped[:12]) + (
        " …" if len(raw.skipped) > 12 else ""
    )
    where = f"page{'s' if len(raw.skipped) > 1 else ''} {pages}"
    if all(s.reason == "garbled" for s in raw.skipped):
        return GarbledTextError(
            f"{raw.path.name}: garbled text on {where}: {raw.skipped[0].detail}"
        )
    return UnreadableScanError(
        f"{raw.path.name}: OCR could not read {where} well enough to index "
        f"({raw.skipped[0].detail})"
    )


def _no_text_error(raw: RawDocument, verdicts: list[PageVerdict]) -> IngestError:
    name = raw.path.name
    has_pages = any(page.number is not None for page in raw.pages)
    if not has_pages:
        return EmptyDocumentError(f"{name}: no text to index (the file holds no words)")
    n = len(raw.pages)
    if raw.ocr_tried:
        return UnreadableScanError(
            f"{name}: no words on any of {n} pages, in the text layer or by OCR "
            f"({_page_list(raw.pages)})"
        )
    if all(v.stats.chars == 0 for v in verdicts):
        return NoTextLayerError(
            f"{name}: no text layer on any of {n} pages — scanned? OCR is needed "
            "(it is off: ADVISOR_OCR=false or --no-ocr)"
        )
    return NoTextLayerError(
        f"{name}: no words on any of {n} pages (only page numbers or symbols) — scanned? "
        "OCR is needed (it is off: ADVISOR_OCR=false or --no-ocr)"
    )


def _raise_if_mostly_garbled(
    name: str, ok_pages: int, garbled: list[tuple[Page, PageVerdict]]
) -> None:
    with_text = ok_pages + len(garbled)
    if not garbled or len(garbled) < MAX_GARBLED_PAGE_SHARE * with_text:
        return
    pages = _page_list([page for page, _ in garbled])
    first_reason = garbled[0][1].detail
    where = f" on {len(garbled)} of {with_text} pages with text ({pages})" if pages else ""
    raise GarbledTextError(f"{name}: garbled text{where}: {first_reason}")


def _page_list(pages: list[Page], limit: int = 12) -> str:
    numbers = [str(page.number) for page in pages if page.number is not None]
    if not numbers:
        return ""
    shown = ", ".join(numbers[:limit])
    more = f" and {len(numbers) - limit} more" if len(numbers) > limit else ""
    return f"page{'s' if len(numbers) > 1 else ''} {shown}{more}"
