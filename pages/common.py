"""What every page shares: the service, built once per process."""

from __future__ import annotations

import streamlit as st

from advisor.service import AdvisorService


@st.cache_resource(show_spinner="正在加载知识库 Loading the knowledge base…")
def get_service() -> AdvisorService:
    return AdvisorService()
