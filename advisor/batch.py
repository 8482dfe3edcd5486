"""Batch Q&A: read questions (.jsonl .csv .xlsx .txt), answer each in input order, record a
failed question with its error and go on, and write results by the output's extension
(.jsonl .csv .xlsx .md .docx)."""

from __future__ import annotations

import csv
import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.errors import ConfigError
from advisor.reports import cite_label, cite_line

if TYPE_CHECKING:
    from advisor.chain import Advisor
    from vectorstore.retrieval import RetrievalFilter

log = logging.getLogger(__name__)

INPUT_SUFFIXES = (".jsonl", ".csv", ".xlsx", ".txt")
OUTPUT_SUFFIXES = (".jsonl", ".csv", ".xlsx", ".md", ".docx")


@dataclass(slots=True)
class QuestionItem:
    id: str
    question: str
    history: list[dict[str, str]] = field(default_factory=list)


def read_questions(path: Path) -> list[QuestionItem]:
    suffix = path.suffix.lower()
    if suffix not in INPUT_SUFFIXES:
        raise ConfigError(f"unsupported questions file {path.name}: use {' '.join(INPUT_SUFFIXES)}")
    if not path.is_file():
        raise ConfigError(f"no such questions file: {path}")
    rows: list[dict[str, Any]]
    if suffix == ".jsonl":
        rows = []
        for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path.name} line {number}: not valid JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise ConfigError(f"{path.name} line {number}: expected an object")
            rows.append(row)
    elif suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    elif suffix == ".xlsx":
        rows = _read_xlsx(path)
    else:
        rows = [{"question": line} for line in path.read_text(encoding="utf-8-sig").splitlines()]
    return _to_items(rows, path)


def _read_xlsx(path: Path) -> list[dict[str, Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ConfigError(f"cannot read {path.name} as a workbook: {exc}") from exc
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [str(h).strip().lower() if h is not None else "" for h in next(rows, ())]
    result = [dict(zip(header, row, strict=False)) for row in rows]
    workbook.close()
    return result


def _to_items(rows: Iterable[dict[str, Any]], path: Path) -> list[QuestionItem]:
    items = []
    rows = list(rows)
    if rows and "question" not in {str(k).strip().lower() for k in rows[0]}:
        raise ConfigError(f"{path.name}: a 'question' column (or field) is required")
    for number, row in enumerate(rows, 1):
        row = {str(k).strip().lower(): v for k, v in row.items()}
        question = str(row.get("question") or "").strip()
        if not question:
            continue
        item_id = row.get("id")
        history = row.get("history") if isinstance(row.get("history"), list) else []
        items.append(
            QuestionItem(
                id=str(item_id) if item_id not in (None, "") else str(number),
                question=question,
                history=history or [],
            )
        )
    if not items:
        raise ConfigError(f"{path.name} holds no questions")
    return items


def check_batch_size(count: int, limit: int) -> None:
    if count > limit:
        raise ConfigError(
            f"{count} questions: more than the limit of {limit} per batch "
            "(ADVISOR_MAX_BATCH_QUESTIONS); split the file or raise the limit"
        )


def failed_record(item: QuestionItem, error: str, llm: str, latency: float) -> dict[str, Any]:
    return {
        "id": item.id,
        "question": item.question,
        "answer": "",
        "refused": False,
        "citations": [],
        "contexts": [],
        "latency_s": round(latency, 3),
        "llm": llm,
        "error": error,
    }


def answer_all(
    items: Sequence[QuestionItem],
    answer_one: Callable[[QuestionItem], dict[str, Any]],
    *,
    llm: str,
    on_record: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Answer in input order; a failure becomes a record with ``error`` and the run goes on."""
    records = []
    for item in items:
        started = time.perf_counter()
        try:
            record = answer_one(item)
        except Exception as exc:  # one bad question must not end the batch
            log.warning("question %s failed: %s", item.id, exc)
            record = failed_record(
                item, f"{type(exc).__name__}: {exc}", llm, time.perf_counter() - started
            )
        records.append(record)
        if on_record:
            on_record(record)
    return records


def run_batch(
    advisor: Advisor,
    items: Sequence[QuestionItem],
    *,
    flt: RetrievalFilter | None = None,
    on_record: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """The one batch workflow, for the CLI and the batch page: each question (with its
    history) answered by ``advisor``, over ``flt`` (a user's chosen plans) when given, in
    input order; a failure is recorded and the run goes on; ``on_record`` after each (a
    journal line, a progress bar)."""

    def answer_one(item: QuestionItem) -> dict[str, Any]:
        return advisor.answer(item.question, item.history, flt=flt).to_record(item.id)

    return answer_all(items, answer_one, llm=advisor.llm_label, on_record=on_record)


# ------------------------------------------------------------------------ writers


def _sources_line(record: dict[str, Any]) -> str:
    return "; ".join(cite_label(c) for c in record.get("citations", []))


def write_results(records: Sequence[dict[str, Any]], path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise ConfigError(f"unsupported output {path.name}: use {' '.join(OUTPUT_SUFFIXES)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = {
        ".jsonl": _write_jsonl,
        ".csv": _write_csv,
        ".xlsx": _write_xlsx,
        ".md": _write_markdown,
        ".docx": _write_docx,
    }[suffix]
    tmp = path.with_name(f".{path.name}.tmp")
    writer(records, tmp)
    tmp.replace(path)  # never leave a half-written report under the final name


def _write_jsonl(records: Sequence[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")


TABLE_COLUMNS = (
    "id",
    "question",
    "answer",
    "refused",
    "sources",
    "quotes",
    "latency_s",
    "llm",
    "error",
)


def table_rows(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for r in records:
        quotes = "\n".join(f"[{c['n']}] {c['quote']}" for c in r.get("citations", []))
        rows.append(
            {
                "id": r.get("id"),
                "question": r.get("question"),
                "answer": r.get("answer"),
                "refused": r.get("refused"),
                "sources": _sources_line(r),
                "quotes": quotes,
                "latency_s": r.get("latency_s"),
                "llm": r.get("llm"),
                "error": r.get("error", ""),
            }
        )
    return rows


def _write_csv(records: Sequence[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:  # BOM: Excel opens UTF-8
        writer = csv.DictWriter(fh, fieldnames=TABLE_COLUMNS)
        writer.writeheader()
        writer.writerows(table_rows(records))


def _write_xlsx(records: Sequence[dict[str, Any]], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "answers"
    sheet.append(list(TABLE_COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table_rows(records):
        sheet.append([row[c] for c in TABLE_COLUMNS])
    widths = {"A": 8, "B": 40, "C": 80, "D": 9, "E": 40, "F": 60, "G": 10, "H": 24, "I": 30}
    for column, width in widths.items():
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    workbook.save(path)


def _write_markdown(records: Sequence[dict[str, Any]], path: Path) -> None:
    lines = ["# 批量问答结果 · Batch answers", ""]
    for r in records:
        lines += [f"## {r.get('id')}. {r.get('question')}", ""]
        if r.get("error"):
            lines += [f"> **Error:** {r['error']}", ""]
        else:
            if r.get("refused"):
                lines += ["*(refused: the knowledge base holds no adequate evidence)*", ""]
            lines += [str(r.get("answer", "")), ""]
            lines += [f"- {cite_line(c)}" for c in r.get("citations", [])]
        lines += ["", f"<sub>{r.get('llm')} · {r.get('latency_s')} s</sub>", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def _write_docx(records: Sequence[dict[str, Any]], path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("批量问答结果 · Batch answers", level=0)
    for r in records:
        document.add_heading(f"{r.get('id')}. {r.get('question')}", level=2)
        if r.get("error"):
            document.add_paragraph(f"Error: {r['error']}")
            continue
        if r.get("refused"):
            document.add_paragraph("(refused: the knowledge base holds no adequate evidence)")
        document.add_paragraph(str(r.get("answer", "")))
        for c in r.get("citations", []):
            document.add_paragraph(cite_line(c), style="List Bullet")
    document.save(str(path))


# ------------------------------------------------------------------------ resumable runs


class BatchJournal:
    """Answers written as they are given, so that a batch killed midway resumes where it
    stopped when run again with the same questions and output. The journal sits beside the
    output (``.<name>.partial.jsonl``); its first line identifies the run (the questions and
    the plans), each further line is one record, flushed and fsynced. It is removed once the
    output is written."""

    def __init__(
        self,
        out: Path,
        items: Sequence[QuestionItem],
        plans: Sequence[Path],
        scope: str = "",
    ) -> None:
        import hashlib

        self.path = out.with_name(f".{out.name}.partial.jsonl")
        digest = hashlib.sha256()
        for item in items:
            digest.update(f"{item.id}\t{item.question}\n".encode())
        for plan in plans:
            digest.update(plan.name.encode() + b"\0" + plan.read_bytes())
        if scope:  # another scope is another run: its answers come from other documents
            digest.update(b"scope\0" + scope.encode())
        self.run_id = digest.hexdigest()

    def completed(self, items: Sequence[QuestionItem]) -> list[dict[str, Any]]:
        """Records of the questions answered before, in order (empty when the journal belongs
        to another run, or is missing). A torn last line (killed mid-write) is dropped."""
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        try:
            header = json.loads(lines[0]) if lines else {}
        except json.JSONDecodeError:
            header = {}
        if header.get("run") != self.run_id:
            log.warning("ignoring %s: it belongs to another run", self.path.name)
            return []
        records: list[dict[str, Any]] = []
        for line in lines[1:]:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                break
            position = len(records)
            if position >= len(items) or record.get("question") != items[position].question:
                break
            records.append(record)
        return records

    def start(self, done: Sequence[dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(json.dumps({"run": self.run_id}) + "\n")
            for record in done:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        tmp.replace(self.path)

    def append(self, record: dict[str, Any]) -> None:
        import os

        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def finish(self) -> None:
        self.path.unlink(missing_ok=True)
