"""The ingest pipeline: find files, skip unchanged ones, parse and screen them (in a worker
process with a timeout), chunk, embed and write each document as one unit.

The pipeline knows neither Chroma nor the embedding model: it is given a ``DocumentSink`` and an
``Embedder`` (see the protocols below), which keeps ``ingest`` independent of ``vectorstore``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ingest.chunking import chunk_document
from ingest.errors import EmptyDocumentError, IngestError
from ingest.loaders import check_file
from ingest.types import (
    KINDS,
    SUPPORTED_SUFFIXES,
    LoadLimits,
    PreparedDocument,
    ScreenedDocument,
)
from ingest.worker import ParseWorker

log = logging.getLogger(__name__)

#: Budget for the heading line ("title > section") that is embedded in front of each chunk.
HEADING_MAX_CHARS = 80


class Embedder(Protocol):
    def count_tokens(self, text: str) -> int: ...

    def embed_passages(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = ...,
        on_batch: Callable[[int], None] | None = ...,
    ) -> np.ndarray: ...


class DocumentSink(Protocol):
    def committed_sha(self, source: str) -> str | None: ...

    def write_document(self, doc: PreparedDocument, vectors: np.ndarray) -> Any: ...


class IngestProgress(Protocol):
    """What a user interface is told while files are ingested."""

    def file_started(self, path: Path, index: int, total: int) -> None: ...

    def stage(self, name: str, total: int | None = None) -> None: ...

    def advance(self, n: int = 1) -> None: ...

    def file_finished(self, outcome: FileOutcome) -> None: ...


class NullProgress:
    def file_started(self, path: Path, index: int, total: int) -> None:
        pass

    def stage(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def file_finished(self, outcome: FileOutcome) -> None:
        pass


@dataclass(slots=True)
class IngestOptions:
    kind: str | None = None  # None: the file's front matter decides, else "other"
    password: str | None = None
    max_bytes: int = 100 * 1024 * 1024
    max_pages: int = 2000
    file_timeout_s: float = 300.0
    chunk_tokens: int = 384
    chunk_overlap_tokens: int = 48
    embed_batch: int = 16

    def __post_init__(self) -> None:
        if self.kind is not None and self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")


@dataclass(slots=True)
class FileOutcome:
    path: Path
    source: str
    status: str  # indexed | replaced | unchanged | failed
    reason: str = ""  # the error's reason code when failed
    message: str = ""
    pages: int = 0
    chunks: int = 0
    skipped_pages: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status != "failed"


@dataclass(slots=True)
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def ok(self) -> bool:
        return not self.failed

    def counts(self) -> dict[str, int]:
        return dict(Counter(o.status for o in self.outcomes))

    def total(self, key: str) -> float:
        return sum(o.timings.get(key, 0.0) for o in self.outcomes)


def find_files(paths: Iterable[Path]) -> list[Path]:
    """Supported files under ``paths`` (folders are walked recursively), sorted, no repeats.

    A path that does not exist raises ``FileNotFoundError``; an explicitly named file of an
    unsupported type is kept so that it is reported, while such files inside folders are
    ignored silently (folders often hold unrelated files).
    """
    found: dict[Path, None] = {}
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in SUPPORTED_SUFFIXES:
                    found.setdefault(child.resolve())
        elif path.is_file():
            found.setdefault(path.resolve())
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return list(found)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def heading_line(title: str, section: str) -> str:
    """The short context line embedded before a chunk so that retrieval sees where it is."""
    title, section = title.strip(), section.strip()
    line = " > ".join(p for p in (title, section) if p)
    if len(line) <= HEADING_MAX_CHARS:
        return line
    # the most specific part of the section path is its end: shorten the title first
    title = title[: HEADING_MAX_CHARS // 3].rstrip() + "…" if title else ""
    room = HEADING_MAX_CHARS - len(title) - 3
    section = section if len(section) <= room else "…" + section[-(room - 1) :]
    return " > ".join(p for p in (title, section) if p)


class IngestPipeline:
    def __init__(
        self,
        sink: DocumentSink,
        embedder: Embedder,
        options: IngestOptions | None = None,
        progress: IngestProgress | None = None,
    ) -> None:
        self.sink = sink
        self.embedder = embedder
        self.options = options or IngestOptions()
        self.progress: IngestProgress = progress or NullProgress()

    def run(self, paths: Iterable[Path]) -> IngestReport:
        started = time.perf_counter()
        files = find_files(paths)
        report = IngestReport()
        seen: dict[str, Path] = {}
        opts = self.options
        with ParseWorker(timeout_s=opts.file_timeout_s) as worker:
            for index, path in enumerate(files):
                self.progress.file_started(path, index, len(files))
                outcome = self._ingest_one(path, worker, seen)
                report.outcomes.append(outcome)
                self.progress.file_finished(outcome)
        report.seconds = time.perf_counter() - started
        return report

    def _ingest_one(self, path: Path, worker: ParseWorker, seen: dict[str, Path]) -> FileOutcome:
        source = path.name
        outcome = FileOutcome(path=path, source=source, status="failed")
        try:
            if source in seen:
                raise IngestError(
                    f"another file with the same name was ingested in this run ({seen[source]});"
                    " documents are identified by file name: rename one of them"
                )
            seen[source] = path
            self._ingest_checked(path, worker, outcome)
        except IngestError as exc:
            outcome.status, outcome.reason, outcome.message = "failed", exc.reason, exc.message
            log.info("not indexed: %s: %s", source, exc.message)
        except Exception as exc:
            # A store or embedder failure on one file must not end the run: report it.
            log.exception("unexpected failure on %s", path)
            outcome.status, outcome.reason = "failed", "error"
            outcome.message = f"{type(exc).__name__}: {exc}"
        return outcome

    def _ingest_checked(self, path: Path, worker: ParseWorker, outcome: FileOutcome) -> None:
        opts = self.options
        check_file(path, LoadLimits(max_bytes=opts.max_bytes, max_pages=opts.max_pages))
        size = path.stat().st_size

        timings = outcome.timings
        tick = time.perf_counter()
        sha = sha256_file(path)
        committed = self.sink.committed_sha(outcome.source)
        timings["hash"] = time.perf_counter() - tick  # with the catalogue look-up
        if committed == sha:
            outcome.status = "unchanged"
            return

        self.progress.stage("parse")
        tick = time.perf_counter()
        limits = LoadLimits(max_bytes=opts.max_bytes, max_pages=opts.max_pages)
        screened = worker.parse(path, password=opts.password, limits=limits)
        timings["parse"] = time.perf_counter() - tick

        self.progress.stage("chunk")
        tick = time.perf_counter()
        prepared = self.prepare(screened, sha=sha, size=size)
        timings["chunk"] = time.perf_counter() - tick
        if not prepared.chunks:
            raise EmptyDocumentError("no indexable text after the text checks")

        self.progress.stage("embed", total=len(prepared.chunks))
        tick = time.perf_counter()
        vectors = self.embedder.embed_passages(
            prepared.embed_texts, batch_size=opts.embed_batch, on_batch=self.progress.advance
        )
        timings["embed"] = time.perf_counter() - tick

        self.progress.stage("write")
        tick = time.perf_counter()
        self.sink.write_document(prepared, vectors)
        timings["write"] = time.perf_counter() - tick

        outcome.status = "replaced" if committed else "indexed"
        outcome.pages = prepared.page_count
        outcome.chunks = len(prepared.chunks)
        outcome.skipped_pages = [f"{s.number}:{s.reason}" for s in prepared.skipped]

    def prepare(self, screened: ScreenedDocument, *, sha: str, size: int) -> PreparedDocument:
        """Chunk a screened document and build the texts the embedder reads."""
        opts = self.options
        chunks = chunk_document(
            screened,
            max_tokens=opts.chunk_tokens,
            overlap_tokens=opts.chunk_overlap_tokens,
            count_tokens=self.embedder.count_tokens,
        )
        meta = screened.meta
        title = (meta.get("title") or screened.path.stem).strip()
        kind = opts.kind or (meta.get("kind") if meta.get("kind") in KINDS else None) or "other"
        chars_by_lang: Counter[str] = Counter()
        for chunk in chunks:
            chars_by_lang[chunk.lang] += len(chunk.text)
        lang = "zh" if chars_by_lang["zh"] >= chars_by_lang["en"] and chars_by_lang else "en"
        embed_texts = [f"{heading_line(title, c.section)}\n{c.text}" for c in chunks]
        return PreparedDocument(
            source=screened.path.name,
            sha256=sha,
            kind=kind,
            lang=lang,  # type: ignore[arg-type]
            title=title,
            page_count=screened.page_count,
            size_bytes=size,
            chunks=chunks,
            embed_texts=embed_texts,
            skipped=list(screened.skipped),
        )
