"""Parse files in a separate process so that one pathological file cannot hang or crash the run.

A single long-lived worker process (``spawn``: safe next to threads of Chroma and the embedder)
loads and screens one file at a time. When a file exceeds its time budget the worker is killed
and a fresh one is started for the next file. The worker also caps its own address space, so a
decompression bomb ends as a clear error instead of exhausting the machine.

OCR (``ingest/ocr.py``) runs in the worker too, page by page, in turns with the parent: before
each page the worker says which page it is about to read and waits for a go; the parent gives
it when the page may use the CPU (its compute turn), reports progress when the page is done,
and gives each page its own time budget. The OCR engine is loaded once per worker.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import multiprocessing as mp
import os
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.errors import CorruptFileError, IngestError, ParseTimeoutError
from ingest.types import LoadLimits, OcrOptions, ScreenedDocument

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    from ingest.ocr import OcrPage, PageTurns

log = logging.getLogger(__name__)

WORKER_MEMORY_LIMIT_BYTES = 6 * 1024**3
#: the parse worker's scheduling priority, below the encoder's (``os.nice``: 0 normal, 19 lowest)
WORKER_NICENESS = 10

#: files sent ahead at most (their requests and results fit in the pipe's buffers)
MAX_AHEAD = 64


_engine: Any = None  # the worker's OCR engine, loaded on its first scanned page


def ocr_engine() -> Any:
    global _engine
    if _engine is None:
        from ingest.ocr import RapidOcrEngine

        _engine = RapidOcrEngine()
    return _engine


def parse_file(
    path: Path,
    password: str | None,
    limits: LoadLimits,
    ocr: OcrOptions | None = None,
    turns: PageTurns | None = None,
) -> ScreenedDocument:
    """Load and screen one file in this process (the worker's job; also used by tests and
    benches). With ``ocr`` enabled, a PDF's pages without a usable text layer are OCR'd."""
    from ingest.loaders import load_document
    from ingest.textcheck import screen_document

    raw = load_document(path, password=password, limits=limits)
    if ocr is not None and ocr.enabled and path.suffix.lower() == ".pdf":
        from ingest.ocr import ocr_document

        raw = ocr_document(raw, options=ocr, password=password, engine=ocr_engine(), turns=turns)
    return screen_document(raw)


class _PipeTurns:
    """The worker's side of the page protocol: ("page", k, n, number) then wait for "go";
    ("page_done", k, n, seconds, confidence) after the page."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def before(self, index: int, total: int, number: int) -> None:
        self.conn.send(("page", index, total, number))
        if self.conn.recv() != "go":
            raise CorruptFileError("the parse was called off")

    def after(self, index: int, total: int, page: OcrPage) -> None:
        self.conn.send(("page_done", index, total, page.seconds, page.confidence))


def _serve(conn: Connection, memory_limit: int | None) -> None:  # runs in the child
    # pypdf logs every repair it makes ("incorrect startxref pointer"...) as a warning; the
    # outcome that matters is reported per file, so keep the terminal readable.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    # the encoder comes first: a parse that runs beside two encoder threads on two cores slowed
    # the embedding more than it saved (long PDFs, docs/BENCHMARKS.md); niced, it takes the
    # CPU the encoder leaves (between groups, while the store writes)
    with contextlib.suppress(AttributeError, OSError):  # not on every platform
        os.nice(WORKER_NICENESS)
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
        path, password, limits, ocr = request
        try:
            result: Any = parse_file(Path(path), password, limits, ocr, _PipeTurns(conn))
        except IngestError as exc:
            result = exc
        except MemoryError:
            result = CorruptFileError("the file needs more memory to parse than allowed")
        except RecursionError:
            result = CorruptFileError("the file's structure is recursive (RecursionError)")
        except Exception as exc:  # any parser bug becomes a per-file failure, never a crash
            result = CorruptFileError(f"cannot parse: {type(exc).__name__}: {str(exc)[:200]}")
        conn.send(("result", result))


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
        #: files sent ahead (``prefetch``) whose results the worker has or will send, in order
        self._ahead: collections.deque[str] = collections.deque()

    def __enter__(self) -> ParseWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ensure_started(self) -> Connection:
        if self._proc is None or not self._proc.is_alive() or self._conn is None:
            parent, child = self._ctx.Pipe()
            proc = self._ctx.Process(
                target=_serve, args=(child, self.memory_limit), daemon=True, name="ingest-parser"
            )
            try:
                proc.start()
            except BaseException:
                # not started (e.g. a script without a __main__ guard, re-imported by the
                # spawn): nothing to stop later, and the error is the caller's to see
                parent.close()
                child.close()
                raise
            self._proc = proc
            child.close()
            self._conn = parent
        return self._conn

    def prefetch(self, path: Path, *, password: str | None, limits: LoadLimits) -> None:
        """Send ``path`` ahead, so that the worker parses it while this process embeds; its
        ``parse`` must come next, in the same order. Only for files that cannot need OCR (no
        page turns): not for PDFs. Its time budget starts when ``parse`` waits for it."""
        if path.suffix.lower() == ".pdf":
            raise ValueError("a PDF may need OCR in turns with the parent: parse it in order")
        if len(self._ahead) >= MAX_AHEAD:
            return
        conn = self._ensure_started()
        conn.send((str(path), password, limits, None))
        self._ahead.append(str(path))

    def parse(
        self,
        path: Path,
        *,
        password: str | None,
        limits: LoadLimits,
        ocr: OcrOptions | None = None,
        turn: Callable[[], AbstractContextManager[object]] | None = None,
        on_page: Callable[[int, int, float, float], None] | None = None,
    ) -> ScreenedDocument:
        """Parse and screen ``path`` in the worker. The file has ``timeout_s`` for everything
        but OCR; each OCR'd page has ``ocr.page_timeout_s`` of its own, runs inside ``turn()``
        (the compute gate) and is reported to ``on_page(index, total, seconds, confidence)``."""
        if self._ahead and self._ahead[0] != str(path):  # not the order it was sent in
            self._kill()
        conn = self._ensure_started()
        if self._ahead:
            self._ahead.popleft()  # sent ahead: its result is next in the pipe
        else:
            conn.send((str(path), password, limits, ocr))
        budget = self.timeout_s
        while True:
            tick = time.monotonic()
            message = self._receive(conn, budget, f"parsing took longer than {self.timeout_s:g} s")
            budget -= time.monotonic() - tick
            if message[0] == "result":
                result = message[1]
                break
            number = message[3]  # ("page", index, total, number): the worker is ready
            assert ocr is not None
            with turn() if turn is not None else contextlib.nullcontext():
                conn.send("go")
                done = self._receive(
                    conn,
                    ocr.page_timeout_s,
                    f"OCR of page {number} took longer than {ocr.page_timeout_s:g} s",
                )
            if done[0] == "result":  # the page failed: the worker reports the file's error
                result = done[1]
                break
            if on_page is not None:
                on_page(done[1], done[2], done[3], done[4])
        if isinstance(result, IngestError):
            raise result
        assert isinstance(result, ScreenedDocument)
        return result

    def _receive(self, conn: Connection, timeout_s: float, late: str) -> tuple[Any, ...]:
        if not conn.poll(max(timeout_s, 0.0)):
            self._kill()
            raise ParseTimeoutError(f"{late} and was stopped")
        try:
            message: tuple[Any, ...] = conn.recv()
        except (EOFError, OSError):
            self._kill()
            raise CorruptFileError("the parser process died on this file") from None
        return message

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join(5)
        if self._conn is not None:
            self._conn.close()
        self._proc, self._conn = None, None
        self._ahead.clear()  # what was sent ahead died with the worker: sent again on parse

    def close(self) -> None:
        if self._proc is not None and self._proc.is_alive() and self._conn is not None:
            try:
                self._conn.send(None)
                self._proc.join(2)
            except (OSError, BrokenPipeError):
                pass
        self._kill()
