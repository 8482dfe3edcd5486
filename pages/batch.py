"""Batch Q&A and plan review over the user's own college plans.

My plans: plans uploaded into the signed-in user's private space (``advisor/workspace.py``),
never into the shared knowledge base; listed and deleted here. Batch: chosen plans plus a
questions file (CSV / XLSX / TXT / JSONL) or the built-in rubric question set; a progress bar
and a cancel button (answers given before the cancel are kept); a results table; downloads as
CSV, XLSX, DOCX and Markdown. Review: one plan graded against the rubric, with the coverage
chart and the report as DOCX, Markdown and JSON. My results: every finished batch and review of
this user, to open, download again or delete.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import streamlit as st

from advisor.batch import (
    QuestionItem,
    check_batch_size,
    read_questions,
    run_batch,
    table_rows,
    write_results,
)
from advisor.errors import AdvisorError
from advisor.reports import cite_line
from advisor.review import (
    ReviewReport,
    coverage_chart,
    load_rubric,
    review_passages,
    rubric_questions,
    write_report,
)
from pages.common import (
    DOCX_MIME,
    StreamlitIngestProgress,
    get_service,
    outcome_rows,
    save_uploads,
    session_advisor,
    show_error,
    too_many_files,
    user_name,
)

DOWNLOADS = {
    ".xlsx": ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ".csv": ("CSV", "text/csv"),
    ".docx": ("DOCX", DOCX_MIME),
    ".md": ("Markdown", "text/markdown"),
}

service = get_service()
workspace = service.workspace(user_name())
st.title("批量问答与方案评审 · Batch Q&A and plan review")


def rendered(write: Callable[[Path], Any], stem: str, suffixes: Iterable[str]) -> dict[str, bytes]:
    """The bytes ``write(path)`` produces for each suffix (rendered once per result set)."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="advisor-files-") as folder:
        for suffix in suffixes:
            path = Path(folder) / f"{stem}{suffix}"
            write(path)
            out[suffix] = path.read_bytes()
    return out


REVIEW_MIMES = {".docx": DOCX_MIME, ".md": "text/markdown", ".json": "application/json"}


def result_files(records: list[dict[str, Any]]) -> dict[str, bytes]:
    return rendered(lambda path: write_results(records, path), "answers", DOWNLOADS)


def review_files(report: ReviewReport) -> dict[str, bytes]:
    return rendered(lambda path: write_report(report, path), "review", REVIEW_MIMES)


def show_batch(records: list[dict[str, Any]], files: dict[str, bytes], key: str) -> None:
    failed = sum(1 for r in records if r.get("error"))
    refused = sum(1 for r in records if r.get("refused"))
    st.success(
        f"{len(records)} 个回答 answers · {refused} 个无依据 refused · {failed} 个出错 failed"
    )
    rows = table_rows(records)
    st.dataframe(
        [{k: r[k] for k in ("id", "question", "answer", "refused", "sources")} for r in rows],
        hide_index=True,
        width="stretch",
    )
    columns = st.columns(len(DOWNLOADS))
    for column, (suffix, data) in zip(columns, files.items(), strict=True):
        label, mime = DOWNLOADS[suffix]
        column.download_button(
            f"下载 {label}", data, file_name=f"answers{suffix}", mime=mime, key=f"{key}{suffix}"
        )


def show_review(data: dict[str, Any], chart: bytes, files: dict[str, bytes], key: str) -> None:
    st.subheader(data["plan"])
    st.write(data["summary"])
    st.image(chart)
    names = {"covered": "✅ 覆盖", "partial": "🟡 部分覆盖", "missing": "❌ 缺失"}
    for dim in data["dimensions"]:
        with st.expander(f"{names[dim['status']]} · {dim['title']}"):
            for e in dim["evidence"]:
                ocr = "，OCR" if e.get("ocr") else ""
                page = f"（第{e['page']}页{ocr}）" if e.get("page") else ""
                st.markdown(f"> {e['quote']}{page}")
            st.markdown(dim["recommendation"])
            for c in dim["citations"]:
                st.caption(cite_line(c))
    columns = st.columns(len(REVIEW_MIMES))
    for column, (suffix, blob) in zip(columns, files.items(), strict=True):
        column.download_button(
            f"下载报告 {suffix[1:].upper()}",
            blob,
            file_name=f"review{suffix}",
            mime=REVIEW_MIMES[suffix],
            key=f"{key}{suffix}",
        )


def plan_label(doc_id: str) -> str:
    return next((p.source for p in my_plans if p.doc_id == doc_id), doc_id)


plans_tab, batch_tab, review_tab, results_tab = st.tabs(
    ["我的方案 My plans", "批量问答 Batch Q&A", "方案评审 Plan review", "历史结果 My results"]
)

# ---------------------------------------------------------------------------- my plans

with plans_tab:
    st.caption(
        "方案只保存在你自己的空间，其他用户（包括管理员的共享知识库）看不到。"
        "Plans are kept in your own space: no other user sees them, and they are not added to "
        "the shared knowledge base."
    )
    with st.form("plans_upload", clear_on_submit=True):
        uploads = st.file_uploader(
            "学校方案，可多选 College plans (PDF, DOCX, Markdown, text)",
            type=["pdf", "docx", "md", "txt"],
            accept_multiple_files=True,
            key="plans_files",
        )
        add = st.form_submit_button("添加 Add", type="primary", key="plans_add")
    if add and uploads and not too_many_files(uploads, service.settings.max_upload_files):
        with tempfile.TemporaryDirectory(prefix="advisor-plans-") as folder_name:
            paths = save_uploads(list(uploads), Path(folder_name))
            ingest_progress = StreamlitIngestProgress()
            try:
                added = workspace.add_plans(paths, progress=ingest_progress)
            except AdvisorError as exc:
                show_error(exc)
            else:
                ingest_progress.done()
                if added.failed:
                    st.warning("部分文件未能导入 Some files were not added")
                    st.dataframe(outcome_rows(added.failed), hide_index=True)
                else:
                    st.success(f"已添加 Added: {', '.join(o.source for o in added.outcomes)}")
    my_plans = workspace.plans()
    if not my_plans:
        st.info("还没有方案：请先上传。No plans yet: add one above.")
    else:
        st.dataframe(
            [
                {"plan": p.source, "pages": p.pages, "chunks": p.chunks, "added": p.ingested_at}
                for p in my_plans
            ],
            hide_index=True,
            width="stretch",
        )
        gone = st.selectbox(
            "删除方案 Delete a plan",
            [p.doc_id for p in my_plans],
            format_func=plan_label,
            key="plans_delete_choice",
        )
        if st.button("删除 Delete", key="plans_delete"):
            try:
                workspace.delete_plan(gone)
            except AdvisorError as exc:  # already deleted (another tab)
                show_error(exc)
            else:
                st.rerun()

# ---------------------------------------------------------------------------- batch Q&A

with batch_tab:
    state = st.session_state.setdefault("batch", {"records": [], "status": "idle", "total": 0})
    if state["status"] == "running":  # the last run was stopped by the cancel button
        state["status"] = "cancelled"
        if state["records"]:
            workspace.save_result("batch", f"{state['title']} (cancelled)", state["records"])
    chosen = st.multiselect(
        "基于我的方案（可选）Answer from my plans (optional)",
        [p.doc_id for p in my_plans],
        format_func=plan_label,
        key="batch_plans",
    )
    source = st.radio(
        "问题来源 Questions",
        ["file", "rubric"],
        format_func=lambda s: {
            "file": "上传问题文件 Upload a questions file",
            "rubric": f"内置问题集（{len(load_rubric())} 个评审维度）Built-in rubric questions",
        }[s],
        horizontal=True,
        key="batch_source",
    )
    questions_file = None
    lang = "zh"
    if source == "file":
        questions_file = st.file_uploader(
            "问题文件：CSV/XLSX（question 列）、TXT（每行一个）或 JSONL",
            type=["csv", "xlsx", "txt", "jsonl"],
            key="batch_questions",
        )
    else:
        lang = st.radio("语言 Language", ["zh", "en"], horizontal=True, key="batch_lang")
    run = st.button("开始 Run", type="primary", key="batch_run")

    if run:
        with tempfile.TemporaryDirectory(prefix="advisor-batch-") as folder_name:
            try:
                if source == "file":
                    if questions_file is None:
                        raise AdvisorError("请先上传问题文件 Upload a questions file first")
                    items = read_questions(save_uploads([questions_file], Path(folder_name))[0])
                    title = questions_file.name
                else:
                    items = [QuestionItem(q["id"], q["question"]) for q in rubric_questions(lang)]
                    title = f"rubric-{lang}"
                if chosen:
                    title += " · " + ", ".join(plan_label(doc) for doc in chosen)
                check_batch_size(len(items), service.settings.max_batch_questions)
                kbs, flt = workspace.plan_search(chosen)
                state.update(
                    records=[], status="running", total=len(items), files_for=None, title=title
                )
                cancel = st.empty()
                cancel.button("取消 Cancel", key="batch_cancel")  # a click stops this run
                progress = st.progress(0.0, text=f"0/{len(items)}")
                advisor = session_advisor(service, kbs)

                def on_record(record: dict[str, Any]) -> None:
                    state["records"].append(record)
                    done = len(state["records"])
                    progress.progress(done / len(items), text=f"{done}/{len(items)}")

                run_batch(advisor, items, flt=flt, on_record=on_record)
                state["status"] = "done"
                workspace.save_result("batch", title, state["records"])
                cancel.empty()
            except AdvisorError as exc:
                state["status"] = "idle"
                show_error(exc)

    records = state["records"]
    if state["status"] == "cancelled":
        st.warning(
            f"已取消：保留已完成的 {len(records)}/{state['total']} 个回答。"
            f"Cancelled: the {len(records)} answers given so far are kept."
        )
    if records:
        if state.get("files_for") != len(records):  # render the files once per result set
            state["files"], state["files_for"] = result_files(records), len(records)
        show_batch(records, state["files"], "dl")

# ---------------------------------------------------------------------------- plan review

with review_tab:
    st.caption(
        f"按 {len(load_rubric())} 个维度评审方案：覆盖 / 部分覆盖 / 缺失，引用方案原文和页码，"
        "并依据知识库给出建议。Grades the plan on each rubric dimension with quoted evidence "
        "and knowledge-base recommendations."
    )
    plan_doc = None
    if not my_plans:  # (a select box made with no options would keep "nothing" chosen)
        st.info("请先在“我的方案”中添加方案。Add a plan under “My plans” first.")
    else:
        plan_doc = st.selectbox(
            "学校方案 College plan",
            [p.doc_id for p in my_plans],
            format_func=plan_label,
            key="review_plan",
        )
    if st.button("开始评审 Review", type="primary", key="review_run") and plan_doc:
        bar = st.progress(0.0, text="评审中 Reviewing…")
        total = len(load_rubric())
        steps: list[str] = []

        def step(key: str) -> None:
            steps.append(key)
            bar.progress(len(steps) / total, text=f"{len(steps)}/{total} · {key}")

        try:
            # the session's backend and top-k, loaded with a visible status
            advisor = session_advisor(service)
            report = review_passages(
                advisor, plan_label(plan_doc), workspace.plan_passages(plan_doc), progress=step
            )
        except AdvisorError as exc:
            show_error(exc)
        else:
            workspace.save_result("review", report.plan, report.to_json())
            st.session_state["review"] = {
                "report": report.to_json(),
                "chart": coverage_chart(report),
                "files": review_files(report),
            }
    review: dict[str, Any] | None = st.session_state.get("review")
    if review:
        show_review(review["report"], review["chart"], review["files"], "review_dl")

# ---------------------------------------------------------------------------- my results

with results_tab:
    jobs = workspace.results()
    if not jobs:
        st.info("还没有结果。No results yet: run a batch or a review.")
    else:
        kinds = {"batch": "批量问答 batch", "review": "方案评审 review"}
        job_id = st.selectbox(
            "结果 Result",
            [job.id for job in jobs],
            format_func=lambda i: next(
                f"{j.created_at} · {kinds[j.kind]} · {j.title}" for j in jobs if j.id == i
            ),
            key="results_choice",
        )
        job = workspace.result(job_id)
        opened = st.session_state.get("opened_result")
        if not opened or opened["id"] != job.id:  # render the files once per opened result
            if job.kind == "batch":
                files = result_files(job.result)
                chart = b""
            else:
                saved = ReviewReport.from_json(job.result)
                files, chart = review_files(saved), coverage_chart(saved)
            opened = st.session_state["opened_result"] = {
                "id": job.id,
                "files": files,
                "chart": chart,
            }
        if job.kind == "batch":
            show_batch(job.result, opened["files"], "result_dl")
        else:
            show_review(job.result, opened["chart"], opened["files"], "result_dl")
        if st.button("删除此结果 Delete this result", key="results_delete"):
            workspace.delete_result(job.id)
            st.session_state.pop("opened_result", None)
            st.rerun()
