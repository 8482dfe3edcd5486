"""Does the model add and never lose? Two `advisor eval` result files of the same question set
(e.g. extractive and local), compared key fact by key fact.

    .venv/bin/python bench/compare_backends.py docs/eval_extractive.json docs/eval_local.json

For every answerable question where the first backend's answer holds a key fact, is it in the
second backend's answer too? Prints the share of such questions (and of facts), per language,
and lists the questions where the second lost a fact, with the fact. Then the two side by
side, per language and per question type (key facts, refusals), and with ``--chart PNG`` the
same as a bar chart.
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
    parser.add_argument("--chart", type=Path, help="write a bar chart of key facts by type (PNG)")
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
    runs = {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in (args.first, args.second)
    }
    side_by_side(runs)
    if args.chart:
        chart(runs, args.chart)
    return 0


_COLUMNS = (
    ("key_fact_coverage", "key facts"),
    ("answerable_refused", "answerable refused"),
    ("unanswerable_refused", "unanswerable refused"),
)


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def side_by_side(runs: dict[str, dict]) -> None:
    """A Markdown table per grouping: one row per group, the runs' figures next to each other."""
    names = list(runs)
    for grouping in ("languages", "types"):
        groups = sorted({g for run in runs.values() for g in run.get(grouping, {})})
        head = " | ".join(f"{label} {name}" for _, label in _COLUMNS for name in names)
        print(f"\n| {grouping[:-1]} | n | {head} |")
        print("|---|---:|" + "---:|" * (len(_COLUMNS) * len(names)))
        for group in groups:
            figures = [runs[name].get(grouping, {}).get(group, {}) for name in names]
            n = next((f.get("questions") for f in figures if f), 0)
            cells = " | ".join(_cell(f.get(key)) for key, _ in _COLUMNS for f in figures)
            print(f"| {group} | {n} | {cells} |")


def chart(runs: dict[str, dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(runs)
    groups = [
        g
        for g in sorted({g for run in runs.values() for g in run.get("types", {})})
        if any(runs[n]["types"].get(g, {}).get("key_fact_coverage") is not None for n in names)
    ]
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        values = [runs[name]["types"].get(g, {}).get("key_fact_coverage") or 0.0 for g in groups]
        ax.bar([x + i * width for x in range(len(groups))], values, width, label=name)
    ax.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(groups))], groups)
    ax.set_ylim(0, 1)
    ax.set_ylabel("key-fact coverage")
    ax.set_title("Key facts by question type (answerable questions)")
    ax.axhline(0.75, color="grey", linestyle="--", linewidth=0.8)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"\nchart: {path}")


if __name__ == "__main__":
    sys.exit(main())
