"""The model process's prompt cache counts whole states (advisor/model_process.py).

llama-cpp-python's LlamaRAMCache counted only llama.cpp's state bytes, not the logits copy that
every saved state holds (311 MB with the bundled model): the model process grew to 15 GB over
45 answers. Run in a subprocess, so that the patch of the library class stays there."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = textwrap.dedent(
    """
    import numpy as np
    from llama_cpp.llama import LlamaState
    from llama_cpp.llama_cache import LlamaRAMCache
    import advisor.model_process as mp

    def fill(cache):
        for i in range(10):  # llama.cpp's part 10 bytes, the logits copy 1 MiB
            state = LlamaState(
                input_ids=np.zeros(8, dtype=np.intc), scores=np.zeros(1 << 18, dtype=np.single),
                n_tokens=8, llama_state=b"x" * 10, llama_state_size=10, seed=0,
            )
            cache[(i, 1, 2)] = state
        return len(cache.cache_state)

    before = fill(LlamaRAMCache(capacity_bytes=3_500_000))
    mp.count_whole_states()
    cache = LlamaRAMCache(capacity_bytes=3_500_000)
    after = fill(cache)
    print(before, after, cache.cache_size, list(cache.cache_state)[0][0])
    """
)


def run_script(script: str) -> str:
    """The script's output, run in a fresh interpreter (the patches stay there)."""
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=ROOT,
    ).stdout


def test_the_cache_keeps_within_its_capacity_counting_the_logits_copies() -> None:
    out = run_script(SCRIPT).split()
    before, after, size, oldest = map(int, out)
    assert before == 10, "the library alone keeps every state (it counts 10 bytes each)"
    assert after == 3 and size <= 3_500_000, "counted whole, three 1 MiB states fit"
    assert oldest == 7, "the least recently used states went first"


FAMILY_SCRIPT = textwrap.dedent(
    """
    import numpy as np
    from llama_cpp.llama import LlamaState
    from llama_cpp.llama_cache import LlamaRAMCache
    import advisor.model_process as mp

    def state():
        return LlamaState(
            input_ids=np.zeros(8, dtype=np.intc), scores=np.zeros(1 << 18, dtype=np.single),
            n_tokens=8, llama_state=b"x" * 10, llama_state_size=10, seed=0,
        )

    EN, ZH = (7,) * 100, (9,) * 100  # two system prompts, each longer than a family's key

    def run(cache):
        cache[EN + (0,)] = state()  # the warm-up: both languages
        cache[ZH + (0,)] = state()
        for i in range(1, 7):  # six Chinese questions in a row
            cache[ZH + (i, i)] = state()
        keys = list(cache.cache_state)
        has_en = any(k[:100] == EN for k in keys)
        newest_zh = max((k for k in keys if k[:100] == ZH), key=len, default=())
        return has_en, sum(k[:100] == ZH for k in keys), newest_zh[-1] if newest_zh else -1

    mp.count_whole_states()
    print(*run(LlamaRAMCache(capacity_bytes=5_500_000)))
    mp.keep_one_state_per_system_prompt()
    print(*run(LlamaRAMCache(capacity_bytes=5_500_000)))
    """
)


def test_the_cache_keeps_each_system_prompt_s_newest_state() -> None:
    """Six Chinese questions in a row used to evict the English system prompt's warmed state
    (8-12 s more to the next English first token); now each system prompt keeps its newest
    state, and older ones of the same prompt go first."""
    out = run_script(FAMILY_SCRIPT).splitlines()
    before, after = (line.split() for line in out)
    assert before[0] == "False", "least-recently-used alone evicted the English state"
    assert after == ["True", "1", "6"], "the English state stays, one Chinese state: the newest"
