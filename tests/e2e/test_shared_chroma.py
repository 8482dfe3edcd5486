"""Several app processes share one Chroma server (`chroma run`), as a deployment with more than
one app process does: a real server on 127.0.0.1, two `streamlit run app.py` processes and
command-line ingests pointed at it (ADVISOR_CHROMA_URL) with one shared data dir (accounts and
conversations in SQLite). A document uploaded in one app process is answered from in the other;
two ingest processes writing at the same moment leave every document whole. Headless Chromium
drives both apps; the extractive backend answers (the local model is exercised elsewhere)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from devkit.browser import CHROMIUM, CHROMIUM_ARGS
from devkit.servers import REPO_ROOT
from tests.e2e.test_browser import open_page, running_app

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.chroma_server]

ADMIN, PASSWORD = "ops-admin", "a long shared password"
DOC_A = (
    "---\ntitle: 订单班\nkind: case\n---\n\n# 订单班\n\n"
    "订单班由企业参与课程设计，企业承诺录用合格毕业生。学校负责教学组织和学生管理。\n"
)
DOC_B = (
    "---\ntitle: 共享实训基地\nkind: case\n---\n\n# 共享实训基地\n\n"
    "共享实训基地由政府投资建设、院校运营、企业提供设备，按使用工时收取成本性费用。\n"
)


def doc_text(topic: str, n: int) -> str:
    sentences = "".join(
        f"第{i}条：{topic}的第{i}项措施要求校企双方共同投入，每年评估一次。" for i in range(n)
    )
    return f"---\ntitle: {topic}\nkind: policy\n---\n\n# {topic}\n\n{sentences}\n"


@pytest.fixture(scope="module")
def deployment(chroma_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it (make browser)")
    folder = tmp_path_factory.mktemp("shared-chroma")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
    env.update(
        ADVISOR_DATA_DIR=str(folder / "data"),
        ADVISOR_CHROMA_URL=chroma_server,
        ADVISOR_LLM="extractive",
        ADVISOR_KB="shared-test",
    )
    (folder / "order_class.md").write_text(DOC_A, encoding="utf-8")
    cli = [sys.executable, "-m", "advisor"]
    subprocess.run(
        [*cli, "ingest", str(folder / "order_class.md")],
        check=True,
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
    )
    subprocess.run(
        [*cli, "user", "add", ADMIN, "--admin", "--password-stdin"],
        input=PASSWORD.encode(),
        check=True,
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
    )
    with (
        running_app(env, folder / "one.log") as one,
        running_app(env, folder / "two.log") as two,
    ):
        yield {"urls": [one, two], "env": env, "folder": folder, "cli": cli}


@pytest.fixture(scope="module")
def pages(deployment: dict) -> Iterator[list]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        tabs = []
        for url in deployment["urls"]:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            tab = context.new_page()
            tab.goto(url)
            tab.get_by_label("用户名 User name").fill(ADMIN)
            tab.get_by_label("密码 Password").fill(PASSWORD)
            tab.get_by_role("button", name="登录 Sign in").click()
            tabs.append(tab)
        yield tabs
        browser.close()


def ask(page, question: str, source: str) -> None:
    from playwright.sync_api import expect

    open_page(page, "咨询 Chat")
    box = page.get_by_test_id("stChatInputTextArea")
    expect(box).to_be_visible(timeout=30_000)
    box.fill(question)
    box.press("Enter")
    cited = page.get_by_test_id("stExpander").filter(has_text=source).first
    expect(cited).to_be_visible(timeout=120_000)


def test_a_document_added_in_one_app_process_is_answered_from_in_the_other(
    pages, deployment, tmp_path
) -> None:
    from playwright.sync_api import expect

    one, two = pages
    # both processes see the document the command line ingested into the server
    ask(one, "订单班中企业承诺什么？", "order_class.md")
    ask(two, "订单班中学校负责什么？", "order_class.md")

    # upload in process two
    doc = tmp_path / "shared_base.md"
    doc.write_text(DOC_B, encoding="utf-8")
    open_page(two, "知识库 Knowledge base")
    two.locator("input[type=file]").first.set_input_files(str(doc))
    expect(two.get_by_text("shared_base.md").first).to_be_visible(timeout=30_000)
    two.get_by_role("button", name="导入 Ingest").click()
    expect(two.get_by_text("indexed 1").first).to_be_visible(timeout=120_000)

    # process one answers from it at once (its indexes follow the server's catalogue)
    ask(one, "共享实训基地按什么收费？", "shared_base.md")
    open_page(one, "知识库 Knowledge base")
    expect(one.get_by_test_id("stMetricValue").first).to_have_text("2", timeout=30_000)


def test_two_ingest_processes_at_once_leave_every_document_whole(deployment, tmp_path) -> None:
    env, cli = deployment["env"], deployment["cli"]
    files = []
    for name, topic, n in [("alpha.md", "产业学院", 60), ("beta.md", "职教集团", 60)]:
        path = tmp_path / name
        path.write_text(doc_text(topic, n), encoding="utf-8")
        files.append(path)
    procs = [
        subprocess.Popen(
            [*cli, "ingest", str(path)],
            env=env,
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for path in files
    ]
    outputs = [p.communicate(timeout=300)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs

    listed = subprocess.run(
        [*cli, "kb", "docs", "--json"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    )
    docs = {d["source"]: d for d in json.loads(listed.stdout)}
    assert {"alpha.md", "beta.md", "order_class.md"} <= set(docs)

    from vectorstore.store import KnowledgeBase, open_chroma_client

    kb = KnowledgeBase(open_chroma_client(url=env["ADVISOR_CHROMA_URL"]), "shared-test")
    counts: dict[str, int] = {}
    for chunk in kb.iter_chunks():
        counts[chunk.metadata["source"]] = counts.get(chunk.metadata["source"], 0) + 1
    for source, record in docs.items():
        assert counts.get(source) == record["chunks"], source
    assert kb.count_chunks() == sum(d["chunks"] for d in docs.values())  # no orphans
    assert not kb._raw_records(where={"dirty": True})
