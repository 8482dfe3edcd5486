"""Batch Q&A and plan review over uploaded college plans.

Batch: plans (optional, indexed privately for the run and removed after) plus a questions file
(CSV / XLSX / TXT / JSONL) or the built-in rubric question set; a progress bar and a cancel
button (answers given before the cancel are kept); a results table; downloads as CSV, XLSX,
DOCX and Markdown. Review: one plan graded against the rubric, with the coverage chart and the
report as DOCX, Markdown and JSON.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import streamlit as st

from advisor.batch import (
    QuestionItem,
    answer_all,
    check_batch_size,
    read_questions,
    table_rows,
    write_results,
)
from advisor.errors import AdvisorError
from advisor.review import coverage_chart, load_rubric, review_plan, rubric_questions, write_report
from pages.common import DOCX_MIME, get_service, session_advisor

DOWNLOADS = {
    ".xlsx": ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ".csv": ("CSV", "text/csv"),
    ".docx": ("DOCX", DOCX_MIME),
    ".md": ("Markdown", "text/markdown"),
}

service = get_service()
st.title("批量问答与方案评审 · Batch Q&A and plan review")


def save_uploads(uploads: list[Any], folder: Path) -> list[Path]:
    paths = []
    for upload in uploads:
        path = folder / Path(upload.name).name
        path.write_bytes(upload.getbuffer())
        paths.append(path)
    return paths


def result_files(records: list[dict[str, Any]]) -> dict[str, bytes]:
    out = {}
    with tempfile.TemporaryDirectory(prefix="advisor-results-") as folder:
        for suffix in DOWNLOADS:
            path = Path(folder) / f"answers{suffix}"
            write_results(records, path)
            out[suffix] = path.read_bytes()
    return out


batch_tab, review_tab = st.tabs(["批量问答 Batch Q&A", "方案评审 Plan review"])

# ---------------------------------------------------------------------------- batch Q&A

with batch_tab:
    state = st.session_state.setdefault("batch", {"records": [], "status": "idle", "total": 0})
    if state["status"] == "running":  # the last run was stopped by the cancel button
        state["status"] = "cancelled"
    plans = st.file_uploader(
        "学校方案（可选，可多选）College plans (optional)",
        type=["pdf", "docx", "md", "txt"],
        accept_multiple_files=True,
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
            folder = Path(folder_name)
            try:
                if source == "file":
                    if questions_file is None:
                        raise AdvisorError("请先上传问题文件 Upload a questions file first")
                    items = read_questions(save_uploads([questions_file], folder)[0])
                else:
                    items = [QuestionItem(q["id"], q["question"]) for q in rubric_questions(lang)]
                check_batch_size(len(items), service.settings.max_batch_questions)
                plan_paths = save_uploads(list(plans or []), folder)
                state.update(records=[], status="running", total=len(items), files_for=None)
                cancel = st.empty()
                cancel.button("取消 Cancel", key="batch_cancel")  # a click stops this run
                progress = st.progress(0.0, text=f"0/{len(items)}")
                with service.plan_scope(plan_paths) as plan_kbs:
                    advisor = session_advisor(service, [service.settings.kb, *plan_kbs])

                    def answer_one(item: QuestionItem) -> dict[str, Any]:
                        return advisor.answer(item.question, item.history).to_record(item.id)

                    def on_record(record: dict[str, Any]) -> None:
                        state["records"].append(record)
                        done = len(state["records"])
                        progress.progress(done / len(items), text=f"{done}/{len(items)}")

                    answer_all(items, answer_one, llm=advisor.llm_label, on_record=on_record)
                state["status"] = "done"
                cancel.empty()
            except AdvisorError as exc:
                state["status"] = "idle"
                st.error(str(exc))

    records = state["records"]
    if state["status"] == "cancelled":
        st.warning(
            f"已取消：保留已完成的 {len(records)}/{state['total']} 个回答。"
            f"Cancelled: the {len(records)} answers given so far are kept."
        )
    if records:
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
        if state.get("files_for") != len(records):  # render the files once per result set
            state["files"], state["files_for"] = result_files(records), len(records)
        columns = st.columns(len(DOWNLOADS))
        for column, (suffix, data) in zip(columns, state["files"].items(), strict=True):
            label, mime = DOWNLOADS[suffix]
            column.download_button(
                f"下载 {label}", data, file_name=f"answers{suffix}", mime=mime, key=f"dl{suffix}"
            )

# ---------------------------------------------------------------------------- plan review

with review_tab:
    st.caption(
        f"按 {len(load_rubric())} 个维度评审方案：覆盖 / 部分覆盖 / 缺失，引用方案原文和页码，"
        "并依据知识库给出建议。Grades the plan on each rubric dimension with quoted evidence "
        "and knowledge-base recommendations."
    )
    plan_upload = st.file_uploader(
        "学校方案 College plan", type=["pdf", "docx", "md", "txt"], key="review_plan"
    )
    if st.button("开始评审 Review", type="primary", key="review_run") and plan_upload is not None:
        with tempfile.TemporaryDirectory(prefix="advisor-review-") as folder_name:
            [plan_path] = save_uploads([plan_upload], Path(folder_name))
            bar = st.progress(0.0, text="评审中 Reviewing…")
            total = len(load_rubric())
            done: list[str] = []

            def step(key: str) -> None:
                done.append(key)
                bar.progress(len(done) / total, text=f"{len(done)}/{total} · {key}")

            try:
                session_advisor(service)  # loads the session's model with a visible status
                report = review_plan(service, plan_path, progress=step)
            except AdvisorError as exc:
                st.error(str(exc))
            else:
                files = {}
                for suffix in (".docx", ".md", ".json"):
                    target = Path(folder_name) / f"review{suffix}"
                    write_report(report, target)
                    files[suffix] = target.read_bytes()
                st.session_state["review"] = {
                    "report": report.to_json(),
                    "chart": coverage_chart(report),
                    "files": files,
                }
    review: dict[str, Any] | None = st.session_state.get("review")
    if review:
        data = review["report"]
        st.subheader(data["plan"])
        st.write(data["summary"])
        st.image(review["chart"])
        names = {"covered": "✅ 覆盖", "partial": "🟡 部分覆盖", "missing": "❌ 缺失"}
        for dim in data["dimensions"]:
            with st.expander(f"{names[dim['status']]} · {dim['title']}"):
                for e in dim["evidence"]:
                    page = f"（第{e['page']}页）" if e.get("page") else ""
                    st.markdown(f"> {e['quote']}{page}")
                st.markdown(dim["recommendation"])
                for c in dim["citations"]:
                    page = f", p. {c['page']}" if c.get("page") else ""
                    st.caption(f"[{c['n']}] {c['source']}{page}: “{c['quote']}”")
        review_columns = st.columns(3)
        mimes = {
            ".docx": DOWNLOADS[".docx"][1],
            ".md": "text/markdown",
            ".json": "application/json",
        }
        for column, (suffix, blob) in zip(review_columns, review["files"].items(), strict=True):
            column.download_button(
                f"下载报告 {suffix[1:].upper()}",
                blob,
                file_name=f"review{suffix}",
                mime=mimes[suffix],
                key=f"review_dl{suffix}",
            )
