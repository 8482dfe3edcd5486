"""Starter questions for an empty chat, drawn from what the knowledge base holds.

Each row of ``data/starters.tsv`` pairs a topic's terms with a question in Chinese and in
English. A topic is offered when its terms occur in the knowledge base's chunks; topics found
in more documents come first. The chat shows them in both of the UI's languages, so that a
new user sees at once what the advisor can answer here, and nothing it cannot.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vectorstore.retrieval import SearchableKB

STARTERS_PATH = Path(__file__).resolve().parent / "data" / "starters.tsv"


@dataclass(frozen=True, slots=True)
class Starter:
    terms: tuple[str, ...]
    zh: str
    en: str


def load_starters(path: Path = STARTERS_PATH) -> list[Starter]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        terms, zh, en = line.split("\t")
        rows.append(Starter(tuple(t.lower() for t in terms.split("|")), zh.strip(), en.strip()))
    return rows


def starter_questions(kb: SearchableKB, n: int = 4) -> list[Starter]:
    """Up to ``n`` starters whose topics the knowledge base covers, most documents first."""
    kb.sync()
    texts: dict[str, list[str]] = {}
    for chunk_id, text in kb.keywords.chunk_texts().items():
        doc = str(kb.keywords.metadata(chunk_id).get("doc_id", ""))
        texts.setdefault(doc, []).append(text.lower())
    documents = {doc: "\n".join(parts) for doc, parts in texts.items()}
    scored = []
    for i, starter in enumerate(load_starters()):
        docs = sum(1 for text in documents.values() if any(t in text for t in starter.terms))
        if docs:
            scored.append((-docs, i, starter))
    return [starter for _, _, starter in sorted(scored)[:n]]
