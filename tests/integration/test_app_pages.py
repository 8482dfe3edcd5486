"""Every page of the Streamlit app through streamlit.testing's AppTest, with the real store and
embedder: a chat round-trip with a fake chat model (streamed, cited, kept across restarts,
feedback, export), upload with per-file outcomes, delete, retrieval preview, a batch with
downloads, a plan review, and the settings page."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from advisor.service import AdvisorService
from devkit.fakes import QueuedFakeChat
from devkit.pdfgen import write_pdf
from devkit.plans import GAPPED, as_docx_blocks
from devkit.servers import REPO_ROOT

KB_TEXT = (
    "---\ntitle: 订单班\nkind: case\n---\n\n# 订单班\n\n"
    "订单班由企业参与课程设计，企业承诺录用合格毕业生。学校负责教学组织和学生管理。\n"
)
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(autouse=True)
def _fresh_service_cache():
    import streamlit as st

    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture()
def app_service(embeddings, tmp_path: Path, monkeypatch) -> AdvisorService:
    """The service the app will use (its cached get_service), with the session's embedder and
    one document in the knowledge base; single-user mode (accounts are tested below)."""
    from pages.common import get_service

    monkeypatch.setenv("ADVISOR_AUTH", "none")

    service = get_service()
    service.use_embeddings(embeddings)
    doc = tmp_path / "order_class.md"
    doc.write_text(KB_TEXT, encoding="utf-8")
    assert service.ingest([doc]).ok
    return service


def start(page: str | None = None) -> AppTest:
    app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120).run()
    assert not app.exception, app.exception
    if page:
        app.switch_page(page).run()
        assert not app.exception, app.exception
    return app


def test_chat_round_trip_with_citations_history_feedback_and_export(app_service) -> None:
    fake = QueuedFakeChat(
        replies=[
            "订单班由企业参与课程设计[1]。企业承诺录用合格毕业生[1]。",
            "学校负责教学组织和学生管理[1]。",
        ]
    )
    app_service.use_chat_model(fake, "fake-model")
    app = start()
    assert "Collaboration Advisor" in app.title[0].value
    app.chat_input[0].set_value("订单班里企业做什么？").run()
    assert not app.exception, app.exception
    assert any("订单班由企业参与课程设计[1]" in v for v in app.markdown.values)
    # the numbered source with its quote in an expander
    labels = [e.label for e in app.expander]
    assert any(label.startswith("[1] order_class.md") for label in labels), labels
    assert any("企业承诺录用合格毕业生" in v for v in app.markdown.values)

    # a follow-up uses the history (the answer prompt holds the question it follows)
    app.chat_input[0].set_value("那学校呢？").run()
    assert not app.exception, app.exception
    follow_up_prompt = str(fake.calls[1][-1].content)
    assert "订单班里企业做什么" in follow_up_prompt and "那学校呢" in follow_up_prompt
    assert any("学校负责教学组织和学生管理[1]" in v for v in app.markdown.values)

    # kept across a restart: a new app (new session) reopens the same conversation
    store = app_service.conversations
    [conversation] = store.list_conversations()
    assert conversation.title == "订单班里企业做什么？"
    messages = store.messages(conversation.id)
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[1].record["citations"][0]["source"] == "order_class.md"
    again = start()
    assert any("学校负责教学组织和学生管理[1]" in v for v in again.markdown.values)

    # feedback on the first answer
    again.feedback[0].set_value(1).run()
    again.text_input(key=f"fbc_{messages[1].id}").set_value("很清楚").run()
    again.button(key=f"fbs_{messages[1].id}").click().run()
    assert not again.exception, again.exception
    rated = store.messages(conversation.id)[1]
    assert (rated.rating, rated.comment) == (1, "很清楚")

    # export
    markdown = store.export_markdown(conversation.id)
    assert "## 问 · Q: 订单班里企业做什么？" in markdown and "order_class.md" in markdown
    labels = [b.label for b in again.get("download_button")]
    assert "导出 Markdown" in labels and "导出 DOCX" in labels


def test_empty_chat_offers_starters_from_the_knowledge_base_and_one_click_asks(
    app_service,
) -> None:
    """The knowledge base holds a case on 订单班 only: its starter is offered in both languages
    (and no starter on a topic it lacks, e.g. technology transfer); clicking asks it."""
    fake = QueuedFakeChat(replies=["订单班由企业参与课程设计[1]。"])
    app_service.use_chat_model(fake, "fake-model")
    app = start()
    labels = [b.label for b in app.button]
    assert "订单班里企业和学校各做什么？" in labels, labels
    assert any(label.startswith("In an order class") for label in labels), labels
    assert not any("科技成果转化" in label for label in labels), labels
    next(b for b in app.button if b.label == "订单班里企业和学校各做什么？").click().run()
    assert not app.exception, app.exception
    assert any("订单班由企业参与课程设计[1]" in v for v in app.markdown.values)
    assert fake.calls and "订单班里企业和学校各做什么" in str(fake.calls[0][-1].content)


def test_refused_answer_is_explained(app_service) -> None:
    app_service.use_chat_model(QueuedFakeChat(replies=[]), "fake-model")
    app = start()
    app.chat_input[0].set_value("周末去杭州玩什么？").run()
    assert not app.exception, app.exception
    assert any("没有足够的依据" in w.value for w in app.warning)


def test_question_the_passages_do_not_state_is_refused_with_what_was_found(app_service) -> None:
    """The knowledge base is on 订单班 but states no amount: the refusal says so and offers
    the closest passages; the model is never asked."""
    fake = QueuedFakeChat(replies=[])
    app_service.use_chat_model(fake, "fake-model")
    app = start()
    app.chat_input[0].set_value("订单班的学生每月能拿到多少元补贴？").run()
    assert not app.exception, app.exception
    assert any("没有足够的依据" in w.value for w in app.warning)
    assert any("但没有一句说明具体金额" in v for v in app.markdown.values), app.markdown.values
    assert any(e.label.startswith("最接近的资料 Closest passages") for e in app.expander)
    assert fake.calls == []


def test_conversations_can_be_started_renamed_and_deleted(app_service) -> None:
    store = app_service.conversations
    app = start()
    [first] = store.list_conversations()
    app.button(key="new_conversation").click().run()
    assert len(store.list_conversations()) == 2
    current = app.session_state["conversation_id"]
    app.text_input(key=f"title_{current}").set_value("实训基地方案").run()
    app.button(key="rename").click().run()
    assert store.get(current).title == "实训基地方案"
    app.button(key="delete").click().run()
    assert [c.id for c in store.list_conversations()] == [first.id]


def test_upload_lists_outcomes_then_documents_and_delete(app_service, tmp_path) -> None:
    good = write_pdf(
        tmp_path / "plan.pdf", ["学院与企业共建实训基地。企业派出工程师授课。"], chinese=True
    )
    app = start("pages/knowledge_base.py")
    assert app.metric[0].value == "1"
    app.file_uploader[0].set_value(
        [
            ("plan.pdf", good.read_bytes(), "application/pdf"),
            ("broken.pdf", b"%PDF-1.4 truncated", "application/pdf"),
        ]
    )
    app.selectbox[0].set_value("case")
    app.button[0].click().run()  # the form's submit button
    assert not app.exception, app.exception
    outcomes = app.dataframe[0].value
    assert dict(zip(outcomes["file"], outcomes["outcome"], strict=True)) == {
        "broken.pdf": "failed",
        "plan.pdf": "indexed",
    }
    broken = outcomes[outcomes["file"] == "broken.pdf"]
    assert broken["reason"].iloc[0] == "corrupt"
    assert "not a readable PDF" in broken["detail"].iloc[0]
    documents = app.dataframe[1].value
    assert sorted(documents["document"]) == ["order_class.md", "plan.pdf"]
    assert documents[documents["document"] == "plan.pdf"]["kind"].iloc[0] == "case"

    # retrieval preview
    app.text_input(key="preview_question").set_value("谁来授课？").run()
    preview = app.dataframe[-1].value
    assert preview["document"].iloc[0] == "plan.pdf"

    # delete
    app.selectbox(key="delete_doc").set_value("plan.pdf")
    app.checkbox(key="delete_confirm").check()
    app.button(key="delete_submit").click().run()
    assert not app.exception, app.exception
    assert [d.source for d in app_service.list_documents()] == ["order_class.md"]

    # an administrator corrects a document's metadata; a wrong date is refused with the reason
    [left] = app_service.list_documents()
    app.text_input(key=f"meta_region_{left.doc_id}").set_value("宁波市")
    app.selectbox(key=f"meta_level_{left.doc_id}").set_value("municipal")
    app.button(key="meta_save").click().run()
    assert not app.exception, app.exception
    [record] = app_service.list_documents()
    assert (record.region, record.level) == ("宁波市", "municipal")
    app.text_input(key=f"meta_adopted_{left.doc_id}").set_value("2022年")
    app.button(key="meta_save").click().run()
    assert any("YYYY-MM-DD" in e.value for e in app.error), [e.value for e in app.error]
    assert app_service.list_documents()[0].adopted == ""


def add_plans(app: AppTest, files: list[tuple[str, bytes, str]]) -> AppTest:
    """Upload plans on the batch page's "My plans" tab."""
    app.file_uploader(key="plans_files").set_value(files)
    app.button(key="plans_add").click().run()
    assert not app.exception, app.exception
    return app


def test_batch_over_a_chosen_plan_offers_every_download_and_is_kept(app_service, tmp_path) -> None:
    app_service.use_chat_model(
        QueuedFakeChat(
            replies=["企业派驻工程师担任兼职教师[1]。", "订单班由企业参与课程设计[1]。"]
        ),
        "fake-model",
    )
    import docx

    plan = tmp_path / "plan.docx"
    document = docx.Document()
    document.add_paragraph("学院与三家企业共建智能制造产业学院，企业派驻十二名工程师担任兼职教师。")
    document.save(str(plan))
    other = tmp_path / "other.md"
    other.write_text("# 另一份方案\n\n企业派驻二十名工程师到学院授课，参与课程开发。\n")
    app = start("pages/batch.py")
    add_plans(
        app,
        [
            ("plan.docx", plan.read_bytes(), DOCX_MIME),
            ("other.md", other.read_bytes(), "text/markdown"),
            ("broken.pdf", b"%PDF-1.4 truncated", "application/pdf"),
        ],
    )
    assert "broken.pdf" in list(app.dataframe[0].value["file"])  # the failure, by name
    plans = app.dataframe[1].value
    assert sorted(plans["plan"]) == ["other.md", "plan.docx"]
    # plans are the user's own: not in the shared knowledge base
    assert [d.source for d in app_service.list_documents()] == ["order_class.md"]

    [chosen] = [p.doc_id for p in app_service.workspace("local").plans() if p.source == "plan.docx"]
    app.multiselect(key="batch_plans").set_value([chosen])
    questions = "question\n企业派了多少工程师？\n订单班里企业做什么？\n".encode()
    app.file_uploader(key="batch_questions").set_value(("q.csv", questions, "text/csv"))
    app.button(key="batch_run").click().run()
    assert not app.exception, app.exception
    table = app.dataframe[2].value
    assert list(table["question"]) == ["企业派了多少工程师？", "订单班里企业做什么？"]
    assert "plan.docx" in table["sources"].iloc[0]
    assert not any("other.md" in s for s in table["sources"])  # not chosen, not searched
    labels = sorted(b.label for b in app.get("download_button"))  # the run, and "My results"
    assert labels == [
        label for label in ["下载 CSV", "下载 DOCX", "下载 Markdown", "下载 XLSX"] for _ in range(2)
    ]

    # the run is kept under "My results", with its downloads, after a fresh start
    [job] = app_service.workspace("local").results()
    assert job.kind == "batch" and "q.csv" in job.title and "plan.docx" in job.title
    again = start("pages/batch.py")
    assert any("q.csv" in o for o in again.selectbox(key="results_choice").options)
    assert sum(b.label == "下载 XLSX" for b in again.get("download_button")) == 1
    again.button(key="results_delete").click().run()
    assert not again.exception, again.exception
    assert app_service.workspace("local").results() == []


def test_plan_review_from_the_batch_page(app_service, tmp_path) -> None:
    from devkit.pdfgen import write_docx

    app_service.use_chat_model(None, "extractive (no LLM)")
    plan = write_docx(tmp_path / "gapped.docx", as_docx_blocks(GAPPED))
    app = add_plans(start("pages/batch.py"), [("gapped.docx", plan.read_bytes(), DOCX_MIME)])
    app.button(key="review_run").click().run()
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    assert any("缺失" in e.label and "治理与共同决策" in e.label for e in app.expander), [
        e.label for e in app.expander
    ]
    assert len(app.get("image")) == 2  # the coverage chart, in the review and "My results"
    labels = sorted(b.label for b in app.get("download_button"))  # the review and "My results"
    assert labels == ["下载报告 DOCX"] * 2 + ["下载报告 JSON"] * 2 + ["下载报告 MD"] * 2
    [job] = app_service.workspace("local").results()
    assert job.kind == "review" and job.title == "gapped.docx"


def test_a_review_from_the_batch_page_uses_the_sessions_backend(app_service, tmp_path) -> None:
    """The review used to build the service's default advisor and ignore the backend chosen
    on the settings page. Here the service's model is a fake that must not be called; the
    session chose the extractive backend, and the report says it answered."""
    from devkit.pdfgen import write_docx

    unused = QueuedFakeChat(replies=[])  # raises if the review asks it anything
    app_service.use_chat_model(unused, "fake-model")
    plan = write_docx(tmp_path / "gapped.docx", as_docx_blocks(GAPPED))
    app = add_plans(start("pages/batch.py"), [("gapped.docx", plan.read_bytes(), DOCX_MIME)])
    app.session_state["backend"] = "extractive"
    app.button(key="review_run").click().run()
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    assert unused.calls == []
    [job] = app_service.workspace("local").results()
    assert job.kind == "review"
    assert app.session_state["review"]["report"]["llm"] == "extractive (no LLM)"


def test_settings_page_shows_status_and_sets_the_session_backend(app_service) -> None:
    app = start("pages/settings.py")
    assert any("multilingual-e5-small" in v for v in app.markdown.values)
    table = app.dataframe[0].value
    assert list(table["knowledge base"]) == ["default"] and table["documents"].iloc[0] == 1
    app.radio[0].set_value("extractive").run()
    app.slider[0].set_value(4).run()
    assert app.session_state["backend"] == "extractive" and app.session_state["top_k"] == 4
    assert any("extractive" in v for v in app.markdown.values)


# ---------------------------------------------------------------------------- accounts


@pytest.fixture()
def accounts_service(embeddings, tmp_path: Path) -> AdvisorService:
    from pages.common import get_service

    service = get_service()  # ADVISOR_AUTH defaults to accounts
    service.use_embeddings(embeddings)
    doc = tmp_path / "order_class.md"
    doc.write_text(KB_TEXT, encoding="utf-8")
    assert service.ingest([doc]).ok
    return service


def signed_in(name: str, password: str) -> AppTest:
    """A fresh app session, signed in."""
    return sign_in(
        AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60).run(), name, password
    )


def sign_in(app: AppTest, name: str, password: str) -> AppTest:
    app.text_input(key="login_name").set_value(name)
    app.text_input(key="login_password").set_value(password)
    app.button[0].click().run()
    assert not app.exception, app.exception
    return app


def test_without_an_administrator_the_app_says_how_to_create_one(accounts_service) -> None:
    app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60).run()
    assert "python -m advisor user add" in app.error[0].value
    assert not app.chat_input  # nothing else is shown


def test_sign_in_is_required_and_wrong_passwords_are_refused(accounts_service) -> None:
    accounts_service.accounts.add_user("admin", "correct horse battery", "admin")
    app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60).run()
    assert not app.chat_input and app.text_input(key="login_password")
    sign_in(app, "admin", "wrong password!")
    assert "wrong user name or password" in app.error[0].value
    assert not app.chat_input
    sign_in(app, "admin", "correct horse battery")
    assert app.chat_input and "Collaboration Advisor" in app.title[0].value
    assert any("admin · admin" in c.value for c in app.caption)


def test_members_cannot_change_the_shared_knowledge_base(accounts_service) -> None:
    accounts_service.accounts.add_user("admin", "correct horse battery", "admin")
    accounts_service.accounts.add_user("wang", "member password 1")
    app = signed_in(
        "wang",
        "member password 1",
    )
    app.switch_page("pages/knowledge_base.py").run()
    assert not app.exception, app.exception
    assert not app.file_uploader and not app.checkbox  # no upload, no delete
    assert "managed by administrators" in app.info[0].value
    assert app.metric[0].value == "1"


def test_conversations_are_private_to_their_user(accounts_service) -> None:
    accounts = accounts_service.accounts
    accounts.add_user("admin", "correct horse battery", "admin")
    accounts.add_user("wang", "member password 1")
    accounts.add_user("li", "member password 2")
    store = accounts_service.conversations
    mine = store.create("wang", title="王老师的实训基地方案")
    store.add_message(mine.id, "user", "实训基地怎么建？", owner="wang")

    li = signed_in(
        "li",
        "member password 2",
    )
    labels = [b.label for b in li.button]
    assert not any("王老师" in label for label in labels)
    # even with wang's conversation id planted in li's session, nothing of it is shown
    li.session_state["conversation_id"] = mine.id
    li.run()
    assert not li.exception, li.exception
    assert li.session_state["conversation_id"] != mine.id
    assert not any("实训基地怎么建" in v for v in li.markdown.values)
    # and the store refuses li everything about it
    from advisor.errors import ConversationNotFoundError

    for call in (
        lambda: store.messages(mine.id, "li"),
        lambda: store.rename(mine.id, "x", "li"),
        lambda: store.delete(mine.id, "li"),
        lambda: store.export_markdown(mine.id, "li"),
        lambda: store.add_message(mine.id, "user", "偷看", owner="li"),
    ):
        with pytest.raises(ConversationNotFoundError):
            call()
    assert [m.content for m in store.messages(mine.id, "wang")] == ["实训基地怎么建？"]


def test_plans_and_results_are_private_to_their_user(accounts_service, tmp_path) -> None:
    accounts = accounts_service.accounts
    accounts.add_user("admin", "correct horse battery", "admin")
    accounts.add_user("wang", "member password 1")
    accounts.add_user("li", "member password 2")
    plan = tmp_path / "wang_plan.md"
    plan.write_text("# 王老师的方案\n\n学院与汽车企业共建新能源实训中心，企业捐赠三台整车。\n")
    wang = accounts_service.workspace("wang")
    assert wang.add_plans([plan]).ok
    job = wang.save_result("batch", "王老师的问题", [{"id": "1", "question": "秘密问题"}])

    li = signed_in(
        "li",
        "member password 2",
    )
    li.switch_page("pages/batch.py").run()
    assert not li.exception, li.exception
    assert "No plans yet" in " ".join(i.value for i in li.info)
    assert "No results yet" in " ".join(i.value for i in li.info)
    assert li.multiselect(key="batch_plans").options == []
    # wang's ids planted in li's session show nothing of wang's
    li.session_state["opened_result"] = {"id": job.id, "files": {}, "chart": b""}
    li.run()
    assert not li.exception, li.exception
    shown = " ".join(
        [m.value for m in li.markdown] + [str(d.value) for d in li.dataframe] + li.caption.values
    )
    assert "王老师" not in shown and "秘密问题" not in shown and "wang_plan" not in shown


def test_chat_sidebar_scope_limits_the_documents_answers_come_from(app_service, tmp_path) -> None:
    """The sidebar's scope: with level "municipal", the answer comes from the municipal
    regulation only; a scope no document matches is a clear error, not an empty answer."""
    city = tmp_path / "宁波市校企合作促进条例(2011-03-01).md"
    city.write_text(
        "# 宁波市职业教育校企合作促进条例\n\n2011年1月1日宁波市人民代表大会常务委员会通过\n\n"
        "<!-- INFO END -->\n\n第十条 订单班的企业应当与学校共同制定人才培养方案。\n",
        encoding="utf-8",
    )
    assert app_service.ingest([city]).ok
    app_service.use_chat_model(None, "extractive (no LLM)")
    app = start()
    app.multiselect(key="scope_levels").set_value(["municipal"]).run()
    app.chat_input[0].set_value("订单班里企业做什么？").run()
    assert not app.exception, app.exception
    labels = [e.label for e in app.expander if e.label.startswith("[")]
    assert labels and all("宁波市职业教育校企合作促进条例" in label for label in labels), labels

    app.multiselect(key="scope_levels").set_value(["national"]).run()
    app.chat_input[0].set_value("订单班里企业做什么？").run()
    assert not app.exception, app.exception
    assert any("no document of knowledge base" in e.value for e in app.error), app.error


def test_compare_page_lays_three_regulations_side_by_side(app_service, tmp_path) -> None:
    from devkit.regulations import EXPECTED, QUESTION, write_regulations

    assert app_service.ingest(write_regulations(tmp_path / "regs")).ok
    app_service.use_chat_model(None, "extractive (no LLM)")
    app = start("pages/compare.py")
    app.text_input(key="compare_question").set_value(QUESTION)
    app.button[0].click().run()
    assert not app.exception, app.exception
    [frame] = app.dataframe
    table = frame.value
    assert next(iter(table.columns)) == "方面 Aspect" and len(table.columns) == 4
    finance = table[table["方面 Aspect"] == "金融支持"].iloc[0].tolist()
    assert finance[1] == "未涉及" and "贴息" in finance[2] and finance[3] == "未涉及"
    assert len(EXPECTED) <= len(table)
    assert any(e.label.startswith("[1] 《") for e in app.expander)  # sources, by label
    assert [b.label for b in app.get("download_button")] == [
        "下载 XLSX",
        "下载 DOCX",
        "下载 Markdown",
    ]
