"""How fast the app's first page paints in a real browser (Debian's Chromium via Playwright).

Starts `streamlit run app.py` on a free port with a knowledge base of the starter corpus, then
opens the chat page in a fresh browser context several times and measures the time from
navigation to the title and the chat box being visible (models load lazily, on the first
question, so this is what a user waits for). The baseline, measured in the same run: a
one-line Streamlit page (`st.title`) served the same way.

    .venv/bin/python bench/app_first_paint.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devkit.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from devkit.servers import free_port, port_open  # noqa: E402


def serve(script: Path, env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
        "--server.address", "127.0.0.1", "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    proc = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while not port_open(port):
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit(f"streamlit did not start: {log.read_text()[-1500:]}")
        time.sleep(0.2)
    return proc, port


def paint_times(url: str, ready_selector: str, runs: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for _ in range(runs):
            context = browser.new_context()
            page = context.new_page()
            started = time.perf_counter()
            page.goto(url)
            page.wait_for_selector(ready_selector, timeout=60_000)
            times.append(time.perf_counter() - started)
            context.close()
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="advisor-paint-") as folder_name:
        folder = Path(folder_name)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
        env["ADVISOR_DATA_DIR"] = str(folder / "data")
        subprocess.run(
            [sys.executable, "-m", "advisor", "ingest", "corpus"], env=env, cwd=ROOT, check=True,
            capture_output=True,
        )  # fmt: skip
        hello = folder / "hello.py"
        hello.write_text("import streamlit as st\nst.title('hello')\n", encoding="utf-8")
        results = {}
        for name, script, selector in (
            ("baseline: one-line page", hello, "h1"),
            ("the app's chat page", ROOT / "app.py", "[data-testid=stChatInputTextArea]"),
        ):
            started = time.perf_counter()
            proc, port = serve(script, env, folder / f"{script.stem}.log")
            boot = time.perf_counter() - started
            try:
                times = paint_times(f"http://127.0.0.1:{port}", selector, args.runs)
            finally:
                proc.terminate()
                proc.wait(20)
            results[name] = times
            print(
                f"{name:<26} server up {boot:4.1f} s · first paint: first visit "
                f"{times[0]:.2f} s, median {statistics.median(times):.2f} s, "
                f"max {max(times):.2f} s ({args.runs} fresh browser contexts)"
            )


if __name__ == "__main__":
    main()
