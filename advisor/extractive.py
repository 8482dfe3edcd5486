"""The ``extractive`` backend: no language model. It picks the sentences of the retrieved
passages that best match the question and cites each one; the answer is labelled as such.
Sentences stay in the language of their source (nothing is translated)."""

from __future__ import annotations

from collections.abc import Sequence

from advisor.citations import quotable, split_sentences
from prompts import load_prompt
from vectorstore.keyword import tokenize
from vectorstore.retrieval import Passage

MAX_SENTENCES = 4
MAX_CHARS = 600


def extractive_label(lang: str) -> str:
    return load_prompt("extractive_label", lang)


def extractive_answer(
    question: str, passages: Sequence[Passage], lang: str, extra_terms: Sequence[str] = ()
) -> str:
    """The chosen sentences, one per line with their marker (without the label, which
    ``extractive_label`` gives: it is not a claim and must not be cited). ``extra_terms``
    are the question's key terms in the other language, from the glossary."""
    question_terms = set(tokenize(question)) | set(tokenize(" ".join(extra_terms)))
    phrases = [t for t in extra_terms if len(t) >= 2]
    scored: list[tuple[float, int, int, str]] = []
    for n, passage in enumerate(passages, start=1):
        for position, sentence in enumerate(split_sentences(passage.text)):
            if len(sentence) < 8 or not quotable(sentence):
                continue  # fragments, headings and text addressed to an assistant
            terms = set(tokenize(sentence))
            shared = len(terms & question_terms) + sum(2 for t in phrases if t in sentence)
            overlap = shared / (len(question_terms) or 1)
            # retrieval rank is the prior: it also carries cross-language matches, where
            # the question's words cannot overlap the passage's
            prior = 1.0 / (n + 1)
            scored.append((overlap + prior, n, position, sentence))
    scored.sort(key=lambda item: item[0], reverse=True)
    chosen: list[tuple[int, int, str]] = []
    used = 0
    for _, n, position, sentence in scored:
        if len(chosen) >= MAX_SENTENCES or (used + len(sentence) > MAX_CHARS and chosen):
            break
        chosen.append((n, position, sentence))
        used += len(sentence)
    chosen.sort()  # passage order, then sentence order: reads more naturally
    return "\n".join(f"- {sentence.rstrip()}[{n}]" for n, _, sentence in chosen)
