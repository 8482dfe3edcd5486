"""``python -m advisor``: a thin command line over ``advisor.service``.

Exit codes: 0 success; 1 when a command ran but something failed (a file not indexed, a
document not found); 2 for usage and configuration errors.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pydantic import ValidationError

from advisor.errors import ConfigError, InputFileError, translate
from advisor.reports import cite_line, source_label
from advisor.service import AdvisorService
from advisor.settings import Settings
from ingest.metadata import EDITABLE as EDITABLE_META
from ingest.pipeline import FileOutcome, IngestReport
from ingest.types import KINDS

if TYPE_CHECKING:
    from advisor.scope import Scope

log = logging.getLogger("advisor")

REASON_LABELS = {
    "encrypted": "encrypted",
    "corrupt": "corrupt",
    "empty": "empty",
    "no_text_layer": "no text layer (scanned?)",
    "garbled": "garbled text",
    "unreadable_scan": "scan OCR could not read",
    "too_large": "too large",
    "timeout": "timed out",
    "unsupported": "unsupported type",
}


class TqdmProgress:
    """Two bars on stderr: files, and the stage of the current file (embedding counts chunks)."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        self._stream = stream
        self._disable = not stream.isatty() and not os.environ.get("ADVISOR_PROGRESS")
        self._files: Any = None
        self._stage: Any = None

    def file_started(self, path: Path, index: int, total: int) -> None:
        if self._files is None:
            self._files = self._tqdm(
                total=total,
                desc="files",
                unit="file",
                file=self._stream,
                disable=self._disable,
                position=0,
            )
        self._files.set_postfix_str(path.name[:40], refresh=True)

    def stage(self, name: str, total: int | None = None, *, files: int = 1) -> None:
        if self._stage is not None:
            self._stage.close()
        self._stage = self._tqdm(
            total=total,
            desc=f"  {name}" + (f" ({files} files)" if files > 1 else ""),
            unit={"embed": "chunk", "ocr": "page"}.get(name, "step"),
            file=self._stream,
            disable=self._disable,
            leave=False,
            position=1,
        )

    def advance(self, n: int = 1) -> None:
        if self._stage is not None:
            self._stage.update(n)

    def file_finished(self, outcome: FileOutcome) -> None:
        if self._stage is not None:
            self._stage.close()
            self._stage = None
        if self._files is not None:
            self._files.update(1)
            if outcome.status == "failed":
                self._files.write(_describe(outcome), file=self._stream)

    def close(self) -> None:
        if self._files is not None:
            self._files.close()


def _describe(outcome: FileOutcome) -> str:
    if outcome.status == "failed":
        label = REASON_LABELS.get(outcome.reason, outcome.reason)
        return f"FAILED   {outcome.source}: {label} — {outcome.message}"
    extra = ""
    if outcome.ocr_pages:
        extra += f"; OCR on {_page_ranges(outcome.ocr_pages)}"
    if outcome.skipped_pages:
        extra += f"; pages left out: {', '.join(outcome.skipped_pages)}"
    if outcome.status == "unchanged":
        return f"{'unchanged':<9}{outcome.source}"
    return (
        f"{outcome.status:<9}{outcome.source}: {outcome.pages} page(s), "
        f"{outcome.chunks} chunk(s){extra}"
    )


def _page_ranges(pages: list[int]) -> str:
    """``[1, 2, 3, 7]`` as ``"pages 1-3, 7"``."""
    runs: list[list[int]] = []
    for n in pages:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    parts = [f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs]
    return ("pages " if len(pages) > 1 else "page ") + ", ".join(parts)


def _outcome_json(outcome: FileOutcome) -> dict[str, Any]:
    return {
        "path": str(outcome.path),
        "source": outcome.source,
        "status": outcome.status,
        "reason": outcome.reason or None,
        "message": outcome.message or None,
        "pages": outcome.pages,
        "chunks": outcome.chunks,
        "skipped_pages": outcome.skipped_pages,
        "ocr_pages": outcome.ocr_pages,
        "timings": {k: round(v, 4) for k, v in outcome.timings.items()},
    }


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m advisor",
        description="Advisory assistant for industry–education–research collaboration.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="index files and folders (.pdf .txt .md .docx)")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    ingest.add_argument("--kb", help="knowledge base (default: ADVISOR_KB or 'default')")
    ingest.add_argument("--kind", choices=KINDS, help="document kind (default: front matter)")
    ingest.add_argument("--password", help="password for encrypted PDFs")
    ingest.add_argument("--max-pages", type=int, help="skip PDFs with more pages")
    ingest.add_argument("--max-file-mb", type=float, help="skip files larger than this")
    ingest.add_argument("--timeout", type=float, help="seconds allowed to parse one file")
    ingest.add_argument(
        "--no-ocr",
        action="store_true",
        help="do not OCR scanned pages (they are reported instead; ADVISOR_OCR=false)",
    )
    ingest.add_argument(
        "--if-empty", action="store_true", help="do nothing when the knowledge base has documents"
    )
    ingest.add_argument("--json", action="store_true", help="print the report as JSON")

    ask = sub.add_parser("ask", help="answer one question with citations")
    ask.add_argument("question", metavar="QUESTION")
    ask.add_argument("--kb")
    ask.add_argument("--json", action="store_true", help="print one contract record as JSON")
    ask.add_argument("--kind", action="append", choices=KINDS, help="only these kinds")
    add_scope_arguments(ask)

    batch = sub.add_parser("batch", help="answer a file of questions")
    batch.add_argument("questions", type=Path, metavar="QUESTIONS_FILE")
    batch.add_argument("--out", type=Path, required=True, metavar="OUT_FILE")
    batch.add_argument("--kb")
    batch.add_argument(
        "--plan",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="a college plan to answer from (indexed privately, then removed)",
    )
    add_scope_arguments(batch)

    comparing = sub.add_parser("compare", help="one question across documents, side by side")
    comparing.add_argument("question", metavar="QUESTION")
    comparing.add_argument(
        "--doc",
        action="append",
        default=[],
        metavar="DOC",
        help="a document to compare (file name or doc_id; default: those the question names)",
    )
    comparing.add_argument("--kb")
    comparing.add_argument("--out", type=Path, metavar="FILE", help=".md .xlsx .docx or .json")
    comparing.add_argument("--json", action="store_true", help="print the table as JSON")

    review = sub.add_parser("review", help="grade a college plan against the rubric")
    review.add_argument("plan", type=Path, metavar="PLAN_FILE")
    review.add_argument("--out", type=Path, required=True, metavar="REPORT_FILE")
    review.add_argument("--kb", help="knowledge base for the recommendations")
    review.add_argument(
        "--lang", choices=("zh", "en"), help="report language (default: the plan's)"
    )

    backup = sub.add_parser(
        "backup", help="snapshot the knowledge bases, conversations, results and accounts"
    )
    backup.add_argument("out", type=Path, metavar="OUT.tar.gz")
    restore = sub.add_parser("restore", help="restore a snapshot made by `backup`")
    restore.add_argument("archive", type=Path, metavar="IN.tar.gz")
    restore.add_argument(
        "--force", action="store_true", help="replace knowledge bases and conversations present"
    )

    evaluate = sub.add_parser("eval", help="evaluate the advisor on a question set")
    evaluate.add_argument("eval_set", type=Path, metavar="SET_FILE")
    evaluate.add_argument("--kb")
    evaluate.add_argument(
        "--ingest",
        type=Path,
        action="append",
        default=[],
        metavar="PATH",
        help="ingest these first (unchanged files are skipped)",
    )
    evaluate.add_argument("--limit", type=int, help="only the first N questions")
    evaluate.add_argument("--only", help="only ids starting with this prefix")
    evaluate.add_argument("--out", type=Path, help="write figures and per-question rows (JSON)")

    user = sub.add_parser("user", help="accounts: add, list, delete users; set a password")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    user_add = user_sub.add_parser("add", help="add a user (prompted or generated password)")
    user_add.add_argument("name", metavar="NAME")
    user_add.add_argument("--admin", action="store_true", help="an administrator")
    user_add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    user_sub.add_parser("list", help="users and their roles")
    user_delete = user_sub.add_parser("delete", help="delete a user")
    user_delete.add_argument("name", metavar="NAME")
    user_passwd = user_sub.add_parser("passwd", help="set a user's password")
    user_passwd.add_argument("name", metavar="NAME")
    user_passwd.add_argument("--password-stdin", action="store_true")

    kb = sub.add_parser("kb", help="list knowledge bases, their documents; delete documents")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    kb_list = kb_sub.add_parser("list", help="knowledge bases with document and chunk counts")
    kb_list.add_argument("--json", action="store_true")
    kb_docs = kb_sub.add_parser("docs", help="documents of a knowledge base")
    kb_docs.add_argument("--kb")
    kb_docs.add_argument("--json", action="store_true")
    kb_delete = kb_sub.add_parser("delete", help="delete a document (file name or doc_id)")
    kb_delete.add_argument("doc", metavar="DOC")
    kb_delete.add_argument("--kb")
    kb_edit = kb_sub.add_parser(
        "edit", help="correct a document's metadata (title, issuer, 文号, level, dates …)"
    )
    kb_edit.add_argument("doc", metavar="DOC")
    kb_edit.add_argument("--kb")
    for name in (*EDITABLE_META, "status", "superseded_by"):
        flag = "--" + name.replace("_", "-")
        kb_edit.add_argument(flag, dest=name, metavar="VALUE", help="'' clears it")
    kb_edit.add_argument("--json", action="store_true", help="print the record as JSON")
    return parser


def _cmd_ingest(args: argparse.Namespace, service: AdvisorService) -> int:
    kb_name = args.kb or service.settings.kb
    if args.if_empty and not service.knowledge_base(kb_name).is_empty():
        print(f"knowledge base {kb_name!r} already has documents; nothing to do")
        return 0
    options = service.ingest_options(
        kind=args.kind,
        password=args.password,
        max_pages=args.max_pages,
        max_bytes=int(args.max_file_mb * 1024 * 1024) if args.max_file_mb else None,
        file_timeout_s=args.timeout,
        ocr=False if args.no_ocr else None,
    )
    progress = TqdmProgress()
    try:
        report = service.ingest(args.paths, kb=kb_name, options=options, progress=progress)
    finally:
        progress.close()
    _print_report(report, kb_name, as_json=args.json)
    return 0 if report.ok else 1


def _print_report(report: IngestReport, kb_name: str, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps([_outcome_json(o) for o in report.outcomes], ensure_ascii=False, indent=1))
        return
    for outcome in report.outcomes:
        if outcome.status != "failed":
            print(_describe(outcome))
    for outcome in report.failed:
        print(_describe(outcome))
    counts = report.counts()
    chunks = sum(o.chunks for o in report.outcomes)
    summary = ", ".join(
        f"{counts.get(k, 0)} {k}" for k in ("indexed", "replaced", "unchanged", "failed")
    )
    print(f"knowledge base {kb_name!r}: {summary}; {chunks} new chunk(s) in {report.seconds:.1f} s")


def _cmd_kb(args: argparse.Namespace, service: AdvisorService) -> int:
    if args.kb_command == "list":
        from advisor.kbnames import is_private_kb

        rows = []
        for name in service.list_knowledge_bases():
            kb = service.knowledge_base(name)
            rows.append(
                {
                    "kb": name,
                    "documents": len(kb.list_documents()),
                    "chunks": kb.count_chunks(),
                    "private": is_private_kb(name),
                }
            )
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=1))
        elif not rows:
            print("no knowledge bases yet: python -m advisor ingest PATH")
        for row in rows if not args.json else []:
            note = "  (a user's plans)" if row["private"] else ""
            print(f"{row['kb']:<24}{row['documents']:>6} documents{row['chunks']:>8} chunks{note}")
        return 0
    if args.kb_command == "docs":
        docs = service.list_documents(args.kb)
        if args.json:
            print(json.dumps([d.to_json() for d in docs], ensure_ascii=False, indent=1))
            return 0
        for d in docs:
            print(
                f"{d.doc_id}  {d.kind:<7}{d.lang:<3}{d.pages:>5}p{d.chunks:>6}c  "
                f"{d.ingested_at}  {d.level:<10}{d.revised or d.adopted or '':<11}{d.source}"
            )
        if not docs:
            print("no documents")
        return 0
    if args.kb_command == "edit":
        fields = {
            name: getattr(args, name)
            for name in (*EDITABLE_META, "status", "superseded_by")
            if getattr(args, name) is not None
        }
        if not fields:
            raise ConfigError("nothing to change: give at least one field, e.g. --level national")
        record = service.edit_document(args.doc, fields, args.kb)
        if args.json:
            print(json.dumps(record.to_json(), ensure_ascii=False, indent=1))
        else:
            print(f"updated {record.source}: " + ", ".join(f"{k}={v}" for k, v in fields.items()))
        return 0
    record = service.delete_document(args.doc, args.kb)
    print(f"deleted {record.source} ({record.chunks} chunks)")
    return 0


def _print_answer_sources(answer: Any) -> None:
    if answer.refused:
        return
    if answer.citations:
        print("\n来源 Sources:")
    for c in answer.citations:
        print(f"  {cite_line(c)}")


def add_scope_arguments(parser: argparse.ArgumentParser) -> None:
    """--level, --region, --current-only, --since, --until (``advisor.scope``)."""
    from ingest.metadata import LEVELS

    parser.add_argument(
        "--level", action="append", choices=LEVELS, help="only documents of these levels"
    )
    parser.add_argument(
        "--region", action="append", help="only documents of a region containing this name"
    )
    parser.add_argument("--current-only", action="store_true", help="leave out superseded versions")
    parser.add_argument(
        "--since", metavar="DATE", help="only documents dated on/after (YYYY[-MM[-DD]])"
    )
    parser.add_argument("--until", metavar="DATE", help="only documents dated on/before")


def scope_of(args: argparse.Namespace) -> Scope:
    from advisor.scope import Scope

    return Scope(
        levels=tuple(args.level or ()),
        regions=tuple(args.region or ()),
        kinds=tuple(getattr(args, "kind", None) or ()),
        current_only=args.current_only,
        since=args.since or "",
        until=args.until or "",
    )


def _cmd_ask(args: argparse.Namespace, service: AdvisorService) -> int:
    from advisor.chain import FinalEvent, SourcesEvent, StatusEvent, TokenEvent

    advisor = service.advisor()
    flt = service.retrieval_filter(scope_of(args))
    if args.json:
        answer = advisor.answer(args.question, flt=flt)
        print(json.dumps(answer.to_record(None), ensure_ascii=False, indent=1))
        return 0
    streamed = False
    for event in advisor.stream(args.question, flt=flt):
        if isinstance(event, StatusEvent) and sys.stderr.isatty():
            print(f"… {event.stage}", file=sys.stderr)
        elif isinstance(event, SourcesEvent):
            # what the answer is written from, while the model writes (stderr: the answer
            # and its checked citations stay the whole of stdout)
            print(f"阅读资料 Reading ({event.seconds:.1f} s):", file=sys.stderr)
            for p in event.passages:
                label = source_label(p.rank, p.source, p.page, ocr=p.page in p.ocr_pages)
                print(f"  {label} {p.section[-40:]}", file=sys.stderr)
        elif isinstance(event, TokenEvent):
            print(event.text, end="", flush=True)
            streamed = True
        elif isinstance(event, FinalEvent):
            if streamed:
                print()
            if event.answer.refused:
                print("(refused: no adequate evidence in the knowledge base)", file=sys.stderr)
            _print_answer_sources(event.answer)
            print(f"\n[{event.answer.llm} · {event.answer.latency_s:.1f} s]", file=sys.stderr)
    return 0


def _cmd_batch(args: argparse.Namespace, service: AdvisorService) -> int:
    from advisor.batch import (
        OUTPUT_SUFFIXES,
        BatchJournal,
        check_batch_size,
        read_questions,
        run_batch,
        write_results,
    )

    if args.out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ConfigError(f"--out must end in one of {' '.join(OUTPUT_SUFFIXES)}")
    items = read_questions(args.questions)
    check_batch_size(len(items), service.settings.max_batch_questions)
    for plan in args.plan:
        if not plan.is_file():
            raise InputFileError(f"plan not indexed: no such file {plan}")
    from tqdm import tqdm

    scope = scope_of(args)
    flt = service.retrieval_filter(scope)
    journal = BatchJournal(args.out, items, args.plan, scope.describe())
    done = journal.completed(items)
    if done:
        print(
            f"resuming: {len(done)} of {len(items)} question(s) already answered", file=sys.stderr
        )
    journal.start(done)
    with service.plan_scope(args.plan) as plan_kbs:
        advisor = service.advisor([service.settings.kb, *plan_kbs])
        if len(done) < len(items):
            # as the app and eval do: the bundled model's prompt speed is measured here, so a
            # batch reads the budget the chat reads on this CPU (4 : 450 without it)
            print("preparing the model and the keyword index…", file=sys.stderr)
            advisor.warm_up()
        bar = tqdm(
            total=len(items),
            initial=len(done),
            desc="questions",
            unit="q",
            file=sys.stderr,
            disable=not sys.stderr.isatty() and not os.environ.get("ADVISOR_PROGRESS"),
        )

        def on_record(record: dict[str, Any]) -> None:
            journal.append(record)
            bar.update(1)

        records = done + run_batch(advisor, items[len(done) :], flt=flt, on_record=on_record)
        bar.close()
    write_results(records, args.out)
    journal.finish()
    failed = sum(1 for r in records if r.get("error"))
    refused = sum(1 for r in records if r.get("refused"))
    print(f"{len(records)} question(s) answered, {refused} refused, {failed} failed -> {args.out}")
    return 1 if failed else 0


def _cmd_compare(args: argparse.Namespace, service: AdvisorService) -> int:
    from advisor.compare import COMPARE_SUFFIXES

    if args.out is not None and args.out.suffix.lower() not in COMPARE_SUFFIXES:
        raise ConfigError(f"--out must end in one of {' '.join(COMPARE_SUFFIXES)}")
    table = service.compare(args.question, args.doc, args.kb)
    if args.out is not None:
        table.write(args.out)
        print(f"{len(table.columns)} documents x {len(table.aspects)} aspects -> {args.out}")
    elif args.json:
        print(json.dumps(table.to_json(), ensure_ascii=False, indent=1))
    else:
        print(table.to_markdown())
    return 0


def _cmd_review(args: argparse.Namespace, service: AdvisorService) -> int:
    from tqdm import tqdm

    from advisor.review import REPORT_SUFFIXES, load_rubric, review_plan, write_report

    if args.out.suffix.lower() not in REPORT_SUFFIXES:
        raise ConfigError(f"--out must end in one of {' '.join(REPORT_SUFFIXES)}")
    bar = tqdm(
        total=len(load_rubric()),
        desc="dimensions",
        unit="dim",
        file=sys.stderr,
        disable=not sys.stderr.isatty() and not os.environ.get("ADVISOR_PROGRESS"),
    )
    try:
        report = review_plan(
            service, args.plan, kb=args.kb, lang=args.lang, progress=lambda _key: bar.update(1)
        )
    finally:
        bar.close()
    written = write_report(report, args.out)
    counts = report.counts()
    print(
        f"{report.plan}: {counts['covered']} covered, {counts['partial']} partial, "
        f"{counts['missing']} missing ({report.score:.0%}) -> {', '.join(map(str, written))}"
    )
    return 0


def _read_password(from_stdin: bool) -> tuple[str, bool]:
    """(password, generated). From stdin, prompted twice on a terminal, else generated."""
    from advisor.accounts import generate_password

    if from_stdin:
        return sys.stdin.readline().rstrip("\n"), False
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("password: ")
        if first != getpass.getpass("again: "):
            raise ConfigError("the two passwords differ")
        return first, False
    return generate_password(), True


def _cmd_user(args: argparse.Namespace, service: AdvisorService) -> int:
    accounts = service.accounts
    if args.user_command == "add":
        password, generated = _read_password(args.password_stdin)
        user = accounts.add_user(args.name, password, "admin" if args.admin else "member")
        print(f"added {user.role} {user.name}")
        if generated:
            print(f"password (shown once): {password}")
    elif args.user_command == "list":
        for user in accounts.users():
            print(f"{user.name}\t{user.role}")
    elif args.user_command == "delete":
        service.delete_user(args.name)
        print(f"deleted {args.name} with their conversations, plans and results")
    else:
        password, generated = _read_password(args.password_stdin)
        accounts.set_password(args.name, password)
        print(
            f"password of {args.name} changed" + (f" (shown once): {password}" if generated else "")
        )
    return 0


def _kb_counts(counts: dict[str, dict[str, int]]) -> str:
    parts = [f"{n} ({c['documents']} documents, {c['chunks']} chunks)" for n, c in counts.items()]
    return ", ".join(parts) or "no knowledge base"


def _cmd_backup(args: argparse.Namespace, service: AdvisorService) -> int:
    from advisor.backup import backup

    summary = backup(service, args.out)
    print(
        f"backed up {_kb_counts(summary.knowledge_bases)}; "
        f"{summary.conversations} conversation(s), {summary.users} user(s) -> {args.out}"
    )
    return 0


def _cmd_restore(args: argparse.Namespace, service: AdvisorService) -> int:
    from advisor.backup import restore

    summary = restore(service, args.archive, force=args.force)
    print(
        f"restored and verified {_kb_counts(summary.knowledge_bases)}; "
        f"{summary.conversations} conversation(s), {summary.users} user(s)"
    )
    return 0


def _cmd_eval(args: argparse.Namespace, service: AdvisorService) -> int:
    from advisor.evaluation import load_eval_set, run_eval

    if not args.eval_set.is_file():
        raise ConfigError(f"no such evaluation set: {args.eval_set}")
    items = load_eval_set(args.eval_set)
    if args.only:
        items = [i for i in items if i.id.startswith(args.only)]
    items = items[: args.limit] if args.limit else items
    if args.ingest:
        progress = TqdmProgress()
        try:
            ingested = service.ingest(args.ingest, progress=progress)
        finally:
            progress.close()
        for outcome in ingested.failed:
            print(_describe(outcome), file=sys.stderr)
    advisor = service.advisor()
    advisor.warm_up()  # as the app does when it loads the model; measures the prompt speed

    def show(result: Any) -> None:
        row = result.to_json()
        print(
            f"{row['id']:<12} rank={row['rank_of_expected']!s:<5} facts={row['facts']:<4} "
            f"refused={row['refused']!s:<5} cites={row['citations_valid']:<4} "
            f"sim={row['best_similarity']:.3f} kw={row['best_keyword']:.1f} "
            f"{row['latency_s']:.1f}s",
            file=sys.stderr,
        )

    report = run_eval(advisor, items, on_result=show)
    figures = report.figures()
    prompt = advisor.prompt_config()
    speed = getattr(advisor.llm, "prompt_tokens_per_s", None)
    # the budget of the last question (the speed is measured once, at the warm-up)
    figures["prompt_budget"] = (
        f"{prompt.prompt_sentences}:{prompt.prompt_chars}" if advisor.llm is not None else None
    )
    figures["prompt_tokens_per_s"] = round(speed, 1) if speed else None
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            json.dumps(
                {
                    "figures": figures,
                    "groups": report.by_group(),
                    "languages": report.by_language(),
                    "types": report.by_type(),
                    "items": [r.to_json() for r in report.results],
                },
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )
    return 0


def main(argv: Sequence[str] | None = None, *, service: AdvisorService | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        settings = Settings()
        if getattr(args, "kb", None):
            settings = settings.model_copy(update={"kb": Settings(kb=args.kb).kb})
    except ValidationError as exc:
        errors = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        print(f"error: invalid settings: {errors}", file=sys.stderr)
        return 2
    service = service or AdvisorService(settings)
    if service.settings.kb != settings.kb:
        service.settings = service.settings.model_copy(update={"kb": settings.kb})
    commands = {
        "ingest": _cmd_ingest,
        "ask": _cmd_ask,
        "batch": _cmd_batch,
        "review": _cmd_review,
        "compare": _cmd_compare,
        "backup": _cmd_backup,
        "user": _cmd_user,
        "restore": _cmd_restore,
        "eval": _cmd_eval,
        "kb": _cmd_kb,
    }
    try:
        return commands[args.command](args, service)
    except Exception as exc:  # the one place the CLI handles the error tree
        error = translate(exc)  # a library error the service did not map is mapped here
        if error is None:
            raise  # a bug: its traceback, not a dressed-up message
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
