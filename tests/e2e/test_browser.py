"""The app in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright):
`streamlit run app.py` on a free port with the bundled local model; ask a question and see a
cited answer, upload a PDF and see it listed, run a small batch and download the XLSX.

Screenshots of each page go to the test's temp folder, or to docs/screenshots/ when
ADVISOR_SCREENSHOTS=1 (that is how the README's pictures are made).
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from devkit.browser import CHROMIUM, CHROMIUM_ARGS
from devkit.pdfgen import write_pdf
from devkit.servers import REPO_ROOT, free_port, port_open, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.llm, pytest.mark.slow]

MODEL = REPO_ROOT / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
ANSWER_TIMEOUT_MS = 240_000
ADMIN, PASSWORD = "e2e-admin", "a long e2e password"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it (make browser)")
    if not MODEL.exists():
        pytest.fail(f"the bundled model is missing ({MODEL.name}): run `make setup`")
    folder = tmp_path_factory.mktemp("e2e")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
    env.update(ADVISOR_DATA_DIR=str(folder / "data"), ADVISOR_LLM="local")
    python = sys.executable
    from devkit.regulations import write_regulations

    regulations = write_regulations(folder / "regs")  # three city regulations to compare
    seed = [python, "-m", "advisor", "ingest", str(REPO_ROOT / "corpus" / "framework_zh.md")]
    seed += [str(path) for path in regulations]
    import subprocess

    subprocess.run(seed, check=True, env=env, cwd=REPO_ROOT, capture_output=True)
    # accounts are on (the default): the first administrator comes from the command line
    add_admin = [python, "-m", "advisor", "user", "add", ADMIN, "--admin", "--password-stdin"]
    subprocess.run(
        add_admin, input=PASSWORD.encode(), check=True, env=env, cwd=REPO_ROOT, capture_output=True
    )
    with running_app(env, folder / "streamlit.log") as url:
        yield url


@contextmanager
def running_app(env: dict[str, str], log: Path) -> Iterator[str]:
    """`streamlit run app.py` on a free port of 127.0.0.1; yields its URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    with running_server(command, lambda: port_open(port), log, env=env, cwd=REPO_ROOT):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("ADVISOR_SCREENSHOTS") == "1":
        target = REPO_ROOT / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        return target
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def page(app_url: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1400, "height": 1000}, accept_downloads=True
        )
        tab = context.new_page()
        tab.goto(app_url)
        tab.get_by_label("用户名 User name").fill(ADMIN)
        tab.get_by_label("密码 Password").fill(PASSWORD)
        tab.get_by_role("button", name="登录 Sign in").click()
        yield tab
        browser.close()


def open_page(page, title: str) -> None:
    """Go to the app page whose sidebar link is ``title``, and wait until it is the page
    shown. A click that lands while a script run is finishing can be lost (seen once in CI
    with two app processes): the link is clicked again until the address changes."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    link = page.get_by_role("link", name=title)
    href = link.get_attribute("href") or ""
    for _ in range(3):
        link.click()
        try:
            page.wait_for_url(href, timeout=10_000)
            break
        except PlaywrightTimeout:
            continue
    page.wait_for_load_state("networkidle")


def test_ask_a_question_and_see_a_cited_answer(page, shots: Path) -> None:
    from playwright.sync_api import expect

    started = page.get_by_text("产教融合顾问 · Collaboration Advisor").first
    expect(started).to_be_visible(timeout=30_000)
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill("政府在产学研协同育人中主要通过哪两条途径推动合作？")
    box.press("Enter")
    # the answer's numbered sources appear once the answer is checked and saved
    source = page.get_by_test_id("stExpander").filter(has_text="framework_zh.md").first
    expect(source).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    # while the model writes, the passages being read are listed ("正在阅读…"); they give way
    # to the checked citations when the answer is done
    expect(page.get_by_text("正在阅读")).to_have_count(0, timeout=ANSWER_TIMEOUT_MS)
    expect(source).to_be_visible(timeout=30_000)
    answers = page.get_by_test_id("stChatMessage")
    expect(answers).to_have_count(2)
    answer_text = answers.nth(1).inner_text()
    markers = set(re.findall(r"\[(\d+)\]", answer_text))
    assert markers, answer_text
    # every marker in the answer has its numbered source listed under it
    for n in markers:
        assert f"[{n}] framework_zh.md" in answer_text, (n, answer_text)
    source.click()
    expect(source.locator("blockquote").first).to_be_visible(timeout=10_000)
    page.wait_for_timeout(800)  # let the expander finish opening
    page.screenshot(path=str(shots / "chat.png"), full_page=True)


def test_upload_a_pdf_and_see_it_listed(page, shots: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    pdf = write_pdf(
        tmp_path / "e2e_plan.pdf",
        ["学院与两家企业共建智能制造实训基地，企业派出八名工程师担任兼职教师。"],
        chinese=True,
    )
    open_page(page, "知识库 Knowledge base")
    page.locator("input[type=file]").first.set_input_files(str(pdf))
    expect(page.get_by_text("e2e_plan.pdf").first).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="导入 Ingest").click()
    expect(page.get_by_text("indexed 1").first).to_be_visible(timeout=120_000)
    metric = page.get_by_test_id("stMetricValue").first
    # the seed (framework_zh.md and the three regulations to compare) and the upload
    expect(metric).to_have_text("5", timeout=30_000)
    page.screenshot(path=str(shots / "knowledge_base.png"), full_page=True)


def test_run_a_small_batch_and_download_the_xlsx(page, shots: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook
    from playwright.sync_api import expect

    questions = tmp_path / "questions.csv"
    questions.write_text("question\n企业派出几名工程师担任兼职教师？\n", encoding="utf-8")
    open_page(page, "批量与评审 Batch & review")
    page.get_by_role("tab", name="批量问答 Batch Q&A").click()
    page.get_by_text("上传问题文件 Upload a questions file").click()
    uploads = page.locator("input[type=file]")  # 0: "My plans", 1: the questions file
    uploads.nth(1).set_input_files(str(questions))
    expect(page.get_by_text("questions.csv").first).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="开始 Run").click()
    # the run's own downloads come first; "My results" (another tab) offers them again
    download_button = page.get_by_role("button", name="下载 XLSX").first
    expect(download_button).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    page.screenshot(path=str(shots / "batch.png"), full_page=True)
    with page.expect_download() as info:
        download_button.click()
    data = Path(info.value.path()).read_bytes()
    sheet = load_workbook(io.BytesIO(data)).active
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, [c.value for c in sheet[2]], strict=False))
    assert row["question"] == "企业派出几名工程师担任兼职教师？"
    assert row["answer"]
    assert sheet.max_row == 2


def test_settings_page(page, shots: Path) -> None:
    from playwright.sync_api import expect

    open_page(page, "状态与设置 Settings")
    expect(page.get_by_text("multilingual-e5-small").first).to_be_visible(timeout=30_000)
    page.screenshot(path=str(shots / "settings.png"), full_page=True)


def test_compare_three_regulations_and_download_the_table(page, shots: Path) -> None:
    """The compare page with the bundled model: the regions the question names select three
    columns; the XLSX holds each regulation's own clause per aspect, or "未涉及"."""
    from openpyxl import load_workbook
    from playwright.sync_api import expect

    from devkit.regulations import QUESTION

    open_page(page, "对比 Compare")
    page.get_by_label("问题 Question").fill(QUESTION)
    page.get_by_role("button", name="对比 Compare").click()
    download_button = page.get_by_role("button", name="下载 XLSX")
    expect(download_button).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    expect(
        page.get_by_text("《青岛市企业参与职业教育促进条例》（2019年）第四条").first
    ).to_be_visible()
    page.screenshot(path=str(shots / "compare.png"), full_page=True)
    with page.expect_download() as info:
        download_button.click()
    book = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    rows = {r[0]: r[1:] for r in book["对比 Comparison"].iter_rows(min_row=2, values_only=True)}
    header = [c.value for c in book["对比 Comparison"][1]]
    assert [h[:3] for h in header[1:]] == ["《上海", "《青岛", "《宁波"]
    shanghai, qingdao, ningbo = rows["金融支持"]
    assert shanghai == "未涉及" and "贴息" in qingdao and ningbo == "未涉及"
    assert "应纳税所得额" in rows["税收优惠"][0] and "税收优惠" in rows["税收优惠"][2]
