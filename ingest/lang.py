"""Decide whether a passage is Chinese or English, for per-language retrieval.

Retrieval runs one search per language pool and merges the results, so every chunk must land
in exactly one of the two pools. Scripts other than Han (Latin, Cyrillic, kana, ...) all go to
the English pool: the product only has a Chinese and an English side.
"""

from __future__ import annotations

from ingest.types import Lang
from textrules import count_han

# Han share of all letters (str.isalpha) from which a passage counts as Chinese. One Han
# character carries about as much as a 3-letter English word piece: an average English word
# has ~4.7 letters and an average Chinese word ~1.5 characters, so at 25 % of the letters
# roughly half of the *words* are Chinese. Below that, the passage is English prose with a
# few Chinese terms (e.g. "产教融合" quoted in a paper); above it, Chinese prose with English
# acronyms or names, which a Chinese question should find.
ZH_LETTER_SHARE = 0.25

__all__ = ["ZH_LETTER_SHARE", "Lang", "count_han", "detect_lang"]


def detect_lang(text: str) -> Lang:
    """``"zh"`` when Han characters are at least ``ZH_LETTER_SHARE`` of the letters, else ``"en"``.

    Text without any letter (digits, punctuation, empty) is ``"en"``. Runs per chunk, so it
    avoids a Python-level loop over the characters of text that has no Han at all.
    """
    han = count_han(text)
    if han == 0:
        return "en"
    letters = sum(map(str.isalpha, text))  # Han characters are letters too (category Lo)
    return "zh" if han >= ZH_LETTER_SHARE * letters else "en"
