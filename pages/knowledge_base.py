"""Knowledge base: upload many files with a kind; per-file progress and outcome; the documents
table with delete; a retrieval preview of what the advisor would read for a question."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from advisor.errors import AdvisorError
from ingest.metadata import LEVELS
from ingest.types import KINDS
from pages.common import (
    LEVEL_LABELS,
    StreamlitIngestProgress,
    get_service,
    is_admin,
    outcome_rows,
    save_uploads,
    show_error,
    too_many_files,
)
from vectorstore.store import ocr_page_list

STATUS_LABELS = {"current": "现行 current", "superseded": "已被取代 superseded", "unknown": "?"}
KIND_LABELS = {
    "policy": "政策法规 policy",
    "case": "案例 case",
    "plan": "学校方案 plan",
    "other": "其他 other",
}

service = get_service()
kb = service.knowledge_base()

st.title("知识库 · Knowledge base")
st.caption(f"`{service.settings.kb}` · {service.settings.data_dir}")

# ---------------------------------------------------------------------------- upload

admin = is_admin()
if not admin:
    st.info(
        "共享知识库由管理员维护；你可以浏览文档和预览检索结果。"
        "The shared knowledge base is managed by administrators; you can browse and preview it."
    )
if admin:
    with st.form("upload", clear_on_submit=True):
        st.subheader("导入文件 Add documents")
        files = st.file_uploader(
            "PDF、Word、Markdown 或文本文件，可多选 PDF, DOCX, Markdown or text; several at once",
            type=["pdf", "docx", "md", "txt"],
            accept_multiple_files=True,
        )
        kind = st.selectbox(
            "类型 Kind",
            list(KINDS),
            index=KINDS.index("policy"),
            format_func=lambda k: KIND_LABELS.get(k, k),
        )
        submitted = st.form_submit_button("导入 Ingest", type="primary")

    if submitted and files and not too_many_files(files, service.settings.max_upload_files):
        with tempfile.TemporaryDirectory(prefix="advisor-upload-") as folder:
            paths = save_uploads(files, Path(folder))
            progress = StreamlitIngestProgress()
            try:
                report = service.ingest(
                    paths, options=service.ingest_options(kind=kind), progress=progress
                )
            except AdvisorError as exc:
                show_error(exc)
            else:
                progress.done()
                st.session_state["last_ingest"] = outcome_rows(report.outcomes)
                counts = report.counts()
                summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
                (st.success if report.ok else st.warning)(
                    f"{len(report.outcomes)} 个文件 file(s): {summary} · {report.seconds:.1f} s"
                )


if st.session_state.get("last_ingest"):
    st.dataframe(st.session_state["last_ingest"], hide_index=True, width="stretch")

# ---------------------------------------------------------------------------- documents

st.subheader("文档 Documents")
docs = kb.list_documents()
left, right = st.columns(2)
left.metric("文档 Documents", len(docs))
right.metric("片段 Chunks", sum(d.chunks for d in docs))
if docs:
    st.dataframe(
        [
            {
                "document": d.source,
                "title": d.title,
                "level": LEVEL_LABELS.get(d.level, d.level),
                "region": d.region,
                "adopted": d.adopted,
                "revised": d.revised,
                "文号": d.doc_number,
                "status": STATUS_LABELS.get(d.status, d.status),
                "kind": d.kind,
                "lang": d.lang,
                "pages": d.pages,
                "chunks": d.chunks,
                "OCR pages": ", ".join(map(str, ocr_page_list(d.ocr_pages))),
                "ingested": d.ingested_at,
            }
            for d in docs
        ],
        width="stretch",
        hide_index=True,
    )
if docs and admin:
    with st.expander("编辑文档信息 Edit a document's metadata"):
        chosen = st.selectbox("文档 Document", [d.source for d in docs], key="meta_doc")
        record = next(d for d in docs if d.source == chosen)
        with st.form("edit_meta"):
            # keyed by document, so that choosing another document shows its own values
            k = record.doc_id
            values: dict[str, str | None] = {
                "title": st.text_input("标题 Title", record.title, key=f"meta_title_{k}"),
                "issuer": st.text_input("发布机关 Issuer", record.issuer, key=f"meta_issuer_{k}"),
                "doc_number": st.text_input(
                    "文号 Document number", record.doc_number, key=f"meta_doc_number_{k}"
                ),
                "level": st.selectbox(
                    "层级 Level",
                    LEVELS,
                    index=LEVELS.index(record.level) if record.level in LEVELS else len(LEVELS) - 1,
                    format_func=lambda v: LEVEL_LABELS.get(v, v),
                    key=f"meta_level_{k}",
                ),
                "region": st.text_input("地区 Region", record.region, key=f"meta_region_{k}"),
                "adopted": st.text_input(
                    "通过 Adopted (YYYY-MM-DD)", record.adopted, key=f"meta_adopted_{k}"
                ),
                "revised": st.text_input(
                    "修订/修正 Revised (YYYY-MM-DD)", record.revised, key=f"meta_revised_{k}"
                ),
                "effective": st.text_input(
                    "施行 Effective (YYYY-MM-DD)", record.effective, key=f"meta_effective_{k}"
                ),
            }
            if st.form_submit_button("保存 Save", key="meta_save"):
                changed = {k: v for k, v in values.items() if (v or "") != getattr(record, k)}
                if changed:
                    try:
                        service.edit_document(record.source, changed)
                    except AdvisorError as exc:
                        show_error(exc)
                    else:
                        st.success(f"已保存 Saved: {', '.join(changed)}")
                        st.rerun()
    with st.form("delete"):
        doomed = st.selectbox(
            "删除文档 Delete a document", [d.source for d in docs], key="delete_doc"
        )
        confirm = st.checkbox("确认删除 I am sure", key="delete_confirm")
        if st.form_submit_button("删除 Delete", key="delete_submit") and confirm:
            record = service.delete_document(doomed)
            st.success(f"已删除 Deleted {record.source} ({record.chunks} chunks)")
            st.rerun()
if not docs:
    st.info("知识库为空。The knowledge base is empty.")

# ---------------------------------------------------------------------------- preview

st.subheader("检索预览 Retrieval preview")
st.caption("顾问回答这个问题时会读到哪些片段 What the advisor would read for this question")
probe = st.text_input("问题 Question", key="preview_question")
if probe.strip() and docs:
    with st.spinner("检索中 Searching…"):
        from advisor.glossary import load_glossary
        from ingest.lang import detect_lang

        lang = detect_lang(probe)
        passages = service.retriever().retrieve(
            probe,
            k=int(st.session_state.get("top_k", service.settings.top_k)),
            query_lang=lang,
            translated_terms=load_glossary().translate_terms(probe, lang),
        )
    st.dataframe(
        [
            {
                "rank": p.rank,
                "document": p.source,
                "page": p.page,
                "section": p.section,
                "similarity": round(p.similarity or 0.0, 3),
                "keyword": round(p.keyword_score or 0.0, 1),
                "text": p.text[:300],
            }
            for p in passages
        ],
        hide_index=True,
        width="stretch",
    )
