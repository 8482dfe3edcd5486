"""Load: N concurrent sessions asking and ingesting against one deployment, against the same
sessions run one after the other (the baseline, measured in the same run).

    .venv/bin/python bench/load.py [--sessions 8] [--admins 2] [--rounds 2]
        [--llm local|extractive|echo] [--chroma-url http://127.0.0.1:8000]
        [--out docs/load_local.json] [--chart docs/load_local.png]

The scenario is devkit/load_scenario.py (the load test asserts on it): administrators ingest
policies into the shared knowledge base while members add their own plans and ask about them
and about the shared knowledge base; every answer is checked for cross-talk. A session is a
thread working through one AdvisorService, as Streamlit sessions of one app process do. With
``--llm local`` the bundled model answers (its own process, one generation at a time), so
throughput is bounded by the model; ``echo`` is a fake model that answers with
the top passage at once, which leaves what the rest of the deployment costs.
Prints throughput and p50/p95 per operation; writes the figures as JSON and a chart.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build_service(data_dir: Path, llm: str, chroma_url: str | None, embeddings):
    from advisor.service import AdvisorService
    from advisor.settings import Settings

    backend = "extractive" if llm == "echo" else llm
    settings = Settings(data_dir=data_dir, llm=backend, chroma_url=chroma_url or None)
    service = AdvisorService(settings, embeddings=embeddings)
    if llm == "echo":
        from devkit.fakes import PassageEchoChat

        service.use_chat_model(PassageEchoChat(), "passage-echo (fake)")
    return service


class GenerationClock:
    """Time the local model spends on each answer (prompt evaluation and generation in the
    model process, while the compute gate is held), to tell queueing from a model slowed down
    by the load."""

    def __init__(self) -> None:
        import threading

        from advisor.llm import LocalServerChat

        self.seconds: list[float] = []
        self._lock = threading.Lock()
        original = LocalServerChat._stream
        clock = self

        def timed(chat, *args, **kwargs):  # type: ignore[no-untyped-def]
            began = time.perf_counter()
            yield from original(chat, *args, **kwargs)
            with clock._lock:
                clock.seconds.append(time.perf_counter() - began)

        LocalServerChat._stream = timed  # type: ignore[method-assign]

    def take(self) -> list[float]:
        with self._lock:
            taken, self.seconds = self.seconds, []
        return taken


def chart(baseline: dict, loaded: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = [k for k in loaded["latency_s"] if k in baseline["latency_s"]]
    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=120)
    width = 0.2
    for n, (label, data, colour) in enumerate(
        [
            ("one at a time p50", baseline, "#90caf9"),
            ("one at a time p95", baseline, "#1565c0"),
            (f"{loaded['sessions']} sessions p50", loaded, "#ffcc80"),
            (f"{loaded['sessions']} sessions p95", loaded, "#e65100"),
        ]
    ):
        key = "p50" if "p50" in label else "p95"
        values = [data["latency_s"][k][key] for k in kinds]
        ax.bar(
            [i + (n - 1.5) * width for i in range(len(kinds))],
            values,
            width,
            label=label,
            color=colour,
        )
    ax.set_xticks(range(len(kinds)), kinds)
    ax.set_ylabel("seconds")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--admins", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--llm", choices=["local", "extractive", "echo"], default="local")
    parser.add_argument("--chroma-url", default="")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--chart", type=Path)
    args = parser.parse_args()

    from devkit.load_scenario import SHARED_QUESTIONS, percentiles_table, run_scenario, seed
    from vectorstore.embeddings import E5Embeddings

    embeddings = E5Embeddings()
    embeddings.embed_query("warm up")
    clock = GenerationClock() if args.llm == "local" else None
    results = {}
    with tempfile.TemporaryDirectory(prefix="advisor-load-bench-") as folder_name:
        folder = Path(folder_name)
        for label, concurrent in [("baseline", False), ("loaded", True)]:
            data_dir = folder / label
            service = build_service(data_dir, args.llm, args.chroma_url, embeddings)
            seed(service, folder)
            advisor = service.advisor()
            if args.llm == "local":  # as the app does when it loads the model
                advisor.warm_up()
            advisor.answer(SHARED_QUESTIONS[0])  # indexes loaded, as in a running app
            if clock:
                clock.take()
            run_id = f"{label[:1]}{int(time.time()) % 10000:04d}"
            result = run_scenario(
                service,
                sessions=args.sessions,
                admins=args.admins,
                rounds=args.rounds,
                run_id=run_id,
                concurrent=concurrent,
            )
            how = "concurrent" if concurrent else "one after the other (baseline)"
            print(
                f"\n== {label}: {args.sessions} sessions {how}, {args.admins} ingesting, "
                f"llm={args.llm}"
            )
            print(percentiles_table(result))
            summary = result.summary()
            if clock:
                generating = clock.take()
                summary["generation_s"] = {
                    "n": len(generating),
                    "total": round(sum(generating), 1),
                    "mean": round(sum(generating) / max(len(generating), 1), 2),
                    "share_of_wall": round(sum(generating) / result.wall_s, 2),
                }
                print(f"model busy per answer (prompt + generation): {summary['generation_s']}")
            print(
                f"wall {summary['wall_s']} s · {summary['answers']} answers · "
                f"{summary['answers_per_min']} answers/min · {summary['ops_per_s']} ops/s · "
                f"errors {summary['errors']} · cross-talk {summary['crosstalk']}"
            )
            for problem in result.errors + result.crosstalk:
                print("  !", problem[:300])
            results[label] = summary
    baseline = results.pop("baseline")
    report = {
        "command": "bench/load.py " + " ".join(sys.argv[1:]),
        "llm": args.llm,
        "store": args.chroma_url or "embedded Chroma",
        "baseline": baseline,
        "loaded": results["loaded"],
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    if args.chart:
        chart(
            baseline,
            results["loaded"],
            args.chart,
            f"Latency per operation: {args.sessions} sessions one at a time vs concurrent "
            f"(llm={args.llm})",
        )


if __name__ == "__main__":
    main()
