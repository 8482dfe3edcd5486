"""Chat: streamed, cited answers; conversations kept across restarts (sidebar to reopen, rename,
delete, start new); thumbs up/down with a comment per answer; export to Markdown and DOCX."""

from __future__ import annotations

import re
from typing import Any

import streamlit as st

from advisor.chain import FinalEvent, SourcesEvent, StatusEvent, TokenEvent
from advisor.errors import AdvisorError
from advisor.reports import source_label
from advisor.scope import Scope
from ingest.metadata import LEVELS
from pages.common import (
    DOCX_MIME,
    LEVEL_LABELS,
    get_service,
    render_sources,
    session_advisor,
    session_backend,
    user_name,
)

STAGES = {
    "condense": "理解追问 Reading the follow-up…",
    "retrieve": "检索知识库 Searching the knowledge base…",
    "generate": "生成回答 Writing the answer…",
    "reread": "重读关键句 Reading the decisive sentences again…",
}

service = get_service()
store = service.conversations
owner = user_name()  # every store call is scoped to the signed-in user


def current_conversation() -> str:
    conversation_id = st.session_state.get("conversation_id")
    existing = store.list_conversations(owner)
    if conversation_id not in {c.id for c in existing}:
        conversation_id = existing[0].id if existing else store.create(owner).id
        st.session_state["conversation_id"] = conversation_id
    return str(conversation_id)


# ---------------------------------------------------------------------------- sidebar

with st.sidebar:
    st.subheader("对话 Conversations")
    if st.button("➕ 新对话 New", key="new_conversation", width="stretch"):
        st.session_state["conversation_id"] = store.create(owner).id
        st.rerun()
    conversation_id = current_conversation()
    for conversation in store.list_conversations(owner):
        is_current = conversation.id == conversation_id
        if st.button(
            ("▶ " if is_current else "") + conversation.title,
            key=f"open_{conversation.id}",
            width="stretch",
            type="primary" if is_current else "secondary",
        ):
            st.session_state["conversation_id"] = conversation.id
            st.rerun()
    with st.expander("检索范围 Scope"):
        # which documents answers come from (advisor/scope.py): by the catalogue's metadata;
        # kept under keys of its own (Streamlit forgets a widget's state on another page)
        saved = st.session_state.setdefault("chat_scope", {})
        scope_levels = st.multiselect(
            "层级 Level",
            LEVELS,
            default=saved.get("levels", []),
            key="scope_levels",
            format_func=lambda v: LEVEL_LABELS[v],
        )
        scope_region = st.text_input(
            "地区 Region (如 宁波, 浙江)", value=saved.get("region", ""), key="scope_region"
        )
        scope_current = st.checkbox(
            "只用现行版本 Current versions only",
            value=saved.get("current", False),
            key="scope_current",
        )
        saved.update(levels=scope_levels, region=scope_region, current=scope_current)
    scope = Scope(
        levels=tuple(scope_levels),
        regions=tuple(r.strip() for r in re.split(r"[,，、\s]+", scope_region) if r.strip()),
        current_only=scope_current,
    )
    current = store.get(conversation_id, owner)
    with st.expander("管理当前对话 Manage this conversation"):
        title = st.text_input("标题 Title", value=current.title, key=f"title_{conversation_id}")
        if st.button("重命名 Rename", key="rename") and title.strip():
            store.rename(conversation_id, title, owner)
            st.rerun()
        if st.button("🗑 删除 Delete", key="delete"):
            store.delete(conversation_id, owner)
            st.session_state.pop("conversation_id", None)
            st.rerun()
        st.download_button(
            "导出 Markdown",
            store.export_markdown(conversation_id, owner),
            file_name="conversation.md",
            mime="text/markdown",
            key="export_md",
        )
        st.download_button(
            "导出 DOCX",
            store.export_docx(conversation_id, owner),
            file_name="conversation.docx",
            mime=DOCX_MIME,
            key="export_docx",
        )

# ---------------------------------------------------------------------------- messages

st.title("产教融合顾问 · Collaboration Advisor")
st.caption(
    f"知识库 Knowledge base: `{service.settings.kb}` · "
    f"回答方式 Backend: `{session_backend(service)}` · "
    "用中文或英文提问，回答都标注来源。Ask in Chinese or English; answers cite their sources."
)


def show_answer(content: str, record: dict[str, Any] | None) -> None:
    record = record or {}
    if record.get("error"):
        st.error(f"出错了 Something went wrong: {record['error']}")
        return
    if record.get("refused"):
        st.warning(
            "知识库中没有足够的依据回答这个问题，因此没有作答。可以换个问法，或在“知识库”页面导入相关文件。\n\n"
            "The knowledge base holds no adequate evidence for this question, so the advisor "
            "did not guess. Rephrase it, or add documents on the knowledge base page."
        )
        if record.get("refusal_reason") == "not_stated":
            st.markdown(content)  # what was found and what is missing
            render_closest(record)
        return
    st.markdown(content)
    render_sources(record)


def render_closest(record: dict[str, Any]) -> None:
    """The passages closest to a refused question, so that a user can check for themselves."""
    contexts = record.get("contexts", [])[:3]
    if not contexts:
        return
    with st.expander(f"最接近的资料 Closest passages ({len(contexts)})"):
        for c in contexts:
            label = source_label(c["rank"], c["source"], c.get("page"), ocr=bool(c.get("ocr")))
            st.markdown(f"**{label}**")
            st.caption(c["text"][:240].replace("\n", " ") + ("…" if len(c["text"]) > 240 else ""))


def render_reading(slot: Any, event: SourcesEvent) -> None:
    """The passages being read, shown while the model writes; replaced by the checked
    citations once the answer is done."""
    with (
        slot.container(),
        st.expander(
            f"正在阅读 {len(event.passages)} 段资料 Reading {len(event.passages)} passages",
            expanded=True,
        ),
    ):
        for p in event.passages:
            section = " > ".join(p.section.split(" > ")[-2:])
            label = source_label(p.rank, p.source, p.page, ocr=p.page in p.ocr_pages)
            st.markdown(f"**{label}**" + (f" · {section}" if section else ""))
            st.caption(p.text[:160].replace("\n", " ") + ("…" if len(p.text) > 160 else ""))


def feedback_widgets(message_id: int, rating: int | None, comment: str) -> None:
    key = f"fb_{message_id}"
    chosen = st.feedback("thumbs", key=key)
    if chosen is None and rating is not None:
        st.caption(
            "已评价 Rated: " + ("👍" if rating else "👎") + (f" · {comment}" if comment else "")
        )
    if chosen is not None:
        note = st.text_input(
            "补充意见（可选）Comment (optional)", value=comment, key=f"fbc_{message_id}"
        )
        if st.button("提交评价 Send feedback", key=f"fbs_{message_id}"):
            store.set_feedback(message_id, int(chosen), note, owner)
            st.toast("已记录，谢谢！ Thanks for the feedback.")


messages = store.messages(conversation_id, owner)
if not messages:
    try:
        starters = service.starter_questions()
    except AdvisorError:
        starters = []
    if starters:
        st.markdown("**试试这些问题 Try one of these:**")
        columns = st.columns(2)
        for i, starter in enumerate(starters):
            for column, text, lang in (
                (columns[0], starter.zh, "zh"),
                (columns[1], starter.en, "en"),
            ):
                if column.button(text, key=f"starter_{i}_{lang}", width="stretch"):
                    st.session_state["starter_question"] = text
                    st.rerun()
    else:
        st.info(
            "知识库还是空的：请先在“知识库”页面导入政策文件或案例。"
            "The knowledge base is empty: add policy documents or cases on the knowledge base page."
        )

for message in messages:
    with st.chat_message(message.role):
        if message.role == "user":
            st.markdown(message.content)
        else:
            show_answer(message.content, message.record)
            if message.record and not message.record.get("error"):
                feedback_widgets(message.id, message.rating, message.comment)

# ---------------------------------------------------------------------------- a new question

question = st.chat_input("请输入问题 Ask a question…") or st.session_state.pop(
    "starter_question", None
)
if question and question.strip():
    question = question.strip()
    try:  # a scope no document matches is said at once, and nothing is stored
        flt = service.retrieval_filter(scope)
    except AdvisorError as exc:
        st.error(f"检索范围 Scope: {exc}")
        st.stop()
    history = store.history(conversation_id, owner)
    store.add_message(conversation_id, "user", question, owner=owner)
    with st.chat_message("user"):
        st.markdown(question)
    with st.chat_message("assistant"):
        final: Any = None
        status = st.empty()
        reading = st.empty()

        def tokens() -> Any:
            global final
            for event in advisor.stream(question, history, flt=flt):
                if isinstance(event, StatusEvent):
                    status.caption(STAGES.get(event.stage, event.stage))
                elif isinstance(event, SourcesEvent):
                    render_reading(reading, event)
                elif isinstance(event, TokenEvent):
                    yield event.text
                elif isinstance(event, FinalEvent):
                    final = event.answer

        try:
            advisor = session_advisor(service)
            streamed = st.write_stream(tokens())
            status.empty()
        except (AdvisorError, ValueError) as exc:
            status.empty()
            reading.empty()
            record = {"error": str(exc)}
            store.add_message(conversation_id, "assistant", str(exc), record, owner)
            st.error(f"出错了 Something went wrong: {exc}")
        else:
            record = final.to_record()
            for context, passage in zip(record["contexts"], final.contexts, strict=True):
                context["section"] = passage.section
            record["lang"] = final.lang
            record["refusal_reason"] = final.refusal_reason
            store.add_message(conversation_id, "assistant", final.answer, record, owner)
            st.rerun()  # show the checked answer (markers verified) with its sources
