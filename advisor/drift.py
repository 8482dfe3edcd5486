"""One answer, one language: words of the other language that the model let slip are mended.

A 1.5B model writing Chinese over mixed sources drifts into English words ("教育 authorities",
"其他 financing机构"), and writing English over Chinese sources copies Chinese phrases into
its sentences. The user asked in one language and should read that language only. The check
runs on the model's text before citations are checked:

- A Chinese answer keeps a Latin word when the question or a passage has it (PLC, ICT, a
  company's name) or when it is an acronym; a word the glossary knows becomes its Chinese
  term; any other Latin word is removed.
- An English answer keeps Chinese inside brackets: "the articles of association (章程)" is how
  it should give the Chinese term. A Chinese run outside brackets that the glossary knows
  becomes "English term (中文)"; any other is put in brackets, as a quoted term.
- A sentence written wholly in the other language is removed: it cannot be mended word by
  word, and its facts are in the sources and the basis.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from advisor.citations import split_keep, strip_markers
from advisor.glossary import Glossary
from ingest.lang import detect_lang
from textrules import HAN, HAN_RUN

_LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z'’\-]*(?:[ \t]+[A-Za-z][A-Za-z'’\-]*)*")
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9&\-]{0,7}s?$")
_BRACKETS = re.compile(r"[（(][^()（）]*[)）]|“[^”]*”|\"[^\"]*\"")


@dataclass(slots=True)
class Mended:
    text: str
    #: what was changed, for logs and evaluation: "financing→融资", "-authorities", "(章程)"
    changes: list[str] = field(default_factory=list)
    #: sentences removed because they were written in the other language
    dropped: list[str] = field(default_factory=list)


def one_language(text: str, lang: str, evidence: Sequence[str], glossary: Glossary) -> Mended:
    """``text`` (the model's answer) in ``lang`` only; ``evidence``: the question and passages."""
    seen = "\n".join(evidence)
    out = Mended(text)
    kept: list[str] = []
    for sentence in split_keep(text):
        body = strip_markers(sentence).strip()
        if _wrong_language(body, lang):
            out.dropped.append(sentence.strip())
            continue
        if lang == "zh":
            sentence = _mend_zh(sentence, seen.lower(), glossary, out.changes)
        else:
            sentence = _mend_en(sentence, glossary, out.changes)
        kept.append(sentence)
    out.text = "".join(kept)
    return out


def _wrong_language(body: str, lang: str) -> bool:
    """The sentence is prose of the other language (a Chinese term in brackets does not count)."""
    if not re.search(f"[A-Za-z{HAN}]", body):
        return False
    if lang == "en":
        return detect_lang(_BRACKETS.sub("", body)) == "zh"
    latin = sum(len(w) for w in re.findall(r"[A-Za-z]+", body))
    return detect_lang(body) == "en" and latin >= 12


def _mend_zh(sentence: str, seen: str, glossary: Glossary, changes: list[str]) -> str:
    # a changed spot is fenced with \0 so that only the spaces around it go afterwards
    def mend(match: re.Match[str]) -> str:
        run = match.group(0)
        if run.lower() in seen or all(_ACRONYM.match(w) for w in run.split()):
            return run
        zh = glossary.en_to_zh.get(run.lower())
        if zh:
            changes.append(f"{run}→{zh[0]}")
            return f"\0{zh[0]}\0"
        words = []
        for word in run.split():
            if word.lower() in seen or _ACRONYM.match(word):
                words.append(word)
            elif word.lower() in glossary.en_to_zh:
                changes.append(f"{word}→{glossary.en_to_zh[word.lower()][0]}")
                words.append(f"\0{glossary.en_to_zh[word.lower()][0]}\0")
            else:
                changes.append(f"-{word}")
                words.append("\0")
        return " ".join(words)

    mended = _LATIN_RUN.sub(mend, sentence)
    if "\0" not in mended:
        return sentence
    mended = re.sub(r"[ \t]*\0[ \t]*", "", mended.replace("\0 \0", "\0"))
    return re.sub(r"（\s*）|\(\s*\)", "", mended)


def _mend_en(sentence: str, glossary: Glossary, changes: list[str]) -> str:
    protected = [(m.start(), m.end()) for m in _BRACKETS.finditer(sentence)]

    def mend(match: re.Match[str]) -> str:
        if any(a <= match.start() < b for a, b in protected):
            return match.group(0)
        run = match.group(0)
        # a run glued to English ("teaching and学籍管理") is set off by spaces
        before = " " if _glued(sentence, match.start() - 1) else ""
        after = " " if _glued(sentence, match.end()) else ""
        en = glossary.zh_to_en.get(run)
        if en:
            changes.append(f"{run}→{en[0]}")
            return f"{before}{en[0]} ({run}){after}"
        changes.append(f"({run})")
        return f"{before}({run}){after}"

    return HAN_RUN.sub(mend, sentence)


def _glued(text: str, i: int) -> bool:
    """The character at ``i`` is a Latin letter or digit (a word the mended run touches)."""
    return 0 <= i < len(text) and text[i].isascii() and text[i].isalnum()
