"""Answer latency with the bundled local model, 6 passages per prompt: time to first token and
to the full answer, with the prompt size, over answerable questions of the eval set; and, in the
same run, retrieval alone (the part of the latency that is not the model).

    .venv/bin/python bench/answer_latency.py [--data-dir DIR] [--questions 12] [--cold]

The knowledge base is corpus/ plus ../shared/testdata/zh_policy (ingested first; unchanged files
are skipped, so a second run starts at once).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared" / "testdata"


def pct(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/advisor-eval-data"))
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--cold", action="store_true", help="no warm-up of the prompt cache")
    args = parser.parse_args()

    from advisor.chain import build_answer_messages
    from advisor.llm import load_llama
    from advisor.service import AdvisorService
    from advisor.settings import Settings

    service = AdvisorService(Settings(data_dir=args.data_dir, llm="local", top_k=6))
    paths = [ROOT / "corpus"] + ([SHARED / "zh_policy"] if SHARED.is_dir() else [])
    service.ingest(paths)
    started = time.perf_counter()
    llama = load_llama(service.settings.local_model_path)
    print(f"model load: {time.perf_counter() - started:.1f} s")

    rows = [
        json.loads(line)
        for line in (ROOT / "bench" / "eval_set.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    rows = [r for r in rows if r["answerable"] and not r.get("history")]
    # alternate languages like real use, so the system-prompt cache is not always warm
    zh = [r for r in rows if r["lang"] == "zh"]
    en = [r for r in rows if r["lang"] == "en"]
    picked = [r for pair in zip(zh, en, strict=False) for r in pair][: args.questions]

    advisor = service.advisor()
    if not args.cold:
        started = time.perf_counter()
        advisor.warm_up()  # as the app does when it loads the model
        print(f"warm-up (both languages' system prompts): {time.perf_counter() - started:.1f} s")
    retrieval, first, full, prompt_tokens, answer_tokens = [], [], [], [], []
    for row in picked:
        tick = time.perf_counter()
        passages = advisor.retriever.retrieve(row["question"], k=6)
        retrieval.append(time.perf_counter() - tick)
        answer = advisor.answer(row["question"])
        if answer.refused and answer.refusal_reason == "no_evidence":
            continue
        messages = build_answer_messages(
            answer.standalone_question, answer.contexts, answer.lang, advisor.config
        )
        text = "".join(str(m.content) for m in messages)
        prompt_tokens.append(len(llama.tokenize(text.encode("utf-8"))))
        answer_tokens.append(len(llama.tokenize(answer.answer.encode("utf-8"))))
        first.append(answer.first_token_s or answer.latency_s)
        full.append(answer.latency_s)
        print(
            f"{row['id']:<10} passages={len(passages)} prompt≈{prompt_tokens[-1]} tok  "
            f"first {first[-1]:.1f} s  full {full[-1]:.1f} s  answer≈{answer_tokens[-1]} tok"
            f"{'  (refused by model)' if answer.refused else ''}"
        )
    print(f"\n{len(full)} answers, 6 passages each, local model {service.llm_label}")
    print(
        f"retrieval alone : p50 {pct(retrieval, 50) * 1000:.0f} ms, "
        f"p95 {pct(retrieval, 95) * 1000:.0f} ms"
    )
    print(
        f"first token     : p50 {pct(first, 50):.1f} s, p95 {pct(first, 95):.1f} s, "
        f"max {max(first):.1f} s"
    )
    print(
        f"full answer     : p50 {pct(full, 50):.1f} s, p95 {pct(full, 95):.1f} s, "
        f"max {max(full):.1f} s"
    )
    print(
        f"prompt tokens   : mean {statistics.fmean(prompt_tokens):.0f}; answer tokens: mean "
        f"{statistics.fmean(answer_tokens):.0f}"
    )


if __name__ == "__main__":
    main()
