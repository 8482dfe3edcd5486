"""Does the model add and never lose? Two `advisor eval` result files of the same question set
(e.g. extractive and local), compared key fact by key fact.

    .venv/bin/python bench/compare_backends.py docs/eval_extractive.json docs/eval_local.json

For every answerable question where the first backend's answer holds a key fact, is it in the
second backend's answer too? Prints the share of such questions (and of facts), per language,
and lists the questions where the second lost a fact, with the fact.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument("--set", type=Path, default=ROOT / "bench" / "eval_set.jsonl")
    args = parser.parse_args()
    from advisor.evaluation import fact_found, load_eval_set

    items = {i.id: i for i in load_eval_set(args.set)}
    first = {r["id"]: r for r in json.loads(args.first.read_text(encoding="utf-8"))["items"]}
    second = {r["id"]: r for r in json.loads(args.second.read_text(encoding="utf-8"))["items"]}
    kept: dict[str, list[int]] = {}  # lang -> [questions kept, questions with a fact]
    lost_rows = []
    for qid, item in items.items():
        a, b = first.get(qid), second.get(qid)
        if not item.answerable or a is None or b is None:
            continue
        held = [f for f in item.key_facts if not a["refused"] and fact_found(a["answer"], f)]
        if not held:
            continue
        lost = [f for f in held if b["refused"] or not fact_found(b["answer"], f)]
        counts = kept.setdefault(item.lang, [0, 0])
        counts[0] += not lost
        counts[1] += 1
        if lost:
            lost_rows.append((qid, [f[0] for f in lost]))
    total_kept = sum(k for k, _ in kept.values())
    total = sum(n for _, n in kept.values())
    print(f"{args.second.name} keeps every key fact {args.first.name} has in ", end="")
    print(f"{total_kept}/{total} questions ({total_kept / max(1, total):.0%})")
    for lang, (k, n) in sorted(kept.items()):
        print(f"  {lang}: {k}/{n}")
    for qid, facts in lost_rows:
        print(f"  lost in {qid}: {', '.join(facts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
