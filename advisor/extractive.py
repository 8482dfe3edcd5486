"""The ``extractive`` backend: no language model. It answers with the decisive sentences of the
retrieved passages (``advisor.evidence``), each cited; the answer is labelled as such.
Sentences stay in the language of their source (nothing is translated)."""

from __future__ import annotations

from prompts import load_prompt


def extractive_label(lang: str) -> str:
    return load_prompt("extractive_label", lang)
