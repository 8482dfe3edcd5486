"""Shared fixtures. Every test gets its own data folder (ADVISOR_* variables point into
tmp_path), so nothing touches ./data. The embedding model is real and built once per session."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from devkit.servers import SHARED_TESTDATA, free_port, port_open, running_server

# Hypothesis profiles: no per-example deadline in either (a deadline is a wall-clock assertion,
# which a busy 2-core machine fails); "ci" (make test) is derandomized so that a failure is
# reproduced by the next run, "dev" explores new examples each run.
hypothesis_settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


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
