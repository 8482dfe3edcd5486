"""One question across several documents, side by side: "上海、青岛、宁波对企业参与职业教育各有
什么激励措施？".

The answer is a table with one column per document and one row per aspect (funding, tax,
finance, rewards…: ``advisor/data/aspects.toml``). Each cell is the document's own sentence for
that aspect, quoted verbatim and cited; a document with no such sentence "does not address" the
aspect, and the cell says so. Nothing in a cell is written by a model, so nothing is guessed.
With a model, a short overview above the table compares the columns, each sentence cited and
checked like an answer's (figures must be in the cells it cites).

The columns come from the question (the regions and documents it names) or from the user (a
form, ``compare --doc``). A region with several documents gives the one whose passages answer
the question best; superseded versions are left out unless named.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.citations import check_citations, cited_numbers, split_keep
from advisor.errors import ConfigError
from advisor.evidence import Decisive, decisive_sentences
from advisor.labels import document_label, label_citations
from advisor.reports import cite_label, cite_line
from advisor.schemas import Citation
from prompts import load_prompt, render_prompt

if TYPE_CHECKING:
    from advisor.chain import Advisor
    from vectorstore.retrieval import Passage
    from vectorstore.store import DocumentRecord

log = logging.getLogger(__name__)

ASPECTS_PATH = Path(__file__).resolve().parent / "data" / "aspects.toml"
#: rows shown when the question names no aspect, and passages read per document
MAX_ROWS, PASSAGES_PER_DOCUMENT = 8, 8
#: a law's statement of purpose ("第一条 为了…，制定本条例。") is no provision on any aspect
_PURPOSE = re.compile(r"^(?:第[^条]{1,8}条\s*)?为了?.*制定本(?:条例|法|办法|规定|细则)")
#: a cell quotes at most this much of its sentence
CELL_CHARS = 220
#: columns at most (a table wider than this is not read side by side)
MAX_COLUMNS = 6
_PLACE_SUFFIX = re.compile(r"(?:省|市|自治区|特别行政区|壮族自治区|回族自治区|维吾尔自治区)$")
NOT_ADDRESSED = {"zh": "未涉及", "en": "Not addressed"}


@dataclass(frozen=True, slots=True)
class Aspect:
    key: str
    zh: str
    en: str
    terms_zh: tuple[str, ...]
    terms_en: tuple[str, ...]

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def holds(self, sentence: str) -> bool:
        if any(t in sentence for t in self.terms_zh):
            return True
        lowered = sentence.lower()
        return any(re.search(rf"\b{re.escape(t)}", lowered) for t in self.terms_en)

    def named_in(self, question: str) -> bool:
        lowered = question.lower()
        return self.zh in question or self.en.lower() in lowered


@lru_cache(maxsize=1)
def load_aspects(path: Path = ASPECTS_PATH) -> tuple[Aspect, ...]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return tuple(
        Aspect(
            a["key"], a["zh"], a["en"], tuple(a.get("terms_zh", ())), tuple(a.get("terms_en", ()))
        )
        for a in data["aspect"]
    )


@dataclass(frozen=True, slots=True)
class Column:
    kb: str
    doc_id: str
    source: str
    title: str
    label: str  # 《title》（version） or the file name
    region: str
    status: str

    @classmethod
    def of(cls, kb: str, record: DocumentRecord) -> Column:
        label = document_label(record) or record.title or record.source
        return cls(
            kb, record.doc_id, record.source, record.title, label, record.region, record.status
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "source": self.source,
            "label": self.label,
            "region": self.region or None,
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class Cell:
    text: str  # the document's sentence, verbatim (cut at CELL_CHARS)
    n: int  # its citation


@dataclass(slots=True)
class Comparison:
    question: str
    lang: str
    columns: list[Column]
    aspects: list[Aspect]
    #: per aspect key, one entry per column: its cell, or None (not addressed)
    cells: dict[str, list[Cell | None]]
    citations: list[Citation]
    llm: str
    overview: str = ""
    contexts: list[Passage] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "lang": self.lang,
            "llm": self.llm,
            "overview": self.overview,
            "columns": [c.to_json() for c in self.columns],
            "rows": [
                {
                    "aspect": a.key,
                    "name": a.name(self.lang),
                    "cells": [
                        {"text": cell.text, "n": cell.n} if cell else None
                        for cell in self.cells[a.key]
                    ],
                }
                for a in self.aspects
            ],
            "citations": [c.to_json() for c in self.citations],
        }

    # ---------------------------------------------------------------- exports

    def header(self) -> list[str]:
        return ["方面 Aspect" if self.lang == "zh" else "Aspect", *(c.label for c in self.columns)]

    def grid(self) -> list[list[str]]:
        """The table's rows as text: the aspect, then each column's cell with its marker."""
        missing = NOT_ADDRESSED["zh" if self.lang == "zh" else "en"]
        return [
            [a.name(self.lang)]
            + [f"{cell.text}[{cell.n}]" if cell else missing for cell in self.cells[a.key]]
            for a in self.aspects
        ]

    def to_markdown(self) -> str:
        def row(values: Sequence[str]) -> str:
            cells = (v.replace("|", "｜").replace("\n", " ") for v in values)
            return "| " + " | ".join(cells) + " |"

        header = self.header()
        lines = [f"**{self.question}**", ""]
        if self.overview:
            lines += [self.overview, ""]
        lines += [row(header), row(["---"] * len(header))]
        lines += [row(r) for r in self.grid()]
        lines += ["", "来源 Sources:" if self.lang == "zh" else "Sources:"]
        lines += [f"- {cite_line(c)}" for c in self.citations]
        return "\n".join(lines) + "\n"

    def export(self, suffix: str) -> bytes:
        """The table as the bytes of a .md, .xlsx, .docx or .json file (downloads)."""
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"comparison{suffix}"
            self.write(path)
            return path.read_bytes()

    def write(self, path: Path) -> None:
        """The table as .md, .xlsx, .docx or .json, by the extension of ``path``."""
        suffix = path.suffix.lower()
        if suffix == ".md":
            path.write_text(self.to_markdown(), encoding="utf-8")
        elif suffix == ".json":
            import json

            path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1), "utf-8")
        elif suffix == ".xlsx":
            self._write_xlsx(path)
        elif suffix == ".docx":
            self._write_docx(path)
        else:
            raise ConfigError(f"--out must end in one of {' '.join(COMPARE_SUFFIXES)}")

    def _write_xlsx(self, path: Path) -> None:
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Font

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "对比 Comparison"
        sheet.append(self.header())
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for values in self.grid():
            sheet.append(values)
        sheet.column_dimensions["A"].width = 18
        for i in range(len(self.columns)):
            sheet.column_dimensions[chr(ord("B") + i)].width = 48
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        sources = book.create_sheet("来源 Sources")
        sources.append(["n", "source", "page", "quote"])
        for c in self.citations:
            sources.append([c.n, cite_label(c).split("] ", 1)[-1], c.page, c.quote])
        book.save(path)

    def _write_docx(self, path: Path) -> None:
        from docx import Document

        document = Document()
        document.add_heading(self.question, level=1)
        if self.overview:
            document.add_paragraph(self.overview)
        header = self.header()
        table = document.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        for cell, value in zip(table.rows[0].cells, header, strict=True):
            cell.text = value
        for values in self.grid():
            cells = table.add_row().cells
            for cell, value in zip(cells, values, strict=True):
                cell.text = value
        document.add_heading("来源 Sources" if self.lang == "zh" else "Sources", level=2)
        for c in self.citations:
            document.add_paragraph(cite_line(c), style="List Bullet")
        document.save(str(path))


COMPARE_SUFFIXES = (".md", ".xlsx", ".docx", ".json")


# -------------------------------------------------------------------- scopes


def short_place(region: str) -> str:
    """The name a question uses for a region: 宁波市 -> 宁波, 浙江省宁波市 -> 宁波."""
    last = re.split(r"(?<=省|区)", region)[-1] or region
    return _PLACE_SUFFIX.sub("", last) or last


def places_named(question: str, records: Sequence[DocumentRecord]) -> list[str]:
    """The regions of ``records`` that ``question`` names, in the question's order."""
    found: dict[str, int] = {}
    for record in records:
        if not record.region:
            continue
        place = short_place(record.region)
        at = question.find(place) if len(place) >= 2 else -1
        if at >= 0:
            found.setdefault(record.region, at)
    return sorted(found, key=lambda region: found[region])


# -------------------------------------------------------------------- the table


def _cell_text(sentence: str) -> str:
    sentence = sentence.strip()
    return sentence if len(sentence) <= CELL_CHARS else sentence[: CELL_CHARS - 1] + "…"


def compare(
    advisor: Advisor,
    question: str,
    columns: Sequence[Column],
    *,
    record_of: Any = None,
) -> Comparison:
    """The side-by-side table of ``question`` over ``columns`` (``Column``), each cell cited."""
    from advisor.chain import question_lang
    from vectorstore.retrieval import RetrievalFilter

    if len(columns) < 2:
        raise ConfigError("a comparison needs two documents or more")
    question = question.strip()
    lang = question_lang(question)
    terms = advisor.glossary.translate_terms(question, lang)
    aspects = load_aspects()
    asked = [a for a in aspects if a.named_in(question)]
    best: dict[str, list[Decisive | None]] = {a.key: [None] * len(columns) for a in aspects}
    searched = [source.kb.name for source in advisor.retriever.sources]
    for i, column in enumerate(columns):
        # this document alone: every other knowledge base searched (a session's plans) empty
        only: dict[str, set[str]] = {name: set() for name in searched}
        flt = RetrievalFilter(docs={**only, column.kb: {column.doc_id}})
        passages = advisor.retriever.retrieve(
            question, PASSAGES_PER_DOCUMENT, flt, query_lang=lang, translated_terms=terms
        )
        ranked, _ = decisive_sentences(question, passages, lang, terms)
        for aspect in aspects:
            for d in ranked:  # best first
                if d.share > 0 and aspect.holds(d.text) and not _PURPOSE.match(d.text.strip()):
                    best[aspect.key][i] = d
                    break
    addressed = [a for a in aspects if any(best[a.key])]
    if asked:
        rows = [a for a in asked if a in addressed] or asked
    else:
        rows = sorted(
            addressed,
            key=lambda a: (
                -sum(1 for d in best[a.key] if d),
                -sum(d.score for d in best[a.key] if d),
            ),
        )[:MAX_ROWS]
    rows = [a for a in aspects if a in rows]  # the aspects' own order reads best

    contexts: list[Passage] = []
    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    cells: dict[str, list[Cell | None]] = {}
    for aspect in rows:
        line: list[Cell | None] = []
        for found in best[aspect.key]:
            if found is None:
                line.append(None)
                continue
            passage = found.passage
            if passage.chunk_id not in numbers:
                numbers[passage.chunk_id] = len(contexts) + 1
                contexts.append(replace(passage, rank=len(contexts) + 1))
            n = numbers[passage.chunk_id]
            text = _cell_text(found.text)
            if not any(c.n == n and c.quote == found.text.strip() for c in citations):
                page = passage.page_at(max(passage.text.find(found.text), 0))
                citations.append(
                    Citation(
                        n,
                        passage.source,
                        page,
                        passage.chunk_id,
                        found.text.strip(),
                        page is not None and page in passage.ocr_pages,
                    )
                )
            line.append(Cell(text, n))
        cells[aspect.key] = line
    citations = label_citations(citations, contexts, record_of or advisor.retriever.document_record)
    result = Comparison(
        question, lang, list(columns), rows, cells, citations, advisor.llm_label, "", contexts
    )
    result.overview = _overview(advisor, result)
    return result


def _overview(advisor: Advisor, table: Comparison) -> str:
    """A few cited sentences comparing the columns, from the cells alone; "" without a model
    or when the model fails (the table stands on its own)."""
    if advisor.generation_chain is None or not table.citations:
        return ""
    from langchain_core.messages import HumanMessage, SystemMessage

    from advisor.chain import drop_unsupported_figures, strip_prompt_echo

    blocks = []
    for i, column in enumerate(table.columns):
        said = []
        for a in table.aspects:
            cell = table.cells[a.key][i]
            if cell is not None:
                said.append(f"{a.name(table.lang)}: {cell.text}[{cell.n}]")
        if said:
            body = "\n".join(said)
            blocks.append(f'<document name="{column.label}">\n{body}\n</document>')
    system = load_prompt("compare_system", table.lang)
    user = render_prompt(
        "compare_user", table.lang, sources="\n".join(blocks), question=table.question
    )
    try:
        raw = advisor.generation_chain.invoke(
            [SystemMessage(content=system), HumanMessage(content=user)]
        )
    except Exception as exc:  # the table stands without its overview
        log.warning("the overview of a comparison failed: %s", exc)
        return ""
    raw = strip_prompt_echo(str(raw))
    raw, _ = drop_unsupported_figures(raw, table.contexts, [table.question])
    text, _, _ = check_citations(raw, table.contexts, add_missing=False)
    # every sentence of the overview rests on a cell: an uncited one is left out
    cited = [s for s in split_keep(text) if cited_numbers(s)]
    return "".join(cited).strip()
