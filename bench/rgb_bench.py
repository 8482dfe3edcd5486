"""RGB zh_int (Chen et al., AAAI 2024): answers and refusals over news passages with noise.

Protocol (../shared/testdata/qa/README row, and the refusal issue):

- pool A: every positive and negative passage of all 100 questions, one knowledge base; all
  100 questions are asked. An answer is correct when it contains every part of the reference
  (each part a string or a list of acceptable strings; case-insensitive substring, as RGB
  scores). Refusing an answerable question counts as wrong.
- pool B: only the negative passages of 40 questions (chosen with ``random.Random(16)``), plus
  every passage of the other 60. The 40 are asked; their answer is nowhere in the pool, so the
  right outcome is a refusal.

Each passage is one section (one chunk) of a Markdown file of 50, ingested by the project's
pipeline; questions go through the
``batch`` command (``python -m advisor batch``) with the backend given, exactly as a user runs
it. Per-question records and the figures are written under ``--out``.

    .venv/bin/python bench/rgb_bench.py --llm extractive
    .venv/bin/python bench/rgb_bench.py --llm local --pool A --limit 30
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "testdata" / "qa" / "rgb_zh_int.json"
SEED = 16
UNANSWERABLE = 40


def load_rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]


def no_answer_ids(rows: list[dict[str, Any]]) -> set[int]:
    return set(random.Random(SEED).sample([r["id"] for r in rows], UNANSWERABLE))


def passage_name(text: str) -> str:
    return "rgb-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12] + ".txt"


def pool_passages(rows: list[dict[str, Any]], pool: str) -> set[str]:
    hidden = no_answer_ids(rows) if pool == "B" else set()
    texts: set[str] = set()
    for row in rows:
        texts.update(row["negative"])
        if row["id"] not in hidden:
            texts.update(t for group in row["positive"] for t in group)
    if hidden:  # a positive of a hidden question may also be another's: drop it anyway
        for row in rows:
            if row["id"] in hidden:
                texts.difference_update(t for group in row["positive"] for t in group)
    return texts


PACK = 50


def write_packs(folder: Path, texts: list[str]) -> None:
    """The passages as Markdown files of ``PACK`` passages, one section (one chunk) each.
    One file per passage gives the same chunks, but ingest then spends most of its time on
    5,000 files' bookkeeping (~0.7 files/s here, the open ingest issue), not on embedding."""
    for start in range(0, len(texts), PACK):
        body = "\n\n".join(
            f"## {passage_name(t)[:-4]}\n\n{t.strip()}" for t in texts[start : start + PACK]
        )
        path = folder / f"pack-{start // PACK:03d}.md"
        if not path.exists() or path.read_text(encoding="utf-8") != body:
            path.write_text(body, encoding="utf-8")


def section_of(text: str) -> str:
    return passage_name(text)[:-4]


def clone_without(data_dir: Path, source: str, target: str, keep: set[str]) -> None:
    """Pool B from pool A's chunks and vectors: every pack with the chunks of the passages
    not in pool B left out (ingesting 5,000 passages again costs ~20 minutes here)."""
    sys.path.insert(0, str(ROOT))
    from advisor.service import AdvisorService
    from advisor.settings import Settings

    started = time.perf_counter()
    service = AdvisorService(Settings(data_dir=data_dir, llm="extractive"))
    a, b = service.knowledge_base(source), service.knowledge_base(target)
    if b.list_documents():
        print(f"  ({target} already built)")
        return
    kept = 0
    for record in a.raw_catalogue():
        if record.get("dirty") or not record.get("sha256"):
            continue
        chunks = [
            c
            for c in a.iter_chunks(where={"doc_id": record["doc_id"]}, embeddings=True)
            if str(c.metadata.get("section", "")).split(" > ")[-1] in keep
        ]
        if chunks:
            b.restore_document({**record, "chunks": len(chunks)}, chunks)
            kept += len(chunks)
    print(f"  ({time.perf_counter() - started:.0f} s: {kept} chunks of {source} -> {target})")


def correct(answer: str, parts: list[Any]) -> bool:
    text = answer.lower()
    for part in parts:
        options = part if isinstance(part, list) else [part]
        if not any(str(o).lower() in text for o in options):
            return False
    return True


def run(cmd: list[str], env: dict[str, str]) -> None:
    started = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)
    print(f"  ({time.perf_counter() - started:.0f} s: {' '.join(cmd[3:5])})", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--llm", default="extractive", choices=["extractive", "local", "openai"])
    parser.add_argument("--pool", default="AB", help="A, B or AB")
    parser.add_argument("--limit", type=int, help="ask only the first N questions of each pool")
    parser.add_argument(
        "--only-refused-in",
        type=Path,
        help="ask only the questions a scored_*.jsonl file shows refused by the support check",
    )
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/advisor-rgb"))
    parser.add_argument("--out", type=Path, default=Path("/tmp/advisor-rgb/results"))
    parser.add_argument("--tag", default="", help="a name for this run's result files")
    parser.add_argument(
        "--clone-b",
        action="store_true",
        help="build pool B from pool A's chunks and vectors instead of ingesting it",
    )
    parser.add_argument(
        "--no-support-check", action="store_true", help="measure without the support check"
    )
    args = parser.parse_args()
    if not DATA.is_file():
        raise SystemExit("this benchmark needs ../shared/testdata/qa/rgb_zh_int.json")
    rows = load_rows()
    hidden = no_answer_ids(rows)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
    env.update(ADVISOR_DATA_DIR=str(args.data_dir / "data"), ADVISOR_LLM=args.llm)
    if args.no_support_check:
        env["ADVISOR_SUPPORT_CHECK"] = "false"
    for key in ("ADVISOR_OPENAI_BASE_URL", "ADVISOR_OPENAI_API_KEY", "ADVISOR_MODEL"):
        if key in os.environ:
            env[key] = os.environ[key]
    args.out.mkdir(parents=True, exist_ok=True)
    py = [sys.executable, "-m", "advisor"]
    summary: dict[str, Any] = {
        "llm": args.llm,
        "seed": SEED,
        "support_check": not args.no_support_check,
    }
    for pool in args.pool:
        folder = args.data_dir / f"pool{pool}"
        folder.mkdir(parents=True, exist_ok=True)
        texts = sorted(pool_passages(rows, pool), key=passage_name)
        print(f"pool {pool}: {len(texts)} passages", flush=True)
        if pool == "B" and args.clone_b:
            clone_without(args.data_dir / "data", "rgbA", "rgbB", set(map(section_of, texts)))
        else:
            write_packs(folder, texts)
            run([*py, "ingest", str(folder), "--kb", f"rgb{pool}", "--kind", "case"], env)
        asked = [r for r in rows if pool == "A" or r["id"] in hidden][: args.limit]
        if args.only_refused_in:
            refused_ids = {
                int(json.loads(line)["id"])
                for line in args.only_refused_in.read_text(encoding="utf-8").splitlines()
                if '"refused": true' in line
            }
            asked = [r for r in asked if r["id"] in refused_ids]
        questions = args.out / f"questions_{pool}.jsonl"
        questions.write_text(
            "".join(json.dumps({"id": r["id"], "question": r["query"]}) + "\n" for r in asked),
            encoding="utf-8",
        )
        out = args.out / f"answers_{pool}_{args.llm}{args.tag}.jsonl"
        out.unlink(missing_ok=True)
        run([*py, "batch", str(questions), "--out", str(out), "--kb", f"rgb{pool}"], env)
        records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        by_id = {r["id"]: r for r in rows}
        right = refused = 0
        for record in records:
            row = by_id[int(record["id"])]
            record["correct"] = not record["refused"] and correct(record["answer"], row["answer"])
            record["reference"] = row["answer"]
            right += record["correct"]
            refused += bool(record["refused"])
        n = len(records)
        latency = sorted(r["latency_s"] for r in records)
        figures = {
            "questions": n,
            "correct": right,
            "refused": refused,
            "accuracy": round(right / n, 3),
            "refusal_rate": round(refused / n, 3),
            "latency_p50_s": latency[n // 2],
            "latency_p95_s": latency[min(n - 1, int(0.95 * n))],
        }
        summary[f"pool_{pool}"] = figures
        (args.out / f"scored_{pool}_{args.llm}{args.tag}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
        )
        label = "answerable" if pool == "A" else "unanswerable (answer removed from the pool)"
        print(
            f"pool {pool} [{args.llm}] {n} {label}: correct {right} ({right / n:.0%}), "
            f"refused {refused} ({refused / n:.0%}), p50 {figures['latency_p50_s']:.1f} s",
            flush=True,
        )
    (args.out / f"summary_{args.llm}{args.tag}.json").write_text(
        json.dumps(summary, indent=1), encoding="utf-8"
    )
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
