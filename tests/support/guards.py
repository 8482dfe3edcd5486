"""The hang guard: a test of hostile input fails when the code under test is still running
after a bound one or two orders of magnitude above its measured time. It catches a hang or
catastrophic backtracking, never slowness on a busy machine; speed is measured in bench/
(bench/text_rules_bench.py), not asserted."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

#: one file of a few KiB parses in milliseconds, a hostile page in under a second
HANG_S = 60.0


class _Hang(BaseException):
    """Raised by the alarm. A BaseException, so the loaders' ``except Exception`` (which turns
    any parser failure into CorruptFileError) cannot hide a hang as a refusal."""


@contextmanager
def hang_guard(seconds: float = HANG_S) -> Iterator[None]:
    """Fail with "a hang" when the block is still running after ``seconds`` (main thread)."""

    def _alarm(signum: int, frame: FrameType | None) -> None:
        raise _Hang

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _Hang:
        raise AssertionError(f"still running after {seconds:g} s: a hang") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
