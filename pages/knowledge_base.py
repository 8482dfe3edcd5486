"""Knowledge-base page: the documents of the current knowledge base."""

import streamlit as st

from pages.common import get_service

st.title("知识库 · Knowledge base")
service = get_service()
kb = service.knowledge_base()
docs = kb.list_documents()
st.metric("文档 Documents", len(docs))
if docs:
    st.dataframe(
        [
            {
                "document": d.source,
                "kind": d.kind,
                "lang": d.lang,
                "pages": d.pages,
                "chunks": d.chunks,
                "ingested": d.ingested_at,
            }
            for d in docs
        ],
        width="stretch",
        hide_index=True,
    )
else:
    st.write("知识库为空。Empty: run `python -m advisor ingest PATH`.")
