"""Compare: one question across several documents or regions, side by side (advisor/compare.py).
The documents come from the question (the regions and documents it names) or from the form;
each cell is the document's own sentence, cited; the table downloads as XLSX, DOCX, Markdown."""

from __future__ import annotations

import streamlit as st

from advisor.compare import NOT_ADDRESSED, Comparison
from advisor.errors import AdvisorError
from advisor.reports import cite_label
from pages.common import DOCX_MIME, get_service, session_advisor, show_error

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

service = get_service()
st.title("对比 Compare")
st.caption(
    "同一个问题，在几份文件中分别怎么规定：每格是该文件的原文并标注出处，文件未涉及的方面注明“未涉及”。"
    " One question across documents, side by side; each cell quotes the document and cites it."
)

try:
    documents = [d for d in service.list_documents() if d.status != "superseded"]
except AdvisorError:  # a fresh install: no knowledge base yet
    documents = []
if not documents:
    st.info(
        "知识库还没有文件，请先在“知识库”页面导入。 Add documents on the knowledge base page first."
    )
    st.stop()
labels = {
    d.doc_id: (d.title or d.source) + (f" · {d.region}" if d.region else "") for d in documents
}
with st.form("compare_form"):
    question = st.text_input(
        "问题 Question",
        key="compare_question",
        placeholder="上海、青岛、宁波对企业参与职业教育各有什么激励措施？",
    )
    chosen = st.multiselect(
        "文件（留空则按问题中的地区和文件名选择）Documents (empty: those the question names)",
        list(labels),
        format_func=lambda doc_id: labels[doc_id],
        key="compare_docs",
    )
    submitted = st.form_submit_button("对比 Compare", type="primary")

if submitted and question.strip():
    try:
        advisor = session_advisor(service)
        with st.spinner("正在逐份文件检索 Reading each document…"):
            table = service.compare(question, chosen, advisor=advisor)
            # the downloads are made once, not on every rerun
            exports = {suffix: table.export(suffix) for suffix in (".xlsx", ".docx", ".md")}
            st.session_state["comparison"] = (table, exports)
    except AdvisorError as exc:
        st.session_state.pop("comparison", None)
        show_error(exc)


def show(table: Comparison, exports: dict[str, bytes]) -> None:
    if table.overview:
        st.markdown(table.overview)
    missing = NOT_ADDRESSED["zh" if table.lang == "zh" else "en"]
    header = table.header()
    import pandas as pd

    st.dataframe(pd.DataFrame(table.grid(), columns=header), hide_index=True, width="stretch")
    st.caption(f"“{missing}”：该文件没有关于这一方面的条文。 The document has no provision on it.")
    st.markdown("**来源 Sources**")
    for c in table.citations:
        with st.expander(cite_label(c)):
            st.markdown(f"> {c.quote}")
    cols = st.columns(3)
    for col, (suffix, mime, name) in zip(
        cols,
        [
            (".xlsx", XLSX_MIME, "XLSX"),
            (".docx", DOCX_MIME, "DOCX"),
            (".md", "text/markdown", "Markdown"),
        ],
        strict=True,
    ):
        col.download_button(
            f"下载 {name}",
            exports[suffix],
            file_name=f"comparison{suffix}",
            mime=mime,
            key=f"compare_download_{name}",
        )


shown = st.session_state.get("comparison")
if shown is not None:
    show(*shown)
