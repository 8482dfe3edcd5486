"""Chat page. The cited answer chain is not built yet: this page says so plainly."""

import streamlit as st

from pages.common import get_service

st.title("产教融合顾问 · Collaboration Advisor")
service = get_service()
st.info(
    '浏览器中的对话功能即将上线；现在可以在命令行提问：`python -m advisor ask "问题"`，'
    "或用 `python -m advisor batch` 批量问答。\n\n"
    "Chat in the browser is not available yet in this version; ask from the command line with "
    '`python -m advisor ask "QUESTION"` or answer a file of questions with '
    "`python -m advisor batch`. The knowledge base page lists the indexed documents."
)
st.caption(f"Knowledge base: `{service.settings.kb}` · data: `{service.settings.data_dir}`")
