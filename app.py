"""Streamlit entry point: page configuration and navigation only; pages live in pages/."""

import streamlit as st

st.set_page_config(page_title="产教融合顾问 · Collaboration Advisor", page_icon="🎓", layout="wide")

from advisor.errors import translate  # noqa: E402
from pages.common import get_service, require_user, show_error  # noqa: E402

require_user(get_service())  # a login form and a stop unless signed in (or ADVISOR_AUTH=none)

navigation = st.navigation(
    [
        st.Page("pages/chat.py", title="咨询 Chat", icon="💬", default=True),
        st.Page("pages/knowledge_base.py", title="知识库 Knowledge base", icon="📚"),
        st.Page("pages/compare.py", title="对比 Compare", icon="⚖️"),
        st.Page("pages/batch.py", title="批量与评审 Batch & review", icon="📋"),
        st.Page("pages/settings.py", title="状态与设置 Settings", icon="⚙️"),
    ]
)
try:
    navigation.run()
except Exception as exc:  # the one place an error no page handled is shown
    error = translate(exc)  # None for a bug (and for Streamlit's own rerun and stop)
    if error is None:
        raise
    show_error(error)
