"""Status and settings: which backend and model answer, the data dir, knowledge-base sizes; the
backend and top-k chosen for this browser session."""

from __future__ import annotations

import streamlit as st

from advisor.llm import describe_llm
from pages.common import BACKEND_LABELS, BACKENDS, get_service, session_backend, session_top_k
from vectorstore.embeddings import MODEL_NAME

service = get_service()
settings = service.settings

st.title("状态与设置 · Status and settings")

st.subheader("本次会话 This session")
backend = st.radio(
    "回答方式 Backend",
    BACKENDS,
    index=BACKENDS.index(session_backend(service)),
    format_func=BACKEND_LABELS.get,
    horizontal=True,
    key="settings_backend",
)
if backend == "openai" and not settings.openai_base_url:
    st.warning(
        "未配置 ADVISOR_OPENAI_BASE_URL，OpenAI 兼容服务不可用。"
        "ADVISOR_OPENAI_BASE_URL is not set: the OpenAI-compatible backend cannot answer."
    )
top_k = st.slider("每次回答读取的片段数 Passages per answer (top-k)", 2, 12, session_top_k(service))
st.session_state["backend"], st.session_state["top_k"] = backend, top_k

st.subheader("状态 Status")
chosen = settings.model_copy(update={"llm": backend})
st.markdown(
    f"- 回答模型 Answering: **{describe_llm(chosen)}**\n"
    f"- 嵌入模型 Embeddings: {MODEL_NAME}\n"
    f"- 数据目录 Data dir: `{settings.data_dir.resolve()}`\n"
    f"- 向量库 Store: {settings.chroma_url or f'embedded Chroma ({settings.chroma_dir})'}\n"
    f"- 默认知识库 Default knowledge base: `{settings.kb}`"
)
rows = []
for name in service.list_knowledge_bases(private=False):  # users' plans are theirs alone
    docs = service.list_documents(name)
    rows.append(
        {
            "knowledge base": name,
            "documents": len(docs),
            "chunks": sum(d.chunks for d in docs),
            "pages": sum(d.pages or 0 for d in docs),
        }
    )
if rows:
    st.dataframe(rows, hide_index=True, width="stretch")
