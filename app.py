"""Streamlit entry point: page configuration and navigation only; pages live in pages/."""

import streamlit as st

st.set_page_config(page_title="产教融合顾问 · Collaboration Advisor", page_icon="🎓", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/chat.py", title="咨询 Chat", icon="💬", default=True),
        st.Page("pages/knowledge_base.py", title="知识库 Knowledge base", icon="📚"),
    ]
)
navigation.run()
