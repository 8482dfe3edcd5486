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
    #: ``en_to_zh`` keyed by the entries' base forms (``_base_forms``)
    en_base_to_zh: dict[str, tuple[str, ...]]

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
        found = _matches(text.lower(), self.en_to_zh, whole_words=True)
        # "penalties", "enrols": an inflected word matches the entry of its singular or base
        # form; the text's words and the entries are reduced the same way
        seen = {term for term, _ in found}
        based = _matches(_base_forms(text.lower()), self.en_base_to_zh, whole_words=True)
        for term, translations in based:
            if not any(_base_forms(t) == term for t in seen):
                found.append((term, translations))
        return found


_WORD = re.compile(r"[a-z]+")
#: words whose final s is not a plural or a third person's s
_KEEP_S = re.compile(r"(?:ss|us|is|ous|ics|ness|sis|ias)$")


def _base(word: str) -> str:
    """A light English reduction to the singular or base form (no dictionary): policies →
    policy, enrols → enrol, approvals → approval, taxes → tax. Words of four letters or
    fewer and words like 'status', 'analysis', 'economics' stay as they are."""
    if len(word) <= 4 or not word.endswith("s") or _KEEP_S.search(word):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if re.search(r"(?:ch|sh|x|z)es$", word):
        return word[:-2]
    return word[:-1]


def _base_forms(text: str) -> str:
    return _WORD.sub(lambda m: _base(m.group(0)), text)


def _by_base_form(en_to_zh: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    for term, translations in en_to_zh.items():
        merged = table.setdefault(_base_forms(term), [])
        merged += [t for t in translations if t not in merged]
    return {k: tuple(v) for k, v in table.items()}


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
    english = {k: tuple(v) for k, v in en_to_zh.items()}
    return Glossary(
        zh_to_en={k: tuple(v) for k, v in zh_to_en.items()},
        en_to_zh=english,
        en_base_to_zh=_by_base_form(english),
    )
