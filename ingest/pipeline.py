"""The ingest pipeline: find files, skip unchanged ones, parse and screen them (in a worker
process with a timeout), chunk, embed and write each document as one unit.

Small documents are embedded and written in groups (``IngestOptions.group_chunks``): the
embedder then reads well-filled batches, and the store's round trips are paid once per group,
not once per document (a write costs about the same for one chunk as for a hundred). Each
document of a group still commits on its own, so a crash leaves each one either absent, its old
version or its new one. A document large enough to fill a group is embedded and written alone.

Groups flow through three threads: the caller's parses and chunks group N+2 while a second
embeds group N+1 and a third writes group N, so the encoder waits neither for the store nor
for the parsing, chunking and bookkeeping of small files. At most one group is being embedded
and one written. Files are reported finished, on the caller's thread and in order, once their
write has returned; the progress of the work the caller waits for is told on its thread.

The pipeline knows neither Chroma nor the embedding model: it is given a ``DocumentSink`` and an
``Embedder`` (see the protocols below), which keeps ``ingest`` independent of ``vectorstore``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ingest.chunking import SECTION_SEPARATOR, chunk_document
from ingest.errors import EmptyDocumentError, IngestError
from ingest.loaders import check_file
from ingest.metadata import extract_metadata
from ingest.types import (
    KINDS,
    SUPPORTED_SUFFIXES,
    LoadLimits,
    OcrOptions,
    PreparedDocument,
    ScreenedDocument,
)
from ingest.worker import MAX_AHEAD, ParseWorker

#: what the pipeline holds while the worker OCRs a page: the process's compute gate, so that
#: OCR takes turns with answering as embedding does (given by the caller: ingest does not
#: know vectorstore)
ComputeTurn = Callable[[], AbstractContextManager[object]]

log = logging.getLogger(__name__)

#: files whose committed versions are looked up in one catalogue read
_LOOKUP_FILES = 256

#: Budget for the heading line ("title > section") that is embedded in front of each chunk.
HEADING_MAX_CHARS = 80


class Embedder(Protocol):
    def count_tokens(self, text: str) -> int: ...

    def embed_passages(
        self,
        texts: Sequence[str],
        *,
        batch_size: int | None = ...,
        on_batch: Callable[[int], None] | None = ...,
    ) -> np.ndarray: ...


class DocumentSink(Protocol):
    def committed_shas(self, sources: Sequence[str]) -> dict[str, str]: ...

    def write_documents(
        self, items: Sequence[tuple[PreparedDocument, np.ndarray]]
    ) -> Sequence[Any]: ...


class IngestProgress(Protocol):
    """What a user interface is told while files are ingested.

    ``file_started`` comes when work on a file begins and ``file_finished`` when its outcome
    is final. Small files are embedded and written in groups, so several files can be started
    before the first of them finishes; ``stage`` then names the group's size in ``files``.
    """

    def file_started(self, path: Path, index: int, total: int) -> None: ...

    def stage(self, name: str, total: int | None = None, *, files: int = 1) -> None: ...

    def advance(self, n: int = 1) -> None: ...

    def file_finished(self, outcome: FileOutcome) -> None: ...


class NullProgress:
    def file_started(self, path: Path, index: int, total: int) -> None:
        pass

    def stage(self, name: str, total: int | None = None, *, files: int = 1) -> None:
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
    #: texts per encoder call; 0: the embedder's choice (bench/embed_batch_bench.py)
    embed_batch: int = 0
    #: documents are embedded and written together until they hold this many chunks (a crash
    #: loses at most one group's embedding work; 64 chunks are ~10 s of it on 2 cores)
    group_chunks: int = 64
    group_files: int = 64
    #: embed a heading line (title > section) before each chunk; off only to measure it
    embed_heading: bool = True
    #: embed and write groups in threads of their own while the next one is parsed and
    #: chunked; off only to measure it (bench/ingest_bench.py --inline-too)
    background: bool = True
    #: OCR of the PDF pages without a usable text layer (``ingest/ocr.py``)
    ocr: OcrOptions = field(default_factory=OcrOptions)

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
    #: pages whose text was read with OCR
    ocr_pages: list[int] = field(default_factory=list)
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


def heading_line(title: str, section: str, text: str = "") -> str:
    """The short context line embedded before a chunk so that retrieval sees where it is.

    What the chunk's text already says is left out: a section path that starts with the
    document's own title (its H1), and the last label when the chunk opens with it ("第五条 …").
    The embedder pays for every token, and these repeated ones added nothing.
    """
    title = title.strip()
    parts = [p.strip() for p in section.split(SECTION_SEPARATOR) if p.strip()]
    if parts and parts[0] == title:
        parts = parts[1:]
    opening = text.lstrip().split("\n", 1)[0].lstrip("#").strip()
    if parts and opening.startswith(parts[-1]):
        parts = parts[:-1]
    if title and opening.startswith(title):  # the text opens with its own title
        title = ""
    section = SECTION_SEPARATOR.join(parts)
    line = SECTION_SEPARATOR.join(p for p in (title, section) if p)
    if len(line) <= HEADING_MAX_CHARS:
        return line
    # the most specific part of the section path is its end: shorten the title first
    title = title[: HEADING_MAX_CHARS // 3].rstrip() + "…" if title else ""
    room = HEADING_MAX_CHARS - len(title) - 3
    section = section if len(section) <= room else "…" + section[-(room - 1) :]
    return SECTION_SEPARATOR.join(p for p in (title, section) if p)


#: what a file name adds to a title and a reader does not: a bracketed date, "(1)", and serial
#: numbers at its end ("-001", "_2", " 3")
_STEM_DATE = re.compile(r"[(（\[【]\s*\d{4}(?:[-._年]\d{1,2}(?:[-._月]\d{1,2}日?)?)?\s*[)）\]】]")
_STEM_SERIAL = re.compile(r"(?:[-_ ]+\d{1,4}|[(（]\d{1,3}[)）])+$")


#: what joins the words of a file name: "zh_policy_compilation", "failure-after-repair"
_STEM_JOINER = re.compile(r"_+|(?<=[A-Za-z0-9])-(?=[A-Za-z0-9])")


def stem_title(stem: str) -> str:
    """The title a file name gives, for the heading line only: without a bracketed date and
    without the serial numbers that number a folder's files ("上海市…条例(2017-04-20)-001" →
    "上海市…条例"). The embedder pays for every token of it in every chunk, and a date that
    only a file name gives is no evidence (it must not pull a question about that year). The
    document's title stays the name, so that two files never share a title by accident."""
    cleaned = _STEM_SERIAL.sub("", _STEM_DATE.sub("", stem)).strip(" -_.")
    # words joined by "_" or "-" cost the encoder a token per joiner and split words
    # differently than the same words written with spaces (9 tokens against 6 for
    # "zh_policy_compilation", in every chunk)
    cleaned = " ".join(_STEM_JOINER.sub(" ", cleaned).split())
    return cleaned or stem.strip()


def embed_text(title: str, section: str, text: str) -> str:
    """What the embedder reads for a chunk: its heading line, then its text."""
    line = heading_line(title, section, text)
    return f"{line}\n{text}" if line else text


class IngestPipeline:
    def __init__(
        self,
        sink: DocumentSink,
        embedder: Embedder,
        options: IngestOptions | None = None,
        progress: IngestProgress | None = None,
        compute_turn: ComputeTurn | None = None,
    ) -> None:
        self.sink = sink
        self.embedder = embedder
        self.options = options or IngestOptions()
        self.progress: IngestProgress = progress or NullProgress()
        self.compute_turn: ComputeTurn = compute_turn or contextlib.nullcontext
        self._committed: dict[str, str] = {}  # source -> committed sha, for the files ahead
        self._lookup_s = 0.0
        self._sent_ahead: dict[Path, str] = {}  # files the worker parses ahead -> their sha

    def run(self, paths: Iterable[Path]) -> IngestReport:
        started = time.perf_counter()
        self._committed, self._sent_ahead, self._lookup_s = {}, {}, 0.0  # nothing of a last run
        files = find_files(paths)
        outcomes: list[FileOutcome] = []
        group: list[_Ready] = []
        seen: dict[str, Path] = {}
        opts = self.options
        writer = _GroupRunner(
            self._embed, self._write_told, self.progress, background=opts.background
        )
        with ParseWorker(timeout_s=opts.file_timeout_s) as worker, writer:
            for index, path in enumerate(files):
                if index % _LOOKUP_FILES == 0:  # the catalogue is read once per window
                    window = files[index : index + _LOOKUP_FILES]
                    tick = time.perf_counter()
                    self._committed = self.sink.committed_shas([p.name for p in window])
                    self._lookup_s = time.perf_counter() - tick  # charged to the next hash
                self.progress.file_started(path, index, len(files))
                ready = self._prepare_one(path, worker, seen)
                if isinstance(ready, FileOutcome):
                    outcomes.append(ready)
                    self.progress.file_finished(ready)
                    continue
                if len(ready.prepared.chunks) >= opts.group_chunks:
                    # a large document: the group waiting goes first, then this one alone
                    self._send_ahead(files, index + 1, worker)
                    outcomes += self._flush(group, writer)
                    outcomes += self._flush([ready], writer)
                    continue
                group.append(ready)
                if (
                    sum(len(r.prepared.chunks) for r in group) >= opts.group_chunks
                    or len(group) >= opts.group_files
                ):
                    self._send_ahead(files, index + 1, worker)
                    outcomes += self._flush(group, writer)
            outcomes += self._flush(group, writer)
            outcomes += self._report(writer.wait())
        order = {path: i for i, path in enumerate(files)}
        outcomes.sort(key=lambda o: order.get(o.path, -1))  # the files' order, as before
        return IngestReport(outcomes=outcomes, seconds=time.perf_counter() - started)

    def _send_ahead(self, files: list[Path], start: int, worker: ParseWorker) -> None:
        """Before a group is embedded, send the worker the files that come next, so that it
        parses them while this process embeds (2 cores: the parse of a small file is mostly
        waiting for the other process). Only what is sure to be parsed: files in the current
        catalogue window, not PDFs (OCR takes turns), that pass the file checks and changed."""
        opts = self.options
        limits = LoadLimits(max_bytes=opts.max_bytes, max_pages=opts.max_pages)
        window_end = ((start - 1) // _LOOKUP_FILES + 1) * _LOOKUP_FILES  # start >= 1
        for path in files[start : min(window_end, start + MAX_AHEAD)]:
            if path in self._sent_ahead:
                continue
            if path.suffix.lower() == ".pdf":
                return  # parsed in its turn; what follows it must wait (the worker's order)
            try:
                check_file(path, limits)
                sha = sha256_file(path)
            except Exception:  # reported when its turn comes
                return
            if self._committed.get(path.name) == sha:
                continue  # unchanged: skipped then, nothing to parse
            worker.prefetch(path, password=opts.password, limits=limits)
            self._sent_ahead[path] = sha

    def _prepare_one(
        self, path: Path, worker: ParseWorker, seen: dict[str, Path]
    ) -> FileOutcome | _Ready:
        """The file checked, parsed and chunked, ready to embed; or its final outcome
        (unchanged, or failed with the reason)."""
        source = path.name
        outcome = FileOutcome(path=path, source=source, status="failed")
        try:
            if source in seen:
                raise IngestError(
                    f"another file with the same name was ingested in this run ({seen[source]});"
                    " documents are identified by file name: rename one of them"
                )
            seen[source] = path
            return self._prepare_checked(path, worker, outcome)
        except Exception as exc:
            _failed(outcome, exc)
        return outcome

    def _prepare_checked(
        self, path: Path, worker: ParseWorker, outcome: FileOutcome
    ) -> FileOutcome | _Ready:
        opts = self.options
        check_file(path, LoadLimits(max_bytes=opts.max_bytes, max_pages=opts.max_pages))
        size = path.stat().st_size

        timings = outcome.timings
        tick = time.perf_counter()
        sha = self._sent_ahead.pop(path, None) or sha256_file(path)
        committed = self._committed.get(outcome.source)
        timings["hash"] = time.perf_counter() - tick + self._lookup_s  # with the look-up
        self._lookup_s = 0.0
        if committed == sha:
            outcome.status = "unchanged"
            return outcome

        self.progress.stage("parse")
        tick = time.perf_counter()
        limits = LoadLimits(max_bytes=opts.max_bytes, max_pages=opts.max_pages)
        ocr_seconds = 0.0

        def on_page(index: int, total: int, seconds: float, confidence: float) -> None:
            nonlocal ocr_seconds
            if index == 0:
                self.progress.stage("ocr", total=total)
            ocr_seconds += seconds
            self.progress.advance(1)

        screened = worker.parse(
            path,
            password=opts.password,
            limits=limits,
            ocr=opts.ocr,  # the worker OCRs only when it is enabled
            turn=self.compute_turn,
            on_page=on_page,
        )
        timings["parse"] = time.perf_counter() - tick - ocr_seconds
        if ocr_seconds:
            timings["ocr"] = ocr_seconds

        self.progress.stage("chunk")
        tick = time.perf_counter()
        prepared = self.prepare(screened, sha=sha, size=size)
        timings["chunk"] = time.perf_counter() - tick
        if not prepared.chunks:
            raise EmptyDocumentError("no indexable text after the text checks")
        return _Ready(outcome, prepared, replaces=committed is not None)

    def _flush(self, group: list[_Ready], writer: _GroupRunner) -> list[FileOutcome]:
        """Hand the documents of ``group`` (emptied) to the runner, which embeds and writes
        them; report the files of the group before, whose write has returned (all of them, in
        order, when the runner works in the caller's thread)."""
        ready = list(group)
        group.clear()
        if not ready:
            return []
        return self._report(writer.submit(ready))

    def _write_told(
        self, embedded: list[tuple[_Ready, np.ndarray]], progress: IngestProgress
    ) -> None:
        if embedded:
            progress.stage("write", files=len(embedded))
        self._write(embedded)

    def _report(self, written: list[_Ready]) -> list[FileOutcome]:
        for item in written:
            self.progress.file_finished(item.outcome)
        return [item.outcome for item in written]

    def _embed(
        self, ready: list[_Ready], progress: IngestProgress
    ) -> list[tuple[_Ready, np.ndarray]]:
        """Vectors for each document, in one stream of batches. If the group fails, each
        document is tried alone, so that only the one at fault is reported failed."""
        if not ready:
            return []
        texts = [t for item in ready for t in item.prepared.embed_texts]
        progress.stage("embed", total=len(texts), files=len(ready))
        tick = time.perf_counter()
        try:
            vectors = self.embedder.embed_passages(
                texts,
                batch_size=self.options.embed_batch or None,
                on_batch=progress.advance,
            )
        except Exception as exc:
            if len(ready) == 1:
                _failed(ready[0].outcome, exc)
                return []
            log.warning("embedding %d files together failed (%s): one by one", len(ready), exc)
            return [pair for item in ready for pair in self._embed([item], progress)]
        _share(ready, "embed", time.perf_counter() - tick)
        out, start = [], 0
        for item in ready:
            n = len(item.prepared.chunks)
            out.append((item, vectors[start : start + n]))
            start += n
        return out

    def _write(self, embedded: list[tuple[_Ready, np.ndarray]]) -> None:
        """Write the documents in one store call; if that fails (the store has put every one
        back as it was), each is written alone. Runs in the runner's thread."""
        if not embedded:
            return
        ready = [item for item, _ in embedded]
        tick = time.perf_counter()
        try:
            self.sink.write_documents([(item.prepared, vecs) for item, vecs in embedded])
        except Exception as exc:
            if len(embedded) == 1:
                _failed(ready[0].outcome, exc)
                return
            log.warning("writing %d files together failed (%s): one by one", len(ready), exc)
            for pair in embedded:
                self._write([pair])
            return
        _share(ready, "write", time.perf_counter() - tick)
        for item in ready:
            outcome, prepared = item.outcome, item.prepared
            outcome.status = "replaced" if item.replaces else "indexed"
            outcome.pages = prepared.page_count
            outcome.chunks = len(prepared.chunks)
            outcome.skipped_pages = [f"{s.number}:{s.reason}" for s in prepared.skipped]
            outcome.ocr_pages = sorted(prepared.ocr_pages)

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
        heading_title = (meta.get("title") or stem_title(screened.path.stem)).strip()
        kind = opts.kind or (meta.get("kind") if meta.get("kind") in KINDS else None) or "other"
        chars_by_lang: Counter[str] = Counter()
        for chunk in chunks:
            chars_by_lang[chunk.lang] += len(chunk.text)
        lang = "zh" if chars_by_lang["zh"] >= chars_by_lang["en"] and chars_by_lang else "en"
        head = "\n".join(p.text for p in screened.pages[:2])[:2000]
        doc_meta = extract_metadata(
            title=title, meta=meta, text_head=head, file_stem=screened.path.stem, kind=kind
        ).to_dict()
        if opts.embed_heading:
            embed_texts = [embed_text(heading_title, c.section, c.text) for c in chunks]
        else:
            embed_texts = [c.text for c in chunks]
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
            ocr_pages={
                p.number: p.ocr_confidence
                for p in screened.pages
                if p.number is not None and p.ocr_confidence is not None
            },
            doc_meta=doc_meta,
        )


@dataclass(slots=True)
class _Ready:
    """A document parsed and chunked, waiting in a group to be embedded and written."""

    outcome: FileOutcome
    prepared: PreparedDocument
    replaces: bool  # an earlier version is committed


class _Relay:
    """The progress of a group's work in a runner's thread, told to the user interface
    on the caller's thread (``tell``), since a user interface (Streamlit) may be updated from
    that thread only. Every stage is told, in order, with its steps; in line (``direct``)
    every call passes straight on."""

    def __init__(self, progress: IngestProgress, *, direct: bool) -> None:
        self._progress = progress
        self._direct = direct
        self._lock = threading.Lock()
        self._stages: list[list[Any]] = []  # [name, total, files, steps done], in order
        self._current = 0  # the first stage not told to its end
        self._current_told = False  # its name told
        self._steps_told = 0  # its steps told

    def file_started(self, path: Path, index: int, total: int) -> None:  # never called
        raise AssertionError("the runner starts no file")

    def file_finished(self, outcome: FileOutcome) -> None:  # never called
        raise AssertionError("the runner finishes no file (the caller reports them)")

    def stage(self, name: str, total: int | None = None, *, files: int = 1) -> None:
        if self._direct:
            self._progress.stage(name, total, files=files)
            return
        with self._lock:
            self._stages.append([name, total, files, 0])

    def advance(self, n: int = 1) -> None:
        if self._direct:
            self._progress.advance(n)
            return
        with self._lock:
            if self._stages:
                self._stages[-1][3] += n

    def tell(self) -> None:
        """On the caller's thread: the stages begun and the steps done since the last call."""
        with self._lock:
            stages = [tuple(st) for st in self._stages[self._current :]]
        for i, (name, total, files, done) in enumerate(stages):
            if not self._current_told:
                self._progress.stage(name, total, files=files)
                self._current_told, self._steps_told = True, 0
            if done > self._steps_told:
                self._progress.advance(done - self._steps_told)
                self._steps_told = done
            if i < len(stages) - 1:  # a later stage has begun: this one has ended
                self._current += 1
                self._current_told = False


_Embedded = list[tuple[_Ready, np.ndarray]]


class _GroupRunner:
    """Embeds groups in one thread of its own and writes them in another (``background``),
    or does both in the caller's thread.

    Group N+1 is embedded while group N is written and the caller parses and chunks group
    N+2: the encoder waits neither for the store nor for the caller. At most one group is
    being embedded and one written. ``submit`` waits for the embedding before, hands that
    group to the writer once the write before it has returned, starts the embedding of this
    one, and returns the group whose write returned, so the caller reports files in order.
    While the caller waits it tells the user interface the progress of what it waits for.
    ``wait`` returns the rest. Leaving the ``with`` block waits for all work under way (an
    error in the caller must not leave a write running after the pipeline has returned)."""

    #: how often the caller's thread tells the progress of the work it waits for
    TELL_EVERY_S = 0.2

    def __init__(
        self,
        embed: Callable[[list[_Ready], IngestProgress], _Embedded],
        write: Callable[[_Embedded, IngestProgress], None],
        progress: IngestProgress,
        *,
        background: bool,
    ) -> None:
        self._embed, self._write, self._progress = embed, write, progress
        self._background = background
        self._embedder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-embed")
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-write")
        # only the caller's thread submits and waits: no lock needed
        self._embedding: tuple[list[_Ready], Future[_Embedded], _Relay] | None = None
        self._writing: tuple[list[_Ready], Future[None], _Relay] | None = None

    def submit(self, ready: list[_Ready]) -> list[_Ready]:
        if not self._background:
            direct = _Relay(self._progress, direct=True)
            self._write(self._embed(ready, direct), direct)
            return ready
        done = self._advance()
        relay = _Relay(self._progress, direct=False)
        self._embedding = (ready, self._embedder.submit(self._embed, ready, relay), relay)
        return done

    def wait(self) -> list[_Ready]:
        """Every group under way, once written."""
        done = self._advance()
        return [*done, *self._wait_write()]

    def _advance(self) -> list[_Ready]:
        """The embedding under way finished and handed to the writer; the group written
        before it, once its write has returned."""
        if self._embedding is None:
            return []
        ready, future, relay = self._embedding
        self._embedding = None
        embedded = self._await(ready, future, relay)
        done = self._wait_write()
        relay = _Relay(self._progress, direct=False)
        self._writing = (ready, self._writer.submit(self._write, embedded, relay), relay)
        return done

    def _wait_write(self) -> list[_Ready]:
        if self._writing is None:
            return []
        ready, future, relay = self._writing
        self._writing = None
        self._await(ready, future, relay)
        return ready

    def _await(self, ready: list[_Ready], future: Future[Any], relay: _Relay) -> Any:
        """``future``'s result, telling its progress meanwhile; the time the caller waited
        is charged to the group's documents ("wait"). The work records a store or embedder
        failure in the outcomes; anything else (a bug) is raised here."""
        tick = time.perf_counter()
        while True:
            relay.tell()
            try:
                result = future.result(timeout=self.TELL_EVERY_S)
                break
            except FutureTimeout:
                continue
        relay.tell()
        item_wait = time.perf_counter() - tick
        total = sum(len(item.prepared.chunks) for item in ready) or 1
        for item in ready:
            timings = item.outcome.timings
            timings["wait"] = (
                timings.get("wait", 0.0) + item_wait * len(item.prepared.chunks) / total
            )
        return result

    def __enter__(self) -> _GroupRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            for pending in (self._embedding, self._writing):
                if pending is not None:
                    pending[1].exception()  # waits; an error already on its way wins
            # an embedding that finished meanwhile is not written: its files are not reported
            self._embedding = self._writing = None
        finally:
            self._embedder.shutdown(wait=True)
            self._writer.shutdown(wait=True)


def _failed(outcome: FileOutcome, exc: Exception) -> None:
    """Record why a file was not indexed. An ``IngestError`` is the file's own fault (its
    reason code is shown); anything else (a store or embedder failure) must not end the run
    either, and is logged with its traceback."""
    outcome.status = "failed"
    if isinstance(exc, IngestError):
        outcome.reason, outcome.message = exc.reason, exc.message
        log.info("not indexed: %s: %s", outcome.source, exc.message)
    else:
        log.error("unexpected failure on %s", outcome.path, exc_info=exc)
        outcome.reason, outcome.message = "error", f"{type(exc).__name__}: {exc}"


def _share(ready: list[_Ready], stage: str, seconds: float) -> None:
    """Charge a group's time for ``stage`` to its documents, by their share of the chunks."""
    total = sum(len(item.prepared.chunks) for item in ready) or 1
    for item in ready:
        item.outcome.timings[stage] = seconds * len(item.prepared.chunks) / total
