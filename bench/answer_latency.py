"""Answer latency with the bundled local model (its supervised process, as the app runs it):
time to sources (the passages shown before the model writes), time to first token and to the
full answer, with the prompt size; for the answer as built now (decisive sentences, basis) and,
in the same run, as it was built before (six per-passage excerpts, no basis).

    .venv/bin/python bench/answer_latency.py [--data-dir DIR] [--questions 12] [--cold]

The knowledge base is corpus/ plus ../shared/testdata/zh_policy (ingested first; unchanged files
are skipped, so a second run starts at once). Questions alternate zh / en, answerable ones of
the eval set without history.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared" / "testdata"


def pct(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def count_tokens(base_url: str, text: str) -> int:
    """Tokens of ``text`` by the model's own tokenizer (llama_cpp.server's extras endpoint)."""
    request = urllib.request.Request(
        base_url.removesuffix("/v1") + "/extras/tokenize/count",
        data=json.dumps({"input": text}).encode("utf-8"),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        return int(json.loads(reply.read())["count"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/advisor-eval-data"))
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--cold", action="store_true", help="no warm-up of the prompt cache")
    args = parser.parse_args()

    from advisor.chain import Advisor, ChainConfig, SourcesEvent, build_answer_messages
    from advisor.evidence import decisive_sentences
    from advisor.service import AdvisorService
    from advisor.settings import Settings

    service = AdvisorService(Settings(data_dir=args.data_dir, llm="local", top_k=6))
    paths = [ROOT / "corpus"] + ([SHARED / "zh_policy"] if SHARED.is_dir() else [])
    service.ingest(paths)
    rows = [
        json.loads(line)
        for line in (ROOT / "bench" / "eval_set.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    rows = [r for r in rows if r["answerable"] and not r.get("history")]
    zh = [r for r in rows if r["lang"] == "zh"]
    en = [r for r in rows if r["lang"] == "en"]
    picked = [r for pair in zip(zh, en, strict=False) for r in pair][: args.questions]

    now = service.advisor()
    before = Advisor(
        now.llm,
        now.retriever,
        llm_label=now.llm_label,
        config=ChainConfig(decisive_prompt=False, basis=False, support_check=False),
    )
    started = time.perf_counter()
    if not args.cold:
        now.warm_up()  # as the app does when it loads the model
    print(f"model process start + warm-up: {time.perf_counter() - started:.1f} s")
    base_url = now.llm.server.base_url()  # type: ignore[union-attr]

    for name, advisor in (("now (decisive sentences + basis)", now), ("before (excerpts)", before)):
        sources, first, full, prompt_tokens = [], [], [], []
        for row in picked:
            answer = None
            tick = time.perf_counter()
            shown = None
            for event in advisor.stream(row["question"]):
                if isinstance(event, SourcesEvent) and shown is None:
                    shown = time.perf_counter() - tick
                final = getattr(event, "answer", None)
                if final is not None:
                    answer = final
            assert answer is not None
            if answer.refused and answer.first_token_s is None:
                continue  # refused before the model: nothing to time
            lang = answer.lang
            terms = service.advisor().glossary.translate_terms(answer.standalone_question, lang)
            ranked, _ = decisive_sentences(answer.standalone_question, answer.contexts, lang, terms)
            messages = build_answer_messages(
                answer.standalone_question,
                answer.contexts,
                lang,
                advisor.config,
                terms,
                ranked=ranked,
            )
            prompt_tokens.append(count_tokens(base_url, "".join(str(m.content) for m in messages)))
            sources.append(shown or 0.0)
            first.append(answer.first_token_s or answer.latency_s)
            full.append(answer.latency_s)
            print(
                f"  {row['id']:<10} sources {sources[-1]:.2f} s  first {first[-1]:.1f} s  "
                f"full {full[-1]:.1f} s  prompt {prompt_tokens[-1]} tok"
                f"{'  (refused by model)' if answer.refused else ''}"
            )
        print(f"{name}: {len(full)} answers")
        print(f"  time to sources: p50 {pct(sources, 50):.2f} s, p95 {pct(sources, 95):.2f} s")
        print(f"  first token    : p50 {pct(first, 50):.1f} s, p95 {pct(first, 95):.1f} s")
        print(f"  full answer    : p50 {pct(full, 50):.1f} s, p95 {pct(full, 95):.1f} s")
        print(f"  prompt tokens  : mean {sum(prompt_tokens) / len(prompt_tokens):.0f}")
        print(f"  model process  : {rss_mb(now.llm.server.pid):.0f} MB resident")  # type: ignore[union-attr]


def rss_mb(pid: int | None) -> float:
    """Resident memory of a process (the prompt cache lives in the model process)."""
    if pid is None:
        return 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    main()
