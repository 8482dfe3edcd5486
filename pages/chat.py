"""Chat page. The cited answer chain is not built yet: this page says so plainly."""

import streamlit as st

from pages.common import get_service

st.title("产教融合顾问 · Collaboration Advisor")
service = get_service()
st.info(
    "问答功能即将上线：目前可以在“知识库”页面查看已索引的文档。\n\n"
    "Question answering is not available yet in this version; the knowledge base page lists "
    "the indexed documents."
)
st.caption(f"Knowledge base: `{service.settings.kb}` · data: `{service.settings.data_dir}`")
