"""Plan review: grade a college's collaboration plan against the rubric (advisor/data/rubric.toml).

For each dimension the plan itself is searched for concrete signals (an institution, a charter,
a budget, a ratio...). Each signal group found in a plan sentence that does not negate it
("尚未建立理事会" does not count) is evidence; the sentence is quoted verbatim with its page.
covered = at least ``covered_at`` groups, partial = at least one, missing = none. The grading
is deterministic, so the same plan always gets the same grades, and every quote is the plan's
own text.

For partial and missing dimensions the advisor is asked the dimension's question over the
knowledge base, so the recommendation is grounded there and cited; covered dimensions get the
evidence to keep tracking. The report: JSON (DESIGN's contract), Markdown or DOCX, with a
summary and a coverage chart (PNG).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.citations import quotable, split_sentences
from advisor.errors import ConfigError, InputFileError
from advisor.reports import cite_line
from advisor.schemas import Citation
from ingest.lang import detect_lang
from textrules import CJK
from vectorstore.retrieval import Passage

if TYPE_CHECKING:
    from advisor.chain import Advisor
    from advisor.service import AdvisorService
    from vectorstore.store import KnowledgeBase

RUBRIC_PATH = Path(__file__).resolve().parent / "data" / "rubric.toml"
REPORT_SUFFIXES = (".json", ".md", ".docx")
STATUSES = ("covered", "partial", "missing")
MAX_EVIDENCE = 3
_QUOTE_CHARS = 300

_NEGATION = re.compile(
    r"尚未|暂无|暂未|没有|未建立|未设立|未明确|未签订|未形成|未开展|缺乏|待定|待研究|另行研究"
    r"|\bnot yet\b|\bhas no\b|\bhave no\b|\bthere is no\b|\black(?:s|ing)?\b"
    r"|\bto be decided\b|\bTBD\b",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Dimension:
    key: str
    title_zh: str
    title_en: str
    questions_zh: tuple[str, ...]
    questions_en: tuple[str, ...]
    evidence_zh: str
    evidence_en: str
    policy_zh: str
    policy_en: str
    advice_zh: str
    advice_en: str
    covered_at: int
    signals: tuple[tuple[str, ...], ...]

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en

    def text(self, name: str, lang: str) -> Any:
        return getattr(self, f"{name}_{'zh' if lang == 'zh' else 'en'}")


@lru_cache(maxsize=4)
def load_rubric(path: Path = RUBRIC_PATH) -> tuple[Dimension, ...]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    dims = []
    for raw in data["dimension"]:
        signals = tuple(tuple(group) for group in raw["signals"])
        if not 1 <= raw["covered_at"] <= len(signals):
            raise ValueError(f"rubric {raw['key']}: covered_at outside 1..{len(signals)}")
        dims.append(
            Dimension(
                key=raw["key"],
                title_zh=raw["title_zh"],
                title_en=raw["title_en"],
                questions_zh=tuple(raw["questions_zh"]),
                questions_en=tuple(raw["questions_en"]),
                evidence_zh=raw["evidence_zh"],
                evidence_en=raw["evidence_en"],
                policy_zh=raw["policy_zh"],
                policy_en=raw["policy_en"],
                advice_zh=raw["advice_zh"],
                advice_en=raw["advice_en"],
                covered_at=int(raw["covered_at"]),
                signals=signals,
            )
        )
    if len({d.key for d in dims}) != len(dims):
        raise ValueError("rubric keys must be unique")
    return tuple(dims)


def rubric_questions(lang: str = "zh") -> list[dict[str, str]]:
    """The rubric's questions: the built-in question set for batch Q&A over a plan."""
    out = []
    for dim in load_rubric():
        for i, question in enumerate(dim.text("questions", lang), start=1):
            out.append({"id": f"{dim.key}-{i}", "question": question})
    return out


# ------------------------------------------------------------------------ grading


@dataclass(frozen=True, slots=True)
class Evidence:
    source: str
    page: int | None
    quote: str
    ocr: bool = False  # the page was read with OCR (a scanned plan)

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "page": self.page, "quote": self.quote, "ocr": self.ocr}


def _term_in(term: str, sentence: str) -> bool:
    if re.search(r"[A-Za-z]", term):
        return re.search(rf"(?<![A-Za-z]){re.escape(term)}", sentence, re.I) is not None
    return term in sentence


def signals_in(sentence: str, dim: Dimension) -> set[int]:
    """Indexes of the dimension's signal groups that ``sentence`` states (not negates)."""
    if _NEGATION.search(sentence):
        return set()
    return {i for i, group in enumerate(dim.signals) if any(_term_in(t, sentence) for t in group)}


@dataclass(slots=True)
class PlanSentence:
    text: str
    source: str
    page: int | None
    ocr: bool = False


_CJK = f"{CJK}“”‘’"
#: a line break inside Chinese running text is a wrap of the PDF's layout, not a boundary
_CJK_WRAP = re.compile(rf"(?<=[{_CJK}])[ \t]*\n[ \t]*(?=[{_CJK}\d])")
_LATIN_WRAP = re.compile(r"(?<=[A-Za-z,;])[ \t]*\n[ \t]*(?=[a-z(])")


def unwrap(text: str) -> str:
    """Undo layout line wraps (Chinese joined directly, English with a space); paragraph
    breaks (blank lines) and list items stay."""
    text = _CJK_WRAP.sub("", text)
    return _LATIN_WRAP.sub(" ", text)


def plan_sentences(passages: Sequence[Passage]) -> list[PlanSentence]:
    """Every sentence of the plan's chunks, with its page. Each page's part of a chunk is
    unwrapped separately, so a quote never spans a page break and its page is exact; the quote
    is the plan's text up to line breaks. Markdown headings are not statements."""
    out: list[PlanSentence] = []
    seen: set[str] = set()
    for passage in passages:
        starts = sorted({0, *(offset for offset, _ in passage.page_breaks)})
        bounds = [*starts, len(passage.text)]
        for begin, end in pairwise(bounds):
            page = passage.page_at(begin)
            for sentence in split_sentences(unwrap(passage.text[begin:end])):
                if not quotable(sentence) or len(sentence) < 6 or sentence in seen:
                    continue
                seen.add(sentence)
                ocr = page is not None and page in passage.ocr_pages
                out.append(PlanSentence(sentence, passage.source, page, ocr))
    return out


def grade(
    dim: Dimension, sentences: Sequence[PlanSentence]
) -> tuple[str, list[Evidence], set[int]]:
    found: set[int] = set()
    hits: list[tuple[int, int, PlanSentence, set[int]]] = []
    for position, s in enumerate(sentences):
        groups = signals_in(s.text, dim)
        if groups:
            found |= groups
            hits.append((len(groups), position, s, groups))
    status = "covered" if len(found) >= dim.covered_at else "partial" if found else "missing"
    # the sentences that state the most signals first; each new one must add a signal
    hits.sort(key=lambda h: (-h[0], h[1]))
    evidence: list[Evidence] = []
    shown: set[int] = set()
    for _, _, s, groups in hits:
        if groups - shown or not evidence:
            evidence.append(Evidence(s.source, s.page, s.text[:_QUOTE_CHARS], s.ocr))
            shown |= groups
        if len(evidence) >= MAX_EVIDENCE:
            break
    return status, evidence, found


# ------------------------------------------------------------------------ the report


@dataclass(slots=True)
class DimensionResult:
    dimension: Dimension
    status: str
    evidence: list[Evidence]
    signals_found: int
    recommendation: str = ""
    citations: list[Citation] = field(default_factory=list)

    def to_json(self, lang: str) -> dict[str, Any]:
        return {
            "key": self.dimension.key,
            "title": self.dimension.title(lang),
            "status": self.status,
            "evidence": [e.to_json() for e in self.evidence],
            "recommendation": self.recommendation,
            "citations": [c.to_json() for c in self.citations],
            "signals_found": self.signals_found,
            "signals_total": len(self.dimension.signals),
            "policy": self.dimension.text("policy", lang),
        }


@dataclass(slots=True)
class ReviewReport:
    plan: str
    lang: str
    dimensions: list[DimensionResult]
    llm: str
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for d in self.dimensions if d.status == s) for s in STATUSES}

    @property
    def score(self) -> float:
        """Share of the rubric covered: covered = 1, partial = 0.5."""
        c = self.counts()
        return (c["covered"] + 0.5 * c["partial"]) / max(len(self.dimensions), 1)

    def summary(self) -> str:
        c, n = self.counts(), len(self.dimensions)
        missing = [d.dimension.title(self.lang) for d in self.dimensions if d.status == "missing"]
        partial = [d.dimension.title(self.lang) for d in self.dimensions if d.status == "partial"]
        if self.lang == "zh":
            text = (
                f"按{n}个维度评审《{self.plan}》：覆盖{c['covered']}个，部分覆盖{c['partial']}个，"
                f"缺失{c['missing']}个，综合覆盖度{self.score:.0%}。"
            )
            if missing:
                text += f"缺失的维度：{'、'.join(missing)}。"
            if partial:
                text += f"需要补充细节的维度：{'、'.join(partial)}。"
            if missing or partial:
                text += "建议优先补齐缺失维度，并按各维度的建议写明机构、经费、指标和协议条款。"
            return text
        text = (
            f"{self.plan} reviewed on {n} dimensions: {c['covered']} covered, {c['partial']} "
            f"partial, {c['missing']} missing; overall coverage {self.score:.0%}."
        )
        if missing:
            text += f" Missing: {', '.join(missing)}."
        if partial:
            text += f" Needing detail: {', '.join(partial)}."
        if missing or partial:
            text += (
                " Fill the missing dimensions first, then add the bodies, budgets, indicators"
                " and agreement clauses each recommendation names."
            )
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "dimensions": [d.to_json(self.lang) for d in self.dimensions],
            "summary": self.summary(),
            "lang": self.lang,
            "score": round(self.score, 3),
            "counts": self.counts(),
            "llm": self.llm,
            "created_at": self.created_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReviewReport:
        """A report saved with ``to_json`` (a user's past review), ready to write again."""
        by_key = {dim.key: dim for dim in load_rubric()}
        results = []
        for d in data["dimensions"]:
            if d["key"] not in by_key:  # the rubric has changed since: keep what still exists
                continue
            results.append(
                DimensionResult(
                    by_key[d["key"]],
                    d["status"],
                    [
                        Evidence(e["source"], e["page"], e["quote"], bool(e.get("ocr")))
                        for e in d["evidence"]
                    ],
                    int(d.get("signals_found", 0)),
                    d.get("recommendation", ""),
                    [Citation.from_json(c) for c in d.get("citations", [])],
                )
            )
        return cls(
            data["plan"],
            data.get("lang", "zh"),
            results,
            data.get("llm", ""),
            data.get("created_at", ""),
        )


Progress = Callable[[str], None]


def review_plan(
    service: AdvisorService,
    plan: Path,
    *,
    kb: str | None = None,
    lang: str | None = None,
    progress: Progress | None = None,
    advisor: Advisor | None = None,
) -> ReviewReport:
    """Index ``plan`` privately, grade it on every dimension, and ask the knowledge base for
    recommendations where it falls short. ``progress(step)`` is called once per step.
    ``advisor`` answers the recommendations (a browser session's backend and top-k); by
    default the service's, over ``kb``."""
    if not plan.is_file():
        raise InputFileError(f"no such plan file: {plan}")
    # recommendations come from the shared knowledge base only: the plan is graded, it does
    # not get to recommend itself
    advisor = advisor or service.advisor([kb] if kb else None)
    with service.plan_scope([plan]) as plan_kbs:
        passages = kb_passages(service.knowledge_base(plan_kbs[0]))
        if not passages:
            raise InputFileError(f"plan not indexed: {plan.name} holds no text")
        return review_passages(advisor, plan.name, passages, lang=lang, progress=progress)


def review_passages(
    advisor: Advisor,
    plan_name: str,
    passages: Sequence[Passage],
    *,
    lang: str | None = None,
    progress: Progress | None = None,
) -> ReviewReport:
    """Grade a plan given as its passages in document order (a file indexed for the review, or
    a plan kept in a user's workspace: ``Workspace.plan_passages``); ``advisor`` answers the
    recommendations over the shared knowledge base. The one review workflow: the CLI (through
    ``review_plan``) and the batch page both come here."""
    rubric = load_rubric()
    sentences = plan_sentences(passages)
    lang = lang or detect_lang(" ".join(s.text for s in sentences[:40]))
    lang = "zh" if lang == "zh" else "en"
    results = []
    for dim in rubric:
        status, evidence, found = grade(dim, sentences)
        result = DimensionResult(dim, status, evidence, len(found))
        if status == "covered":
            keep = dim.text("evidence", lang)
            result.recommendation = (
                f"已覆盖。建议持续跟踪：{keep}。"
                if lang == "zh"
                else f"Covered. Keep tracking: {keep}."
            )
        else:
            answer = advisor.answer(dim.text("advice", lang))
            gap = dim.text("evidence", lang)
            lead = f"方案应补充：{gap}。" if lang == "zh" else f"The plan should add: {gap}."
            if answer.refused:
                result.recommendation = lead
            else:
                result.recommendation = f"{lead}\n\n{answer.answer}"
                result.citations = answer.citations
        results.append(result)
        if progress is not None:
            progress(dim.key)
    return ReviewReport(plan=plan_name, lang=lang, dimensions=results, llm=advisor.llm_label)


def kb_passages(kb: KnowledgeBase, where: dict[str, Any] | None = None) -> list[Passage]:
    """The committed chunks of ``kb`` (optionally filtered) as passages, in document order:
    a plan as the grader reads it."""
    chunks = sorted(
        kb.iter_chunks(where=where),
        key=lambda c: (str(c.metadata.get("source")), c.metadata.get("chunk_index", 0)),
    )
    return [Passage.from_metadata(c.chunk_id, c.text, c.metadata, kb.name) for c in chunks]


# ------------------------------------------------------------------------ writers

_STATUS_COLOUR = {"covered": "#2e7d32", "partial": "#f9a825", "missing": "#c62828"}
#: the report's fixed words in each language
_WORDS = {
    "zh": {
        "covered": "覆盖",
        "partial": "部分覆盖",
        "missing": "缺失",
        "title": "方案评审报告：",
        "summary": "摘要",
        "coverage": "覆盖度",
        "chart": "方案覆盖度（各维度的证据信号）",
        "dimension": "维度",
        "status": "结论",
        "signals": "证据信号",
        "asks": "评审要点：",
        "evidence": "方案中的证据",
        "none": "（方案中没有找到相关内容）",
        "recommendation": "建议",
        "policy": "政策依据：",
        "page": "（第{page}页{ocr}）",
    },
    "en": {
        "covered": "covered",
        "partial": "partial",
        "missing": "missing",
        "title": "Plan review: ",
        "summary": "Summary",
        "coverage": "coverage",
        "chart": "Plan coverage (evidence signals per dimension)",
        "dimension": "Dimension",
        "status": "Status",
        "signals": "Signals",
        "asks": "Asks: ",
        "evidence": "Evidence in the plan",
        "none": "(nothing in the plan)",
        "recommendation": "Recommendation",
        "policy": "Policy basis: ",
        "page": " (p. {page}{ocr})",
    },
}


def write_report(report: ReviewReport, path: Path) -> list[Path]:
    """Writes the report by ``path``'s extension; returns the files written (a Markdown report
    also writes its chart beside it as ``<name>_coverage.png``)."""
    suffix = path.suffix.lower()
    if suffix not in REPORT_SUFFIXES:
        raise ConfigError(f"unsupported report {path.name}: use {' '.join(REPORT_SUFFIXES)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    written = [path]
    if suffix == ".json":
        tmp.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    elif suffix == ".md":
        chart = path.with_name(f"{path.stem}_coverage.png")
        chart.write_bytes(coverage_chart(report))
        tmp.write_text(_markdown(report, chart.name), encoding="utf-8")
        written.append(chart)
    else:
        _docx(report, tmp)
    tmp.replace(path)
    return written


def _font() -> Any:
    """A Chinese-capable font for the chart (WenQuanYi Micro Hei, from a PyPI package)."""
    from matplotlib import font_manager

    try:
        import paperang_p2_fonts_cjk

        font_path = Path(paperang_p2_fonts_cjk.__file__).parent / "fonts" / "wqy-microhei.ttc"
        if font_path.is_file():
            font_manager.fontManager.addfont(str(font_path))
            return font_manager.FontProperties(fname=str(font_path))
    except ImportError:  # pragma: no cover - the package is in requirements.txt
        pass
    return font_manager.FontProperties(family="DejaVu Sans")


def coverage_chart(report: ReviewReport) -> bytes:
    """A horizontal bar per dimension: signals found out of the total, coloured by status."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.patches import Patch

    font = _font()
    dims = list(reversed(report.dimensions))
    labels = [d.dimension.title(report.lang) for d in dims]
    shares = [d.signals_found / max(len(d.dimension.signals), 1) for d in dims]
    colours = [_STATUS_COLOUR[d.status] for d in dims]
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(dims) + 1.4), dpi=120)
    ax.barh(range(len(dims)), [max(s, 0.02) for s in shares], color=colours)
    ax.set_yticks(range(len(dims)))
    ax.set_yticklabels(labels, fontproperties=font)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    words = _WORDS[report.lang]
    ax.set_title(f"{words['chart']} · {report.score:.0%}", fontproperties=font)
    ax.legend(
        handles=[Patch(color=_STATUS_COLOUR[s], label=words[s]) for s in STATUSES],
        prop=font,
        loc="lower right",
    )
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _sources(citations: Sequence[Citation]) -> list[str]:
    return [cite_line(c) for c in citations]


def _page(e: Evidence, lang: str) -> str:
    if not e.page:
        return ""
    mark = ("，OCR" if lang == "zh" else ", OCR") if e.ocr else ""
    return _WORDS[lang]["page"].format(page=e.page, ocr=mark)


def _markdown(report: ReviewReport, chart_name: str) -> str:
    lang = report.lang
    w = _WORDS[lang]
    lines = [
        f"# {w['title']}{report.plan}",
        "",
        f"<sub>{report.llm} · {report.created_at}</sub>",
        "",
        f"## {w['summary']}",
        "",
        report.summary(),
        "",
        f"![{w['coverage']}]({chart_name})",
        "",
        f"| {w['dimension']} | {w['status']} | {w['signals']} |",
        "|---|---|---|",
    ]
    for d in report.dimensions:
        found = f"{d.signals_found}/{len(d.dimension.signals)}"
        lines.append(f"| {d.dimension.title(lang)} | {w[d.status]} | {found} |")
    for d in report.dimensions:
        lines += ["", f"## {d.dimension.title(lang)} · {w[d.status]}", ""]
        lines += [f"*{w['asks']}{' '.join(d.dimension.text('questions', lang))}*", ""]
        lines += [f"**{w['evidence']}**", ""]
        for e in d.evidence:
            lines += [f"> “{e.quote}”{_page(e, lang)}", ""]
        if not d.evidence:
            lines += [w["none"], ""]
        lines += [f"**{w['recommendation']}**", "", d.recommendation, ""]
        if d.citations:
            lines += [f"- {line}" for line in _sources(d.citations)] + [""]
        lines += [f"<sub>{w['policy']}{d.dimension.text('policy', lang)}</sub>"]
    return "\n".join(lines) + "\n"


def _docx(report: ReviewReport, path: Path) -> None:
    import io

    import docx
    from docx.shared import Inches, RGBColor

    lang = report.lang
    w = _WORDS[lang]
    document = docx.Document()
    document.add_heading(f"{w['title']}{report.plan}", level=0)
    document.add_paragraph(f"{report.llm} · {report.created_at}")
    document.add_heading(w["summary"], level=1)
    document.add_paragraph(report.summary())
    document.add_picture(io.BytesIO(coverage_chart(report)), width=Inches(6.3))
    table = document.add_table(rows=1, cols=3)
    table.style = "Light Grid Accent 1"
    header = table.rows[0].cells
    header[0].text, header[1].text, header[2].text = w["dimension"], w["status"], w["signals"]
    for d in report.dimensions:
        cells = table.add_row().cells
        cells[0].text = d.dimension.title(lang)
        cells[1].text = w[d.status]
        cells[2].text = f"{d.signals_found}/{len(d.dimension.signals)}"
    for d in report.dimensions:
        heading = document.add_heading(f"{d.dimension.title(lang)} · {w[d.status]}", level=1)
        for run in heading.runs:
            run.font.color.rgb = RGBColor.from_string(_STATUS_COLOUR[d.status][1:].upper())
        asks = " ".join(d.dimension.text("questions", lang))
        document.add_paragraph().add_run(asks).italic = True
        document.add_heading(w["evidence"], level=2)
        for e in d.evidence:
            document.add_paragraph(f"“{e.quote}”{_page(e, lang)}", style="Intense Quote")
        if not d.evidence:
            document.add_paragraph(w["none"])
        document.add_heading(w["recommendation"], level=2)
        for block in d.recommendation.split("\n\n"):
            document.add_paragraph(block)
        for line in _sources(d.citations):
            document.add_paragraph(line, style="List Bullet")
        document.add_paragraph(f"{w['policy']}{d.dimension.text('policy', lang)}")
    document.save(str(path))
