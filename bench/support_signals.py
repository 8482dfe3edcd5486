"""Does a signal from the model tell an answer from an answer built from noise? RGB zh_int.

The refusal issue names three signals for "does a passage state the answer": the question's
slot checked against the cited sentence (lexical; measured in docs/BENCHMARKS.md, it does not
separate RGB's pools), the model's own token probabilities over its answer, and agreement
between the extractive pick and the model's answer. This bench measures the last two on the
same questions, with the bundled model in its own process started with ``logits_all`` (which
logprobs need; the app's server runs without it):

- pool A: answerable questions (all their passages are in the pool);
- pool B: the 40 questions whose positive passages were taken out (``rgb_bench.py``'s seed).

For each question the app's prompt is built exactly as ``Advisor.stream`` builds it (retrieval,
decisive sentences), the model answers once with logprobs, and these are recorded:

- ``mean_lp``: mean log-probability of the answer's tokens;
- ``min_lp``: the lowest token log-probability;
- ``figure_lp``: mean log-probability of the tokens holding a digit (the slot of most RGB
  questions is a figure or a date);
- ``agree``: share of the model's figures and quoted names found in the extractive pick (the
  best decisive sentences).

The report gives, per signal, the share of pool B refused when the threshold refuses at most
5 % of pool A's correctly answered questions, and the ROC AUC between pool A and pool B.

    .venv/bin/python bench/support_signals.py [--data-dir /tmp/advisor-rgb/data] [--per-pool 40]

It needs the knowledge bases ``rgbA`` and ``rgbB`` that ``bench/rgb_bench.py --pool AB
--clone-b`` builds in the same data folder.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from rgb_bench import correct, load_rows, no_answer_ids  # noqa: E402

_FIGURE = re.compile(r"\d")
_TERMS = re.compile(r"\d[\d,.，]*|[\u4e00-\u9fff]{2,}")


def auc(pos: list[float], neg: list[float]) -> float:
    """P(a pool-A value > a pool-B value): 1.0 separates perfectly, 0.5 not at all."""
    if not pos or not neg:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def refused_at(pos: list[float], neg: list[float], budget: float = 0.05) -> tuple[float, float]:
    """The threshold that refuses at most ``budget`` of ``pos``, and the share of ``neg``
    below it."""
    ordered = sorted(pos)
    k = math.floor(budget * len(ordered))
    threshold = ordered[k] if ordered else 0.0
    return threshold, sum(v < threshold for v in neg) / max(1, len(neg))


def ask(base_url: str, messages: list[dict[str, str]], max_tokens: int) -> dict[str, Any]:
    body = json.dumps(
        {
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": 0.1,
            "repeat_penalty": 1.1,
            "logprobs": True,
            "top_logprobs": 1,
        }
    ).encode()
    request = urllib.request.Request(
        f"{base_url}/chat/completions", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.loads(response.read())


def signals(reply: dict[str, Any], extractive_text: str) -> dict[str, Any]:
    choice = reply["choices"][0]
    text = choice["message"]["content"] or ""
    tokens = (choice.get("logprobs") or {}).get("content") or []
    lps = [t["logprob"] for t in tokens if t.get("logprob") is not None]
    figure = [t["logprob"] for t in tokens if _FIGURE.search(t.get("token", ""))]
    terms = [t for t in _TERMS.findall(re.sub(r"\[\d+\]", "", text)) if len(t) >= 2]
    agree = sum(t in extractive_text for t in terms) / len(terms) if terms else 0.0
    return {
        "answer": text,
        "mean_lp": sum(lps) / len(lps) if lps else 0.0,
        "min_lp": min(lps) if lps else 0.0,
        "figure_lp": sum(figure) / len(figure) if figure else 0.0,
        "agree": agree,
        "tokens": len(lps),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/advisor-rgb/data"))
    parser.add_argument("--per-pool", type=int, default=40)
    parser.add_argument("--out", type=Path, default=Path("/tmp/advisor-rgb/results/signals.json"))
    args = parser.parse_args()

    from langchain_core.messages import SystemMessage

    from advisor.chain import build_answer_messages, question_lang
    from advisor.evidence import choose, decisive_sentences
    from advisor.glossary import load_glossary
    from advisor.model_server import ModelServer, ServerConfig
    from advisor.service import AdvisorService
    from advisor.settings import Settings

    rows = load_rows()
    hidden = no_answer_ids(rows)
    pools = {
        "A": [r for r in rows if r["id"] not in hidden][: args.per_pool],
        "B": [r for r in rows if r["id"] in hidden][: args.per_pool],
    }
    settings = Settings(data_dir=args.data_dir, llm="extractive")
    have = (args.data_dir / "chroma").is_dir()
    kbs = set(AdvisorService(settings).list_knowledge_bases()) if have else set()
    if not {"rgbA", "rgbB"} <= kbs:
        print(
            f"needs the knowledge bases rgbA and rgbB in {args.data_dir}: run "
            "`bench/rgb_bench.py --pool AB --clone-b` first",
            file=sys.stderr,
        )
        return 2
    server = ModelServer(ServerConfig(settings.local_model_path, logits_all=True))
    glossary = load_glossary()
    results: dict[str, list[dict[str, Any]]] = {}
    try:
        base_url = server.base_url()
        for pool, questions in pools.items():
            service = AdvisorService(settings.model_copy(update={"kb": f"rgb{pool}"}))
            advisor = service.advisor()
            results[pool] = []
            for i, row in enumerate(questions, 1):
                started = time.perf_counter()
                query = row["query"]
                lang = question_lang(query)
                passages = advisor.retrieval_chain.invoke({"query": query, "filter": None})
                terms = glossary.translate_terms(query, lang)
                ranked, _ = decisive_sentences(query, passages, lang, terms)
                messages = build_answer_messages(
                    query, passages, lang, advisor.config, terms, ranked=ranked
                )
                pick = " ".join(d.text for d in choose(ranked, 3, 420))
                reply = ask(
                    base_url,
                    [
                        {
                            "role": "system" if isinstance(m, SystemMessage) else "user",
                            "content": str(m.content),
                        }
                        for m in messages
                    ],
                    200,
                )
                record = {"id": row["id"], "query": query, **signals(reply, pick)}
                record["correct"] = pool == "A" and correct(record["answer"], row["answer"])
                results[pool].append(record)
                print(
                    f"  {pool} {i}/{len(questions)} mean_lp {record['mean_lp']:.3f} "
                    f"figure_lp {record['figure_lp']:.3f} agree {record['agree']:.2f} "
                    f"{'ok' if record['correct'] else '--'} {time.perf_counter() - started:.1f}s",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        server.stop()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")

    a_all = results["A"]
    a_ok = [r for r in a_all if r["correct"]]
    b = results["B"]
    print(f"pool A: {len(a_all)} asked, {len(a_ok)} answered correctly; pool B: {len(b)} asked")
    print(f"{'signal':<10} {'AUC A-all/B':>11} {'AUC A-ok/B':>10} {'B refused at A-ok 5 %':>22}")
    for name in ("mean_lp", "min_lp", "figure_lp", "agree"):
        pos_all = [r[name] for r in a_all]
        pos_ok = [r[name] for r in a_ok]
        neg = [r[name] for r in b]
        threshold, share = refused_at(pos_ok, neg)
        print(
            f"{name:<10} {auc(pos_all, neg):>11.3f} {auc(pos_ok, neg):>10.3f} "
            f"{share:>15.2f} (< {threshold:.3f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
