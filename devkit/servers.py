"""Servers on 127.0.0.1 for tests and benchmarks: a free port, a port check, and a process
started, waited for and stopped."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from advisor.model_server import free_port

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_TESTDATA = REPO_ROOT.parent / "shared" / "testdata"

__all__ = ["REPO_ROOT", "SHARED_TESTDATA", "free_port", "port_open", "running_server"]


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
