"""A zh↔en glossary of the field's terms, used to carry a question's key terms into the other
language before keyword search (dictionary-based cross-language retrieval): an English question
about 高等教育法 then matches the Chinese law's chunks by keyword as well as by vector."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

GLOSSARY_PATH = Path(__file__).resolve().parent / "data" / "glossary.tsv"


@dataclass(frozen=True, slots=True)
class Glossary:
    zh_to_en: dict[str, tuple[str, ...]]
    en_to_zh: dict[str, tuple[str, ...]]

    def translate_terms(self, text: str, lang: str) -> list[str]:
        """Terms of the other language for the glossary entries found in ``text``."""
        found: list[str] = []
        for _, translations in self.matches(text, lang):
            found += [t for t in translations if t not in found]
        return found

    def matches(self, text: str, lang: str) -> list[tuple[str, tuple[str, ...]]]:
        """The glossary entries found in ``text`` (English ones as whole words, lower-cased),
        each with its translations; the longest match wins where entries overlap."""
        if lang == "zh":
            return _matches(text, self.zh_to_en, whole_words=False)
        return _matches(text.lower(), self.en_to_zh, whole_words=True)


def _matches(
    text: str, table: dict[str, tuple[str, ...]], *, whole_words: bool
) -> list[tuple[str, tuple[str, ...]]]:
    found: list[tuple[str, tuple[str, ...]]] = []
    taken = [False] * len(text)
    for term in sorted(table, key=len, reverse=True):  # longest match wins
        pattern = rf"(?<![a-z0-9]){re.escape(term)}(?![a-z0-9])" if whole_words else re.escape(term)
        hit = False
        for match in re.finditer(pattern, text):
            if any(taken[match.start() : match.end()]):
                continue
            for i in range(match.start(), match.end()):
                taken[i] = True
            hit = True
        if hit:
            found.append((term, table[term]))
    return found


@lru_cache(maxsize=1)
def load_glossary(path: Path = GLOSSARY_PATH) -> Glossary:
    zh_to_en: dict[str, list[str]] = {}
    en_to_zh: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        zh, _, en = line.partition("\t")
        alternatives = [a.strip().lower() for a in en.split("|") if a.strip()]
        zh = zh.strip()
        zh_to_en.setdefault(zh, []).extend(alternatives[:1])  # the main English term
        for alt in alternatives:
            en_to_zh.setdefault(alt, []).append(zh)
    return Glossary(
        zh_to_en={k: tuple(v) for k, v in zh_to_en.items()},
        en_to_zh={k: tuple(v) for k, v in en_to_zh.items()},
    )
