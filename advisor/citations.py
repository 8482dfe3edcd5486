"""Citations are checked after generation, never trusted.

Every ``[n]`` in an answer must point to a passage that was given to the model; markers that
point nowhere are removed. Each cited passage gets a quote: the sentence of that chunk that best
supports the answer sentences citing it, copied verbatim (so ``quote in chunk.text`` holds).
Answer sentences the model left without a marker get one when a passage clearly supports them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from advisor.injection import is_instruction
from advisor.schemas import Citation
from vectorstore.keyword import tokenize
from vectorstore.retrieval import Passage

if TYPE_CHECKING:
    import numpy as np

# [1] [1,2] [1, 2] [1、2] and full-width 【1】 / ［1］
_MARKER = re.compile(r"[\[【［]\s*(\d{1,3}(?:\s*[,，、;；]\s*\d{1,3})*)\s*[\]】］]")
# Sentence boundaries; a marker right after the end punctuation stays with its sentence.
_NOT_MARKER = r"(?!\s*[\[【［]\s*\d)"
# "1. order classes;" is a numbered item, not a sentence "1.": a 1- or 2-digit label at a line
# start or after a colon or semicolon ("forms: 1. order classes; 2. …"), never "Article 25."
_NOT_LABEL = (
    r"(?<!^\d\.)(?<!\n\d\.)(?<!^\d\d\.)(?<!\n\d\d\.)"
    r"(?<![:;：；]\s\d\.)(?<![:;：；]\s\d\d\.)(?<![:;：；]\d\.)(?<![:;：；]\d\d\.)"
)
_SENTENCE_END = re.compile(
    rf"(?<=[。！？；!?;]){_NOT_MARKER}|(?<=[.\]]){_NOT_LABEL}\s+{_NOT_MARKER}|\n+"
)
_SENTENCE_END_KEEP = re.compile(
    rf"(?<=[。！？；!?;]){_NOT_MARKER}|(?<=[.\]]){_NOT_LABEL}(?=\s){_NOT_MARKER}|(?<=\n)"
)
# "1." "2)" "（一）" "- " at the start of a line: list labels, not claims
_LIST_LABEL = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)、]|[（(][一二三四五六七八九十\d]{1,3}[)）])\s*")
_MAX_QUOTE_CHARS = 240
#: share of an answer sentence's terms that a passage must contain to be cited automatically
SUPPORT_THRESHOLD = 0.5
#: embedding similarity (e5 query vs passage) above which a passage is taken to support a
#: sentence; between same-language paraphrases it runs ~0.85-0.9, cross-language ~0.8, and
#: unrelated text ~0.7
SUPPORT_SIMILARITY = 0.80
SUPPORT_MARGIN = 0.01


def quotable(sentence: str) -> bool:
    """A statement that may be quoted as evidence: not a Markdown heading, and not text that
    addresses an assistant (advisor/injection.py)."""
    return not sentence.lstrip().startswith("#") and not is_instruction(sentence)


def split_sentences(text: str) -> list[str]:
    return [s for s in (part.strip() for part in _SENTENCE_END.split(text)) if s]


def _terms(text: str) -> set[str]:
    return set(tokenize(text))


def _overlap(sentence_terms: set[str], other_terms: set[str]) -> float:
    if not sentence_terms:
        return 0.0
    return len(sentence_terms & other_terms) / len(sentence_terms)


def normalise_markers(answer: str, valid: int) -> tuple[str, list[str]]:
    """Rewrite marker groups as ``[a][b]`` and drop numbers outside 1..valid."""
    removed: list[str] = []

    def fix(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
        kept = []
        for n in numbers:
            if 1 <= n <= valid and n not in kept:
                kept.append(n)
            elif not 1 <= n <= valid:
                removed.append(f"[{n}]")
        return "".join(f"[{n}]" for n in kept)

    text = _MARKER.sub(fix, answer)
    text = re.sub(r"[ \t]+([。，；！？.,;!?])", r"\1", text)  # space left before punctuation
    return text, removed


def cited_numbers(sentence: str) -> list[int]:
    """The passage numbers a sentence's markers cite, in every notation ([1], [1,2], 【1】)."""
    return [int(n) for m in _MARKER.finditer(sentence) for n in re.split(r"\D+", m.group(1)) if n]


def strip_markers(text: str, replacement: str = "") -> str:
    """``text`` without its citation markers, in every notation ([1], [1,2], 【1】): the one
    marker parser (drift, parties and the figure rules use it too)."""
    return _MARKER.sub(replacement, text)


SupportFn = Callable[[Sequence[str], Sequence[Passage]], "np.ndarray"]


def add_missing_markers(
    answer: str, passages: Sequence[Passage], support: SupportFn | None = None
) -> str:
    """Give an unmarked factual sentence the marker of the passage that supports it best:
    by shared terms, or, when given, by ``support`` (embedding similarity, which also works
    when the answer and the passage are in different languages)."""
    passage_terms = [_terms(p.text) for p in passages]
    pieces = split_keep(answer)
    candidates: list[int] = []
    for i, sentence in enumerate(pieces):
        body = sentence.rstrip()
        content = _LIST_LABEL.sub("", strip_markers(body)).strip("*：: ")
        introduces_list = body.endswith((":", "："))
        # a section heading of the answer ("**Terms in the cited sources**") states nothing
        bold = body.strip()
        heading = (
            bold.startswith("**")
            and bold.endswith("**")
            and len(bold) <= 64
            and not any(mark in bold for mark in "。！？.!?；;")
        )
        if heading or introduces_list:
            continue
        if body and not cited_numbers(body) and len(content) >= 12:
            candidates.append(i)
    if not candidates or not passages:
        return answer
    similarity = support([pieces[i].strip() for i in candidates], passages) if support else None
    for row, i in enumerate(candidates):
        terms = _terms(pieces[i])
        scores = [_overlap(terms, pt) for pt in passage_terms]
        best = max(range(len(scores)), key=scores.__getitem__)
        if scores[best] < SUPPORT_THRESHOLD:
            if similarity is None:
                continue
            ranked = similarity[row].argsort()[::-1]
            best = int(ranked[0])
            top = float(similarity[row, best])
            runner_up = float(similarity[row, ranked[1]]) if len(ranked) > 1 else -1.0
            # e5-small separates supporting from merely related passages only narrowly,
            # across languages above all: demand a clear winner
            if top < SUPPORT_SIMILARITY or top - runner_up < SUPPORT_MARGIN:
                continue
        pieces[i] = _insert_marker(pieces[i], best + 1)
    return "".join(pieces)


def _insert_marker(sentence: str, n: int) -> str:
    body = sentence.rstrip()
    tail = sentence[len(body) :]
    end = body[-1] if body[-1] in "。！？；.!?;" else ""
    core = body[: len(body) - len(end)] if end else body
    return f"{core}[{n}]{end}{tail}"


def split_keep(text: str) -> list[str]:
    """Sentences with their trailing whitespace, so that joining restores the text."""
    parts = _SENTENCE_END_KEEP.split(text)
    return [p for p in parts if p]


def best_quote(passage: Passage, claims: Sequence[str]) -> str:
    """The sentence of ``passage`` that shares most terms with the claims citing it (a Markdown
    heading line only when the passage has nothing else)."""
    sentences = [s for s in split_sentences(passage.text) if quotable(s)]
    sentences = sentences or split_sentences(passage.text) or [passage.text.strip()]
    claim_terms: set[str] = set()
    for claim in claims:
        claim_terms |= _terms(strip_markers(claim))
    best = max(sentences, key=lambda s: (len(_terms(s) & claim_terms), -sentences.index(s)))
    quote = best.strip()
    if len(quote) > _MAX_QUOTE_CHARS:
        quote = quote[:_MAX_QUOTE_CHARS]
    return quote if quote in passage.text else passage.text.strip()[:_MAX_QUOTE_CHARS]


def check_citations(
    answer: str,
    passages: Sequence[Passage],
    *,
    add_missing: bool = True,
    support: SupportFn | None = None,
) -> tuple[str, list[Citation], list[str]]:
    """(cleaned answer, citations in order of first use, removed markers)."""
    text, removed = normalise_markers(answer, len(passages))
    if add_missing and passages:
        text = add_missing_markers(text, passages, support)
    claims: dict[int, list[str]] = defaultdict(list)
    order: list[int] = []
    for sentence in split_sentences(text):
        for n in cited_numbers(sentence):
            claims[n].append(sentence)
            if n not in order:
                order.append(n)
    citations = []
    for n in order:
        passage = passages[n - 1]
        quote = best_quote(passage, claims[n])
        page = passage.page_at(max(passage.text.find(quote), 0))
        citations.append(
            Citation(
                n=n,
                source=passage.source,
                page=page,
                chunk_id=passage.chunk_id,
                quote=quote,
                ocr=page is not None and page in passage.ocr_pages,
            )
        )
    return text.strip(), citations, removed
