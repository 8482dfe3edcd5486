"""A group is embedded and written in the runner's thread while the caller's thread parses and
chunks the next group (ingest/pipeline.py ``_GroupRunner``); files are still reported one by
one, in order, on the caller's thread, and only after their write has returned; the group's
embedding progress reaches the user interface on the caller's thread too."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from ingest.pipeline import IngestOptions, IngestPipeline


class SlowSink:
    """A store whose writes take a while and record what happened meanwhile."""

    def __init__(self, delay_s: float = 0.3, fail_on: str = "") -> None:
        self.delay_s, self.fail_on = delay_s, fail_on
        self.writing = threading.Event()
        self.written: list[str] = []
        self.write_threads: set[str] = set()
        self.committed: dict[str, str] = {}
        self.written_at: dict[str, float] = {}

    def committed_shas(self, sources):
        return {s: self.committed[s] for s in sources if s in self.committed}

    def write_documents(self, items):
        self.write_threads.add(threading.current_thread().name)
        if any(self.fail_on and self.fail_on in doc.source for doc, _ in items):
            raise RuntimeError("the store refused the write")
        self.writing.set()
        time.sleep(self.delay_s)
        for doc, _ in items:
            self.written.append(doc.source)
            self.committed[doc.source] = doc.sha256
            self.written_at[doc.source] = time.monotonic()
        self.writing.clear()
        return []


class CountingEmbedder:
    """Vectors of the right shape, a batch of two texts at a time; notes while it works."""

    def __init__(self, sink: SlowSink, delay_s: float = 0.05) -> None:
        self.sink = sink
        self.delay_s = delay_s
        self.embedding = threading.Event()
        self.threads: set[str] = set()
        self.during_write: list[bool] = []

    def count_tokens(self, text: str) -> int:
        return len(text)

    def embed_passages(self, texts, *, batch_size=None, on_batch=None):
        self.threads.add(threading.current_thread().name)
        self.embedding.set()
        for start in range(0, len(texts), 2):
            time.sleep(self.delay_s)
            if start == 0:  # one batch in: is the group before being written meanwhile?
                self.during_write.append(self.sink.writing.is_set())
            if on_batch:
                on_batch(len(texts[start : start + 2]))
        self.embedding.clear()
        return np.ones((len(texts), 4), dtype=np.float32)

    @property
    def busy(self) -> bool:
        return self.embedding.is_set() or self.sink.writing.is_set()


class Recorder:
    def __init__(self, sink: SlowSink, embedder: CountingEmbedder | None = None) -> None:
        self.sink = sink
        self.embedder = embedder
        self.events: list[tuple[str, str]] = []
        self.threads: set[str] = set()
        self.started_at: dict[str, float] = {}
        self.embed_stages: list[tuple[int | None, int]] = []  # (total, files)
        self.embed_steps: list[int] = []
        self._stage = ""

    def _note(self) -> None:
        self.threads.add(threading.current_thread().name)

    def file_started(self, path: Path, index: int, total: int) -> None:
        self._note()
        self.events.append(("started", path.name))
        self.started_at[path.name] = time.monotonic()

    def stage(self, name, total=None, *, files=1) -> None:
        self._note()
        self._stage = name
        if name == "embed":
            self.embed_stages.append((total, files))
            self.embed_steps.append(0)

    def advance(self, n: int = 1) -> None:
        self._note()
        if self._stage == "embed":
            self.embed_steps[-1] += n

    def file_finished(self, outcome) -> None:
        self._note()
        if outcome.status == "indexed":  # reported only once the store has it
            assert outcome.source in self.sink.written
        self.events.append(("finished", outcome.source))


def notes(folder: Path, n: int) -> list[Path]:
    folder.mkdir()
    paths = []
    for i in range(n):
        path = folder / f"note-{i:02d}.txt"
        path.write_text(f"第{i}号纪要：学校与企业商定共建实训基地。", encoding="utf-8")
        paths.append(path)
    return paths


@pytest.mark.parametrize("background", [True, False])
def test_a_group_is_embedded_while_the_one_before_is_written_and_the_next_read(
    tmp_path, background
) -> None:
    sink = SlowSink()
    embedder = CountingEmbedder(sink, delay_s=0.15)  # 0.3 s a group: longer than a tell
    progress = Recorder(sink, embedder)
    options = IngestOptions(group_files=3, background=background)
    files = notes(tmp_path / "notes", 9)
    report = IngestPipeline(sink, embedder, options, progress).run(files)

    assert [o.status for o in report.outcomes] == ["indexed"] * 9
    assert sorted(sink.written) == [p.name for p in files]
    # every file finishes once, after it started, in the files' order
    finished = [name for kind, name in progress.events if kind == "finished"]
    assert finished == [p.name for p in files]
    position = {event: i for i, event in enumerate(progress.events)}
    assert all(position[("finished", p.name)] > position[("started", p.name)] for p in files)
    # the user interface is told on the caller's thread only, every group's embedding with
    # all its steps (three files of one chunk each: 3 texts), in line or not
    assert progress.threads == {threading.main_thread().name}
    assert progress.embed_stages == [(3, 3)] * 3
    assert progress.embed_steps == [3, 3, 3]
    main = threading.main_thread().name
    if background:
        assert main not in sink.write_threads and main not in embedder.threads
        # the files of groups 2 and 3 were read before the group before had been written
        # (0.6 s of embedding and writing each, the reading takes milliseconds)
        for group, before in ((files[3:6], files[2]), (files[6:9], files[5])):
            written = sink.written_at[before.name]
            assert all(progress.started_at[p.name] < written for p in group)
        # and groups 2 and 3 were embedded while the group before was written
        assert embedder.during_write == [False, True, True]
        # the caller's waits are recorded (here nearly all of the groups' work: reading a
        # note takes milliseconds)
        assert report.total("wait") > 0
    else:
        assert sink.write_threads == embedder.threads == {main}
        assert not any(embedder.during_write)
        assert all(progress.started_at[p.name] > sink.written_at[files[2].name] for p in files[3:])


def test_a_failed_background_write_fails_its_group_alone_and_the_run_goes_on(tmp_path) -> None:
    sink = SlowSink(delay_s=0.05, fail_on="note-04")
    options = IngestOptions(group_files=3)
    files = notes(tmp_path / "notes", 9)
    report = IngestPipeline(sink, CountingEmbedder(sink), options).run(files)
    status = {o.source: o.status for o in report.outcomes}
    # the group is retried one by one: only the document at fault fails
    assert [s for s, v in status.items() if v == "failed"] == ["note-04.txt"]
    assert "the store refused the write" in report.outcomes[4].message
    assert sorted(sink.written) == sorted(s for s, v in status.items() if v == "indexed")


def test_an_error_in_the_caller_waits_for_the_work_under_way(tmp_path) -> None:
    """A failure of the caller (here: the progress, as the seventh file starts while the first
    group is written and the second embedded) ends the run only after that work has returned:
    nothing is written after the pipeline has returned, the group written is whole, and the
    group only embedded is not written (nor reported: the next run indexes it)."""
    sink = SlowSink(delay_s=0.3)
    embedder = CountingEmbedder(sink)

    class Boom(Recorder):
        def file_started(self, path: Path, index: int, total: int) -> None:
            super().file_started(path, index, total)
            if index == 6:
                raise KeyboardInterrupt

    files = notes(tmp_path / "notes", 9)
    progress = Boom(sink)
    with pytest.raises(KeyboardInterrupt):
        IngestPipeline(sink, embedder, IngestOptions(group_files=3), progress).run(files)
    assert not embedder.busy
    assert sink.written == [p.name for p in files[:3]]
    assert not [e for e in progress.events if e[0] == "finished"]
