"""A group is written in the writer's thread while the next group is embedded
(ingest/pipeline.py ``_GroupWriter``); files are still reported one by one, in order, on the
caller's thread, and only after their write has returned."""

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
        self.writing.clear()
        return []


class CountingEmbedder:
    """Vectors of the right shape; notes whether a write was under way during each call."""

    def __init__(self, sink: SlowSink) -> None:
        self.sink = sink
        self.during_write: list[bool] = []

    def count_tokens(self, text: str) -> int:
        return len(text)

    def embed_passages(self, texts, *, batch_size=None, on_batch=None):
        time.sleep(0.05)
        self.during_write.append(self.sink.writing.is_set())
        if on_batch:
            on_batch(len(texts))
        return np.ones((len(texts), 4), dtype=np.float32)


class Recorder:
    def __init__(self, sink: SlowSink) -> None:
        self.sink = sink
        self.events: list[tuple[str, str]] = []
        self.threads: set[str] = set()

    def _note(self) -> None:
        self.threads.add(threading.current_thread().name)

    def file_started(self, path: Path, index: int, total: int) -> None:
        self._note()
        self.events.append(("started", path.name))

    def stage(self, name, total=None, *, files=1) -> None:
        self._note()

    def advance(self, n: int = 1) -> None:
        self._note()

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


@pytest.mark.parametrize("write_behind", [True, False])
def test_groups_are_written_while_the_next_is_embedded(tmp_path, write_behind) -> None:
    sink = SlowSink()
    embedder = CountingEmbedder(sink)
    progress = Recorder(sink)
    options = IngestOptions(group_files=3, write_behind=write_behind)
    files = notes(tmp_path / "notes", 9)
    report = IngestPipeline(sink, embedder, options, progress).run(files)

    assert [o.status for o in report.outcomes] == ["indexed"] * 9
    assert sorted(sink.written) == [p.name for p in files]
    # every file finishes once, after it started, in the files' order
    finished = [name for kind, name in progress.events if kind == "finished"]
    assert finished == [p.name for p in files]
    position = {event: i for i, event in enumerate(progress.events)}
    assert all(position[("finished", p.name)] > position[("started", p.name)] for p in files)
    # the user interface is told on the caller's thread only
    assert progress.threads == {threading.main_thread().name}
    if write_behind:
        assert sink.write_threads and threading.main_thread().name not in sink.write_threads
        assert embedder.during_write[1:] == [True, True], "groups 2 and 3 embed during a write"
        # a group's write time is shared by its files; it overlapped embedding, so the
        # pipeline waited for it less than it took
        assert sum(o.timings["write"] for o in report.outcomes[:3]) > 0.25
        assert report.total("write_wait") < report.total("write")
    else:
        assert sink.write_threads == {threading.main_thread().name}
        assert not any(embedder.during_write)


def test_a_failed_write_behind_fails_its_group_alone_and_the_run_goes_on(tmp_path) -> None:
    sink = SlowSink(delay_s=0.05, fail_on="note-04")
    options = IngestOptions(group_files=3)
    files = notes(tmp_path / "notes", 9)
    report = IngestPipeline(sink, CountingEmbedder(sink), options).run(files)
    status = {o.source: o.status for o in report.outcomes}
    # the group is retried one by one: only the document at fault fails
    assert [s for s, v in status.items() if v == "failed"] == ["note-04.txt"]
    assert "the store refused the write" in report.outcomes[4].message
    assert sorted(sink.written) == sorted(s for s, v in status.items() if v == "indexed")


def test_an_error_in_the_caller_waits_for_the_write_under_way(tmp_path) -> None:
    """A failure of the caller (here: the progress) ends the run only after the write in the
    writer's thread has returned: nothing is written after the pipeline has returned."""
    sink = SlowSink(delay_s=0.3)

    class Boom(Recorder):
        def stage(self, name, total=None, *, files=1) -> None:
            if name == "embed" and sink.writing.is_set():
                raise KeyboardInterrupt

    files = notes(tmp_path / "notes", 6)
    with pytest.raises(KeyboardInterrupt):
        IngestPipeline(sink, CountingEmbedder(sink), IngestOptions(group_files=3), Boom(sink)).run(
            files
        )
    assert not sink.writing.is_set()
    assert sink.written == [p.name for p in files[:3]]
