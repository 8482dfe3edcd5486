"""Parse files in a separate process so that one pathological file cannot hang or crash the run.

A single long-lived worker process (``spawn``: safe next to threads of Chroma and the embedder)
loads and screens one file at a time. When a file exceeds its time budget the worker is killed
and a fresh one is started for the next file. The worker also caps its own address space, so a
decompression bomb ends as a clear error instead of exhausting the machine.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ingest.errors import CorruptFileError, IngestError, ParseTimeoutError
from ingest.types import LoadLimits, ScreenedDocument

log = logging.getLogger(__name__)

WORKER_MEMORY_LIMIT_BYTES = 6 * 1024**3


def parse_file(path: Path, password: str | None, limits: LoadLimits) -> ScreenedDocument:
    """Load and screen one file in this process (the worker's job; also used by tests)."""
    from ingest.loaders import load_document
    from ingest.textcheck import screen_document

    return screen_document(load_document(path, password=password, limits=limits))


def _serve(conn: Connection, memory_limit: int | None) -> None:  # runs in the child
    # pypdf logs every repair it makes ("incorrect startxref pointer"...) as a warning; the
    # outcome that matters is reported per file, so keep the terminal readable.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    if memory_limit:
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
        except (ImportError, ValueError, OSError):
            pass
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        path, password, limits = request
        try:
            result: Any = parse_file(Path(path), password, limits)
        except IngestError as exc:
            result = exc
        except MemoryError:
            result = CorruptFileError("the file needs more memory to parse than allowed")
        except RecursionError:
            result = CorruptFileError("the file's structure is recursive (RecursionError)")
        except Exception as exc:  # any parser bug becomes a per-file failure, never a crash
            result = CorruptFileError(f"cannot parse: {type(exc).__name__}: {str(exc)[:200]}")
        conn.send(result)


class ParseWorker:
    """``parse(path, ...)`` with a timeout; use as a context manager to stop the worker."""

    def __init__(
        self, timeout_s: float, memory_limit: int | None = WORKER_MEMORY_LIMIT_BYTES
    ) -> None:
        self.timeout_s = timeout_s
        self.memory_limit = memory_limit
        self._ctx = mp.get_context("spawn")
        self._proc: Any = None
        self._conn: Connection | None = None

    def __enter__(self) -> ParseWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ensure_started(self) -> Connection:
        if self._proc is None or not self._proc.is_alive() or self._conn is None:
            parent, child = self._ctx.Pipe()
            self._proc = self._ctx.Process(
                target=_serve, args=(child, self.memory_limit), daemon=True, name="ingest-parser"
            )
            self._proc.start()
            child.close()
            self._conn = parent
        return self._conn

    def parse(self, path: Path, *, password: str | None, limits: LoadLimits) -> ScreenedDocument:
        conn = self._ensure_started()
        conn.send((str(path), password, limits))
        if not conn.poll(self.timeout_s):
            self._kill()
            raise ParseTimeoutError(
                f"parsing took longer than {self.timeout_s:g} s and was stopped"
            )
        try:
            result = conn.recv()
        except (EOFError, OSError):
            self._kill()
            raise CorruptFileError("the parser process died on this file") from None
        if isinstance(result, IngestError):
            raise result
        assert isinstance(result, ScreenedDocument)
        return result

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join(5)
        if self._conn is not None:
            self._conn.close()
        self._proc, self._conn = None, None

    def close(self) -> None:
        if self._proc is not None and self._proc.is_alive() and self._conn is not None:
            try:
                self._conn.send(None)
                self._proc.join(2)
            except (OSError, BrokenPipeError):
                pass
        self._kill()
