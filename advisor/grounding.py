"""Is there adequate evidence for a question? Checks that need no model.

Similarity alone cannot tell: with multilingual-e5-small an unanswerable question about the
field ("2025 admission scores in Henan") scores as high against the laws as an answerable one.
Two signals separate them on the eval set (docs/BENCHMARKS.md):

- specifics: the years and place names a question asks about must occur in the evidence (a
  question about Jiangsu is not answered by Shanghai's regulation);
- coverage: the share of the question's content terms (or of their glossary translations, for a
  question in the other language) that the retrieved passages contain.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from advisor.glossary import Glossary
from vectorstore.keyword import tokenize
from vectorstore.retrieval import Passage

YEAR = re.compile(r"(?<!\d)(19\d\d|20\d\d)(?!\d)")
#: administrative suffixes dropped before matching a place (江苏省 ~ 江苏, 宁波市 ~ 宁波)
PLACE_SUFFIX = re.compile(r"(省|市|自治区|特别行政区|县|区)$")
#: share of the question's content terms the passages must contain. Calibrated on the eval set
#: (docs/BENCHMARKS.md): answerable questions score 0.56 and up, unanswerable ones that name no
#: year or place 0.22 and below.
MIN_COVERAGE = 0.35


@dataclass(frozen=True, slots=True)
class EvidenceCheck:
    missing_specifics: tuple[str, ...]
    coverage: float

    @property
    def adequate(self) -> bool:
        return not self.missing_specifics and self.coverage >= MIN_COVERAGE

    def reason(self) -> str:
        if self.missing_specifics:
            return "not in the knowledge base: " + ", ".join(self.missing_specifics)
        return f"the passages cover {self.coverage:.0%} of the question's terms"


@lru_cache(maxsize=1)
def _posseg() -> Any:
    from vectorstore.keyword import jieba_module

    jieba_module()  # initialised once, quietly
    import jieba.posseg

    return jieba.posseg


def specifics(question: str, lang: str, glossary: Glossary) -> list[str]:
    """Years and place names the question is about (places in Chinese form)."""
    found = list(dict.fromkeys(YEAR.findall(question)))
    if lang == "zh":
        for word, flag in _posseg().cut(question):
            if flag == "ns" and len(word) >= 2:
                found.append(word)
    else:
        for term in glossary.translate_terms(question, "en"):
            if _is_place(term):
                found.append(term)
    return list(dict.fromkeys(found))


def is_place(term: str) -> bool:
    """Whether ``term`` is a place name (jieba's part of speech ``ns``)."""
    return _is_place(term)


@lru_cache(maxsize=4096)
def _is_place(term: str) -> bool:
    return any(flag == "ns" for _, flag in _posseg().cut(term)) and len(term) >= 2


def check_evidence(
    question: str, passages: Sequence[Passage], lang: str, glossary: Glossary
) -> EvidenceCheck:
    evidence = "\n".join(f"{p.source} {p.section} {p.text}" for p in passages)
    missing = []
    for item in specifics(question, lang, glossary):
        bare = PLACE_SUFFIX.sub("", item) or item
        if item not in evidence and bare not in evidence:
            missing.append(item)
    evidence_terms = set(tokenize(evidence))
    own = {t for t in tokenize(question) if len(t) > 1}
    coverage = len(own & evidence_terms) / len(own) if own else 1.0
    translated = {
        t for term in glossary.translate_terms(question, lang) for t in tokenize(term) if len(t) > 1
    }
    if translated:
        coverage = max(coverage, len(translated & evidence_terms) / len(translated))
    return EvidenceCheck(tuple(missing), coverage)
