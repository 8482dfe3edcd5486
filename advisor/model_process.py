"""Entry point of the model process: ``llama_cpp.server`` that ends when its parent does.

    python -m advisor.model_process --parent PID -- [llama_cpp.server arguments]

Started by ``advisor.model_server.ModelServer``, never by hand. The parent may die without
running its clean-up (SIGKILL, a crash); a thread here then notices that the parent is gone and
ends this process, so no orphaned model keeps 1-2 GB of RAM and both cores busy. (PR_SET_PDEATHSIG
would fire when the *thread* that started the process ends, and Streamlit starts work in
short-lived threads.)
"""

from __future__ import annotations

import os
import runpy
import sys
import threading
import time
from collections.abc import Sequence

#: seconds between two looks at the parent
PARENT_POLL_S = 1.0


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(PARENT_POLL_S)
        if os.getppid() != parent:
            os._exit(0)  # the parent is gone: nothing here is worth a clean shutdown


def state_bytes(state: object) -> int:
    """What one cached prompt state really holds: llama.cpp's state, and the copies of the
    logits array and the token ids that llama-cpp-python keeps beside it."""
    total = int(getattr(state, "llama_state_size", 0))
    for name in ("scores", "input_ids"):
        array = getattr(state, name, None)
        total += int(getattr(array, "nbytes", 0))
    return total


def count_whole_states() -> None:
    """Make the server's prompt cache count whole states against its capacity.

    llama-cpp-python 0.3.36's ``LlamaRAMCache`` counts only llama.cpp's state bytes, but every
    saved state also holds a copy of the logits array (n_batch x vocabulary floats: 311 MB
    with the bundled model), so a 1 GiB cache held ~40 states and the model process grew to
    15 GB of RAM over 45 answers of the eval set. Counted whole, the capacity is what it says.
    """
    from llama_cpp import llama_cache

    def cache_size(self: llama_cache.LlamaRAMCache) -> int:
        return sum(state_bytes(s) for s in self.cache_state.values())

    llama_cache.LlamaRAMCache.cache_size = property(cache_size)  # type: ignore[method-assign,assignment]


#: prompts whose first tokens agree share a system prompt (the chat template's opening and the
#: first ~50 tokens of the system text): one "family" of prompt states
FAMILY_TOKENS = 64
#: newest states kept per family; an older state of the same family adds nothing a newer one
#: lacks, since a new question shares only the system prompt with either
STATES_PER_FAMILY = 1


def family(key: tuple[int, ...]) -> tuple[int, ...]:
    return key[:FAMILY_TOKENS]


def keep_one_state_per_system_prompt() -> None:
    """Make the server's prompt cache keep the newest state of each system prompt, instead of
    the newest states of any.

    The server saves a state (~330 MB) after every answer and evicts the oldest beyond its
    capacity (~5 states). Five Chinese questions in a row evicted every state holding the
    English system prompt that the warm-up had put there, and the next English question
    evaluated its 329 system tokens again: 8-12 s more to its first token (the first question
    of each group in the eval set, docs/BENCHMARKS.md). A new question shares only its system
    prompt with a cached state, so the newest state of each system prompt serves as well as
    all of them; the others are dropped when a new one of the same family comes, and the
    capacity still bounds the whole.
    """
    from llama_cpp import llama_cache
    from llama_cpp.llama import LlamaState

    def setitem(self: llama_cache.LlamaRAMCache, key: Sequence[int], value: LlamaState) -> None:
        key = tuple(key)
        self.cache_state.pop(key, None)
        same = [k for k in self.cache_state if family(k) == family(key)]
        for old in same[: max(0, len(same) - (STATES_PER_FAMILY - 1))]:
            del self.cache_state[old]
        self.cache_state[key] = value
        while self.cache_size > self.capacity_bytes and len(self.cache_state) > 1:
            self.cache_state.popitem(last=False)

    llama_cache.LlamaRAMCache.__setitem__ = setitem  # type: ignore[method-assign]


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[0] != "--parent" or "--" not in argv:
        raise SystemExit("usage: python -m advisor.model_process --parent PID -- SERVER_ARGS")
    parent = int(argv[1])
    server_args = argv[argv.index("--") + 1 :]
    if os.getppid() != parent:
        raise SystemExit(0)  # the parent died before we started
    threading.Thread(target=_watch_parent, args=(parent,), name="parent-watch", daemon=True).start()
    count_whole_states()
    keep_one_state_per_system_prompt()
    sys.argv = ["llama_cpp.server", *server_args]
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
