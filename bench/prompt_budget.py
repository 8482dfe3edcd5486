"""The model's prompt at several sentence budgets, without running the model: for every
answerable question of the eval set, the prompt's length in the bundled model's own tokens and
whether the prompt still holds each key fact (what the model can at best repeat), per budget.

    .venv/bin/python bench/prompt_budget.py [--data-dir data/eval] [--budgets 8:900,6:600,...]
        [--prompt-tok-s 40]

The first token waits for the uncached part of the prompt (the system prompt is cached), so
"first token est." is that part's tokens over ``--prompt-tok-s`` (measure it with
bench/llama_builds.py on the machine). The passages come from the extractive backend's
retrieval, which is the one every backend uses. Run it on the eval data folder (README of
bench/: ``advisor ingest`` of the eval corpus).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def pct(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def parse_budget(text: str) -> tuple[int, int, float]:
    """ "8:900" or "8:900:0.5" (sentences, characters, share of the best sentence's score)."""
    parts = text.split(":")
    return int(parts[0]), int(parts[1]), float(parts[2]) if len(parts) > 2 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data/eval"))
    parser.add_argument("--eval-set", type=Path, default=ROOT / "bench" / "eval_set.jsonl")
    parser.add_argument("--budgets", default="8:900,6:700,5:600,4:450,3:350,8:900:0.6,8:900:0.8")
    parser.add_argument("--prompt-tok-s", type=float, default=40.0)
    args = parser.parse_args()

    from llama_cpp import Llama

    from advisor.chain import (
        ChainConfig,
        FinalEvent,
        build_answer_messages,
        earlier_question,
    )
    from advisor.evaluation import fact_found, load_eval_set
    from advisor.evidence import decisive_sentences
    from advisor.service import AdvisorService
    from advisor.settings import Settings

    settings = Settings(data_dir=args.data_dir, llm="extractive")
    tokenizer = Llama(
        model_path=str(Settings(data_dir=args.data_dir).local_model_path),
        vocab_only=True,
        verbose=False,
    )

    def tokens(text: str) -> int:
        return len(tokenizer.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    service = AdvisorService(settings)
    advisor = service.advisor()
    budgets = [parse_budget(b) for b in args.budgets.split(",")]
    items = [i for i in load_eval_set(args.eval_set) if i.answerable]
    system_tokens: int | None = None
    rows: dict[tuple[int, int, float], dict[str, list]] = {
        b: {"tokens": [], "facts": [], "lang": []} for b in budgets
    }
    for item in items:
        final = None
        for event in advisor.stream(item.question, history=item.history or None):
            if isinstance(event, FinalEvent):
                final = event.answer
        assert final is not None
        if not final.contexts:
            continue
        # what the chain searches with: the previous question prefixed (advisor/chain.py)
        earlier = earlier_question(item.history)
        standalone = f"{earlier} {item.question}" if earlier else item.question
        terms = advisor.glossary.translate_terms(standalone, final.lang)
        ranked, _ = decisive_sentences(standalone, final.contexts, final.lang, terms)
        for sentences, chars, relative in budgets:
            config = ChainConfig(
                prompt_sentences=sentences, prompt_chars=chars, prompt_relative=relative
            )
            system, user = build_answer_messages(
                item.question,
                final.contexts,
                final.lang,
                config,
                terms,
                ranked=ranked,
                earlier=earlier_question(item.history),
            )
            if system_tokens is None:
                system_tokens = tokens(str(system.content))
            row = rows[(sentences, chars, relative)]
            row["tokens"].append(tokens(str(user.content)))
            row["facts"].append([fact_found(str(user.content), alts) for alts in item.key_facts])
            row["lang"].append(item.lang)

    print(f"{len(items)} answerable questions; system prompt {system_tokens} tokens (cached)")
    print(
        f"{'budget':>14} {'tok p50':>8} {'tok p95':>8} {'1st tok est p50/p95':>20} "
        f"{'facts in prompt':>16} {'zh':>6} {'en':>6}"
    )
    for budget in budgets:
        row = rows[budget]
        toks = row["tokens"]

        def share(lang: str | None, row: dict = row) -> float:
            found = [
                f
                for facts, lng in zip(row["facts"], row["lang"], strict=True)
                if lang is None or lng == lang
                for f in facts
            ]
            return sum(found) / len(found) if found else 0.0

        est = [t / args.prompt_tok_s for t in toks]
        print(
            f"{':'.join(str(x) for x in budget):>14} {pct(toks, 50):>8} {pct(toks, 95):>8} "
            f"{pct(est, 50):>9.1f}/{pct(est, 95):<9.1f} {share(None):>16.3f} "
            f"{share('zh'):>6.3f} {share('en'):>6.3f}"
        )
    print(
        "(mean prompt tokens at the first budget: "
        f"{statistics.mean(rows[budgets[0]]['tokens']):.0f})"
    )


if __name__ == "__main__":
    main()
