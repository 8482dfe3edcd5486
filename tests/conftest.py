"""Shared fixtures. Every test gets its own data folder (ADVISOR_* variables point into
tmp_path), so nothing touches ./data. The embedding model is real and built once per session."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_TESTDATA = REPO_ROOT.parent / "shared" / "testdata"


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("ADVISOR_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)  # no stray .env from the repository is read


@pytest.fixture(scope="session")
def embeddings():
    from vectorstore.embeddings import E5Embeddings

    return E5Embeddings()


@pytest.fixture()
def settings(tmp_path: Path):
    from advisor.settings import Settings

    return Settings(data_dir=tmp_path / "data")


@pytest.fixture()
def service(settings, embeddings):
    from advisor.service import AdvisorService

    return AdvisorService(settings, embeddings=embeddings)


@pytest.fixture(scope="session")
def shared_testdata() -> Path:
    if not SHARED_TESTDATA.is_dir():
        pytest.skip("../shared/testdata is not present (a user's clone has no ../shared)")
    return SHARED_TESTDATA


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(
    command: list[str],
    ready: Callable[[], bool],
    log_path: Path,
    *,
    timeout_s: float = 120,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[None]:
    """Start a server process, wait until ``ready()``, stop it afterwards. Its output goes to
    ``log_path`` (a pipe nobody reads would fill up and block it)."""
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        deadline = time.monotonic() + timeout_s
        try:
            while not ready():
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{command[0]} did not start: {log_path.read_text()[-2000:]}")
                time.sleep(0.3)
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``chroma run`` server on 127.0.0.1; yields its URL."""
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if chroma is None:
        pytest.fail("the `chroma` command is missing: run `make setup`")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    command = [
        chroma,
        "run",
        "--path",
        str(path / "db"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with running_server(command, lambda: port_open(port), path / "server.log", timeout_s=60):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session", autouse=True)
def _stop_model_servers() -> Iterator[None]:
    """Stop the model processes the tests started, before the next test module's fixtures
    are torn down (atexit would do it too, but only after pytest's own reporting)."""
    yield
    from advisor.model_server import stop_all

    stop_all()
