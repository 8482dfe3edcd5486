"""Evaluation of the advisor on a question set with expected sources and key facts.

Each line of the set: ``{"id", "lang", "type"?, "question", "history"?, "answerable",
"expected_sources", "key_facts": [[alternative, ...], ...]}``. Figures: hit@5 and MRR (an
expected source among the retrieved passages), key-fact coverage (share of facts with one
alternative in the answer), refusal accuracy (unanswerable refused; answerable wrongly
refused), citation validity (every shown citation points to a given passage and quotes it
verbatim) and latency; per id group, language and question type.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.chain import Advisor
from advisor.schemas import Answer


@dataclass(slots=True)
class EvalItem:
    id: str
    lang: str
    question: str
    answerable: bool
    expected_sources: list[str]
    key_facts: list[list[str]]
    history: list[dict[str, str]] = field(default_factory=list)
    #: question type (named, version, enumeration, advisory, cross-lingual, unanswerable, ...)
    type: str = ""

    @property
    def group(self) -> str:
        """The id without its number: ``law-en-03`` is in ``law-en``."""
        return self.id.rsplit("-", 1)[0]

    @property
    def kind(self) -> str:
        """The question type, or for rows without one, what the id and the set say."""
        if self.type:
            return self.type
        if not self.answerable:
            return "unanswerable"
        if self.history:
            return "follow-up"
        return "other"


def load_eval_set(path: Path) -> list[EvalItem]:
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        items.append(
            EvalItem(
                id=row["id"],
                lang=row["lang"],
                question=row["question"],
                answerable=bool(row["answerable"]),
                expected_sources=list(row.get("expected_sources") or []),
                key_facts=[
                    list(f) if isinstance(f, list) else [f] for f in row.get("key_facts") or []
                ],
                history=list(row.get("history") or []),
                type=str(row.get("type") or ""),
            )
        )
    return items


@dataclass(slots=True)
class ItemResult:
    item: EvalItem
    answer: Answer
    rank_of_expected: int | None  # 1-based rank of the first expected source, None if absent
    facts_found: int
    citations_valid: int
    citations_total: int
    #: citations carrying an article label, and those whose label the chunk text confirms
    articles_total: int = 0
    articles_right: int = 0

    @property
    def hit_at_5(self) -> bool:
        return self.rank_of_expected is not None and self.rank_of_expected <= 5

    def to_json(self) -> dict[str, Any]:
        a = self.answer
        return {
            "id": self.item.id,
            "lang": self.item.lang,
            "type": self.item.kind,
            "answerable": self.item.answerable,
            "refused": a.refused,
            "refusal_reason": a.refusal_reason,
            "rank_of_expected": self.rank_of_expected,
            "facts": f"{self.facts_found}/{len(self.item.key_facts)}",
            "citations_valid": f"{self.citations_valid}/{self.citations_total}",
            "articles_right": f"{self.articles_right}/{self.articles_total}",
            "best_similarity": max((p.similarity or 0.0 for p in a.contexts), default=0.0),
            "best_keyword": max((p.keyword_score or 0.0 for p in a.contexts), default=0.0),
            "latency_s": round(a.latency_s, 2),
            "first_token_s": None if a.first_token_s is None else round(a.first_token_s, 2),
            "sources_s": None if a.sources_s is None else round(a.sources_s, 3),
            "answer": a.answer,
            "sources": [p.source for p in a.contexts],
            #: the model's sentences taken out for a figure their sources do not hold
            "dropped": list(a.dropped_claims),
            "second_reading": a.second_reading,
        }


def fact_found(answer: str, alternatives: Sequence[str]) -> bool:
    text = answer.lower()
    return any(alt.lower() in text for alt in alternatives)


def score_item(item: EvalItem, answer: Answer) -> ItemResult:
    rank = next((p.rank for p in answer.contexts if p.source in item.expected_sources), None)
    facts = 0 if answer.refused else sum(fact_found(answer.answer, f) for f in item.key_facts)
    valid = articles = right = 0
    for c in answer.citations:
        if 1 <= c.n <= len(answer.contexts):
            passage = answer.contexts[c.n - 1]
            valid += passage.chunk_id == c.chunk_id and bool(c.quote) and c.quote in passage.text
            if c.article:
                articles += 1
                right += article_confirmed(c.article, c.quote, passage.text)
    return ItemResult(item, answer, rank, facts, valid, len(answer.citations), articles, right)


def article_confirmed(article: str, quote: str, text: str) -> bool:
    """Whether a citation's article is the one its quote stands in, read off the chunk text:
    the last article label ("第二十四条") before the quote must be it; a chunk that continues
    an article (no label before the quote) must not open with another article's label."""
    from advisor.labels import ARTICLE

    at = text.find(quote)
    before = text[: at if at >= 0 else len(text)]
    starts = [
        m for m in ARTICLE.finditer(before) if m.start() == 0 or before[m.start() - 1] in "\n 　"
    ]
    if starts:
        return starts[-1].group(0) == article
    opening = ARTICLE.match(text.lstrip())
    return opening is None or opening.group(0) == article


@dataclass(slots=True)
class EvalReport:
    results: list[ItemResult]
    llm: str

    def figures(self) -> dict[str, Any]:
        answerable = [r for r in self.results if r.item.answerable]
        unanswerable = [r for r in self.results if not r.item.answerable]
        facts_total = sum(len(r.item.key_facts) for r in answerable)
        latencies = [
            r.answer.latency_s for r in self.results if r.answer.refusal_reason != "no_evidence"
        ]
        first = [r.answer.first_token_s for r in self.results if r.answer.first_token_s]
        sources = [r.answer.sources_s for r in self.results if r.answer.sources_s is not None]
        cited = sum(r.citations_total for r in self.results)
        return {
            "llm": self.llm,
            "questions": len(self.results),
            "answerable": len(answerable),
            "unanswerable": len(unanswerable),
            "hit_at_5": _ratio(sum(r.hit_at_5 for r in answerable), len(answerable)),
            "mrr": _ratio(
                sum(1 / r.rank_of_expected for r in answerable if r.rank_of_expected),
                len(answerable),
            ),
            "key_fact_coverage": _ratio(sum(r.facts_found for r in answerable), facts_total),
            "unanswerable_refused": _ratio(
                sum(r.answer.refused for r in unanswerable), len(unanswerable)
            ),
            "answerable_refused": _ratio(
                sum(r.answer.refused for r in answerable), len(answerable)
            ),
            "citation_validity": _ratio(sum(r.citations_valid for r in self.results), cited),
            "citations": cited,
            "article_labels_right": _ratio(
                sum(r.articles_right for r in self.results),
                sum(r.articles_total for r in self.results),
            ),
            "article_labels": sum(r.articles_total for r in self.results),
            "latency_mean_s": _mean(latencies),
            "latency_p50_s": _percentile(latencies, 50),
            "latency_p95_s": _percentile(latencies, 95),
            "first_token_p50_s": _percentile(first, 50),
            "first_token_p95_s": _percentile(first, 95),
            "sources_p50_s": _percentile(sources, 50),
            "sources_p95_s": _percentile(sources, 95),
        }

    def by_group(self) -> dict[str, dict[str, Any]]:
        """Figures per id group (``law-en``), per language and per question type."""
        return self._grouped(lambda item: item.group)

    def by_language(self) -> dict[str, dict[str, Any]]:
        return self._grouped(lambda item: item.lang)

    def by_type(self) -> dict[str, dict[str, Any]]:
        return self._grouped(lambda item: item.kind)

    def _grouped(self, key: Callable[[EvalItem], str]) -> dict[str, dict[str, Any]]:
        groups: dict[str, list[ItemResult]] = {}
        for r in self.results:
            groups.setdefault(key(r.item), []).append(r)
        return {name: EvalReport(rs, self.llm).figures() for name, rs in sorted(groups.items())}


def _ratio(num: float, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _mean(values: Sequence[float]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def _percentile(values: Sequence[float], pct: int) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))
    return round(ordered[index], 2)


def run_eval(
    advisor: Advisor,
    items: Sequence[EvalItem],
    on_result: Callable[[ItemResult], None] | None = None,
) -> EvalReport:
    results = []
    for item in items:
        answer = advisor.answer(item.question, item.history)
        result = score_item(item, answer)
        results.append(result)
        if on_result:
            on_result(result)
    return EvalReport(results, advisor.llm_label)
