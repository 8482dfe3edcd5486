"""The compute gate (vectorstore/gate.py): one heavy computation at a time, re-entrant within
a thread, and opened again when an abandoned generation is finalised in another thread."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator

from vectorstore.gate import ComputeGate


def test_one_thread_at_a_time_and_reentrant() -> None:
    gate = ComputeGate()
    inside, overlaps = [0], []

    def work() -> None:
        for _ in range(20):
            with gate, gate:  # nested in the same thread: no deadlock
                inside[0] += 1
                overlaps.append(inside[0])
                time.sleep(0.001)
                inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(overlaps) == 80 and max(overlaps) == 1
    assert not gate.held


def test_a_generation_abandoned_in_one_thread_and_finalised_in_another_opens_the_gate() -> None:
    gate = ComputeGate()

    def generation() -> Iterator[int]:
        with gate:
            yield from range(100)

    holder: dict[str, Iterator[int]] = {}

    def start() -> None:  # a session that starts an answer and goes away mid-stream
        stream = generation()
        next(stream)
        holder["stream"] = stream

    t = threading.Thread(target=start)
    t.start()
    t.join(10)
    assert gate.held
    del holder["stream"]  # finalised here, in another thread than the one that entered
    gc.collect()
    assert not gate.held
    got = threading.Event()

    def other() -> None:
        with gate:
            got.set()

    threading.Thread(target=other).start()
    assert got.wait(5), "the gate stayed shut"


def test_turns_are_taken_in_order_of_arrival() -> None:
    """A thread that takes the gate again and again does not starve one that waits."""
    gate = ComputeGate()
    stop = threading.Event()
    rounds = [0]

    def hog() -> None:
        while not stop.is_set():
            with gate:
                rounds[0] += 1
                time.sleep(0.002)

    hogs = [threading.Thread(target=hog) for _ in range(2)]
    for t in hogs:
        t.start()
    time.sleep(0.05)
    waits = []
    for _ in range(20):
        began = time.monotonic()
        with gate:
            waits.append(time.monotonic() - began)
    stop.set()
    for t in hogs:
        t.join(10)
    assert max(waits) < 0.5, waits  # at most the two hogs' turns ahead of it, each ~2 ms
    assert rounds[0] > 20


def test_an_abandoned_answer_holding_two_levels_opens_the_gate_once() -> None:
    """An answer's turn with its generation's turn inside it, abandoned mid-stream and
    finalised in another thread: the gate opens once, after both levels, and a waiter that
    gets it then keeps it (its turn is not ended by the second level's exit)."""
    gate = ComputeGate()

    def generation() -> Iterator[int]:
        with gate:
            yield from range(100)

    def answer() -> Iterator[int]:
        with gate:
            yield -1  # retrieved
            yield from generation()

    holder: dict[str, Iterator[int]] = {}

    def start() -> None:
        stream = answer()
        next(stream)
        next(stream)  # inside the generation: two levels held
        holder["stream"] = stream

    t = threading.Thread(target=start)
    t.start()
    t.join(10)
    inside, release, done = threading.Event(), threading.Event(), threading.Event()
    overlaps: list[bool] = []

    def waiter() -> None:
        with gate:
            inside.set()
            release.wait(5)
        done.set()

    w = threading.Thread(target=waiter)
    w.start()
    time.sleep(0.05)
    assert not inside.is_set()  # the abandoned answer still holds it
    del holder["stream"]
    gc.collect()
    assert inside.wait(5), "the gate stayed shut"

    def intruder() -> None:
        with gate:
            overlaps.append(not done.is_set())

    i = threading.Thread(target=intruder)
    i.start()
    time.sleep(0.05)
    assert not overlaps  # the waiter's turn was not ended under it
    release.set()
    w.join(5)
    i.join(5)
    assert overlaps == [False] and not gate.held
