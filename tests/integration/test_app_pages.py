"""The Streamlit app starts and its pages render (streamlit.testing AppTest)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO_ROOT


@pytest.fixture(autouse=True)
def _fresh_service_cache():
    import streamlit as st

    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def test_chat_page_is_default_and_says_what_is_available() -> None:
    app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60).run()
    assert not app.exception
    assert "Collaboration Advisor" in app.title[0].value
    assert "not available yet" in app.info[0].body


def test_knowledge_base_page_lists_documents(service, tmp_path) -> None:
    note = tmp_path / "order_class.txt"
    note.write_text("订单班由企业参与课程设计并承诺录用毕业生。", encoding="utf-8")
    assert service.ingest([note]).ok
    app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60).run()
    app.switch_page("pages/knowledge_base.py").run()
    assert not app.exception
    assert app.metric[0].value == "1"
    table = app.dataframe[0].value
    assert list(table["document"]) == ["order_class.txt"]
    assert list(table["lang"]) == ["zh"]
