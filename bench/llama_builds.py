"""Prompt and generation speed of llama.cpp builds, side by side in one run.

Each build runs in a fresh interpreter of its own (the libraries of two builds cannot share a
process), on the bundled model with the same prompt (~450 tokens, the size of an answer's
prompt) and 64 generated tokens, three times; the medians are printed.

    .venv/bin/python bench/llama_builds.py                       # the installed build only
    .venv/bin/python bench/llama_builds.py --build variants=/tmp/variants/site

A ``--build NAME=DIR`` is an unpacked llama-cpp-python wheel (``unzip WHEEL -d DIR``). When
``DIR/bin`` holds runtime-dispatched CPU variants (``libggml-cpu-*.so``, built with
``GGML_BACKEND_DL`` + ``GGML_CPU_ALL_VARIANTS``), they are loaded with
``ggml_backend_load_all_from_path`` before the model, since llama-cpp-python 0.3.36 never loads
dynamic backends itself (without this call the model fails to load: "no backends are
loaded"); the variant chosen is printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL = REPO_ROOT / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"

CHILD = r"""
import ctypes, json, sys, time
from pathlib import Path
site, model, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
if site:
    sys.path.insert(0, site)
import llama_cpp
variant = "static"
backend_dir = Path(site) / "bin" if site else None
if backend_dir and list(backend_dir.glob("libggml-cpu-*.so")):
    # the file libllama.so is linked against (a wheel holds copies, not links, and each copy
    # would keep a registry of its own)
    ggml = ctypes.CDLL(str(Path(llama_cpp.__file__).parent / "lib" / "libggml.so.0"))
    ggml.ggml_backend_load_all_from_path.argtypes = [ctypes.c_char_p]
    ggml.ggml_backend_load_all_from_path(str(backend_dir).encode())
    ggml.ggml_backend_reg_count.restype = ctypes.c_size_t
    ggml.ggml_backend_reg_get.restype = ctypes.c_void_p
    ggml.ggml_backend_reg_get.argtypes = [ctypes.c_size_t]
    ggml.ggml_backend_reg_name.restype = ctypes.c_char_p
    ggml.ggml_backend_reg_name.argtypes = [ctypes.c_void_p]
    names = [ggml.ggml_backend_reg_name(ggml.ggml_backend_reg_get(i)).decode()
             for i in range(ggml.ggml_backend_reg_count())]
    variant = "dispatched: " + ", ".join(names)
from llama_cpp import Llama
llm = Llama(model_path=model, n_ctx=2048, n_threads=2, n_batch=512, verbose=False)
text = ("产教融合与校企合作是职业教育改革的重点。" * 30)[:600]
prompt = llm.tokenize(text.encode("utf-8"))
results = []
for _ in range(runs):
    llm.reset()
    started = time.perf_counter()
    llm.eval(prompt)
    prompt_s = time.perf_counter() - started
    started = time.perf_counter()
    generated = 0
    for token in llm.generate([], temp=0.0, reset=False):
        generated += 1
        if generated >= 64:
            break
    gen_s = time.perf_counter() - started
    results.append({"prompt_tps": len(prompt) / prompt_s, "gen_tps": generated / gen_s})
print(json.dumps({"variant": variant, "prompt_tokens": len(prompt), "runs": results}))
"""


def measure(site: str, runs: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, site, str(MODEL), str(runs)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["?"])[-1]}
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", action="append", default=[], metavar="NAME=DIR")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    builds = [("installed (Makefile baseline)", "")]
    builds += [tuple(b.split("=", 1)) for b in args.build]  # type: ignore[misc]
    print(f"{'build':<32}{'prompt tok/s':>14}{'gen tok/s':>11}  CPU code")
    for name, site in builds:
        result = measure(site, args.runs)
        if "error" in result:
            print(f"{name:<32}{'failed':>14}{'':>11}  {result['error']}")
            continue
        runs = result["runs"]
        assert isinstance(runs, list)
        prompt = statistics.median(r["prompt_tps"] for r in runs)
        gen = statistics.median(r["gen_tps"] for r in runs)
        print(f"{name:<32}{prompt:>14.1f}{gen:>11.1f}  {result['variant']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
