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

#: seconds between two looks at the parent
PARENT_POLL_S = 1.0


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(PARENT_POLL_S)
        if os.getppid() != parent:
            os._exit(0)  # the parent is gone: nothing here is worth a clean shutdown


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[0] != "--parent" or "--" not in argv:
        raise SystemExit("usage: python -m advisor.model_process --parent PID -- SERVER_ARGS")
    parent = int(argv[1])
    server_args = argv[argv.index("--") + 1 :]
    if os.getppid() != parent:
        raise SystemExit(0)  # the parent died before we started
    threading.Thread(target=_watch_parent, args=(parent,), name="parent-watch", daemon=True).start()
    sys.argv = ["llama_cpp.server", *server_args]
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
