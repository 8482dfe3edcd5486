"""The records the advisor returns; ``to_record`` gives DESIGN's JSONL contract."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vectorstore.retrieval import Passage


@dataclass(frozen=True, slots=True)
class Citation:
    n: int  # the passage number used in the answer's [n] markers (= its rank in contexts)
    source: str
    page: int | None
    chunk_id: str
    quote: str  # text copied from that chunk
    #: the page's text was read with OCR (a scan): shown as "OCR" next to the page
    ocr: bool = False
    #: how to cite it: "《中华人民共和国职业教育法》（2022年修订）第二十四条" ("" without a
    #: title), its article ("第二十四条" or None) and the document's status (advisor/labels.py)
    label: str = ""
    article: str | None = None
    status: str = "unknown"

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "source": self.source,
            "page": self.page,
            "chunk_id": self.chunk_id,
            "quote": self.quote,
            "ocr": self.ocr,
            "label": self.label or None,
            "article": self.article,
            "status": self.status,
        }

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> Citation:
        """The citation of a stored record (``to_json``; older records lack the labels)."""
        return cls(
            n=int(record["n"]),
            source=str(record["source"]),
            page=record.get("page"),
            chunk_id=str(record.get("chunk_id", "")),
            quote=str(record.get("quote", "")),
            ocr=bool(record.get("ocr", False)),
            label=str(record.get("label") or ""),
            article=record.get("article"),
            status=str(record.get("status") or "unknown"),
        )


@dataclass(slots=True)
class Answer:
    question: str
    answer: str
    refused: bool
    citations: list[Citation]
    contexts: list[Passage]
    lang: str
    llm: str
    standalone_question: str = ""
    latency_s: float = 0.0
    first_token_s: float | None = None
    #: seconds from the question to the passages being shown (SourcesEvent)
    sources_s: float | None = None
    #: "no_evidence" (retrieval gate) | "model" (the model said so) | "unsupported" (every
    #: claim stated a figure absent from the evidence)
    refusal_reason: str = ""
    removed_markers: list[str] = field(default_factory=list)
    #: answer sentences removed because they stated a figure absent from the evidence
    dropped_claims: list[str] = field(default_factory=list)
    #: words of the other language mended and sentences dropped (``advisor.drift``)
    language_changes: list[str] = field(default_factory=list)
    #: the support check's verdict (advisor/evidence.py), for evaluation and logs
    support: Any = None
    #: the model said "not covered" where the support check found the answer stated, and was
    #: asked again with the sentences the extractive backend would quote (``Advisor.stream``)
    second_reading: bool = False

    def to_record(self, record_id: str | int | None = None) -> dict[str, Any]:
        return {
            "id": record_id,
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [c.to_json() for c in self.citations],
            "contexts": [
                {
                    "rank": p.rank,
                    "source": p.source,
                    "page": p.page,
                    "chunk_id": p.chunk_id,
                    "score": round(p.score, 6),
                    "text": p.text,
                    "ocr": p.page is not None and p.page in p.ocr_pages,
                }
                for p in self.contexts
            ],
            "latency_s": round(self.latency_s, 3),
            "llm": self.llm,
        }
