"""Writing-system rules that ``ingest``, ``vectorstore`` and ``advisor`` share. They may not
import each other (DESIGN), so the character ranges and numerals live here, once; this
package imports nothing of the project's.

- ``HAN``: the Han ideographs as a character-class body: CJK Unified Ideographs, Extension A,
  the compatibility ideographs and Extensions B–G (U+20000–U+3134F).
- ``KANA``: hiragana and katakana (Japanese text set in the same fonts).
- ``CJK``: every character of East Asian layout around which a line break or a space is not
  a word break: Han, kana, bopomofo, radicals, CJK punctuation, full-width forms.
- ``ZH_NUMERAL``: the characters of a Chinese number as structure labels write it
  (第十二条, 第一百零五条, 第二万条), Arabic digits included, full-width too.
"""

from __future__ import annotations

import re

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
KANA = "\u3040-\u30ff"
CJK = (
    "\u2e80-\u2fdf"  # radicals
    "\u3000-\u303f"  # CJK symbols and punctuation
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3100-\u312f"  # bopomofo
    "\u31f0-\u31ff"  # katakana extensions
    "\u3400-\u4dbf"  # extension A
    "\u4e00-\u9fff"  # unified ideographs
    "\uf900-\ufaff"  # compatibility ideographs
    "\ufe30-\ufe4f"  # compatibility forms (vertical punctuation)
    "\uff00-\uffef"  # full-width forms
    "\U00020000-\U0003134f"  # extensions B..G
)
ZH_NUMERAL = "〇零一二三四五六七八九十百千万两0-9０-９"

HAN_CHAR = re.compile(f"[{HAN}]")
HAN_RUN = re.compile(f"[{HAN}]+")


def count_han(text: str) -> int:
    """Number of Han characters in ``text``."""
    # Deleting runs and comparing lengths is ~5x faster than counting matches one by one.
    return len(text) - len(HAN_RUN.sub("", text))
