"""Comparison tables (advisor/compare.py) on questions with known columns and cell facts.

For each question of bench/compare_eval.jsonl, with each backend: whether the columns are the
expected documents (chosen from the question alone), the share of expected facts found in each
column's cells, whether every cell quotes its chunk verbatim and cites its own document, how
many cells say "not addressed", and the time. Corpus: the 12 laws of ../shared/testdata/zh_policy
and the project's three regulations (devkit/regulations.py), in a data folder of its own.

    .venv/bin/python bench/compare_bench.py [--backends extractive,local] [--out FILE.json]
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

from advisor.errors import AdvisorError  # noqa: E402
from advisor.service import AdvisorService  # noqa: E402
from advisor.settings import Settings  # noqa: E402
from devkit.regulations import write_regulations  # noqa: E402

LAWS = ROOT.parent / "shared" / "testdata" / "zh_policy"


def run(service: AdvisorService, backend: str, row: dict) -> dict:
    started = time.perf_counter()
    try:
        table = service.compare(row["question"], backend=backend)
    except AdvisorError as exc:
        return {"id": row["id"], "backend": backend, "error": str(exc)}
    seconds = time.perf_counter() - started
    expected = row["columns"]
    sources = [c.source for c in table.columns]
    found = total = 0
    for i, column in enumerate(table.columns):
        cells = " ".join(
            cell.text for a in table.aspects if (cell := table.cells[a.key][i]) is not None
        )
        for fact in expected.get(column.source, []):
            total += 1
            found += fact in cells
    total = sum(len(v) for v in expected.values())
    by_n = {c.n: c for c in table.citations}
    cells = [
        (i, cell)
        for a in table.aspects
        for i, cell in enumerate(table.cells[a.key])
        if cell is not None
    ]
    valid = sum(
        1
        for i, cell in cells
        if by_n[cell.n].source == table.columns[i].source
        and by_n[cell.n].quote in table.contexts[cell.n - 1].text
        and cell.text.rstrip("…") in by_n[cell.n].quote
    )
    empty = sum(1 for a in table.aspects for cell in table.cells[a.key] if cell is None)
    return {
        "id": row["id"],
        "backend": backend,
        "columns_right": sorted(sources) == sorted(expected),
        "columns": sources,
        "facts": f"{found}/{total}",
        "facts_share": round(found / total, 3) if total else None,
        "cells": len(cells),
        "cells_valid": len(cells) and valid / len(cells),
        "not_addressed": empty,
        "rows": [a.key for a in table.aspects],
        "overview": table.overview,
        "seconds": round(seconds, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="extractive,local")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench_compare.json")
    args = parser.parse_args()
    rows = [
        json.loads(line) for line in (ROOT / "bench" / "compare_eval.jsonl").open(encoding="utf-8")
    ]
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        service = AdvisorService(Settings(data_dir=data / "data", llm="extractive"))
        started = time.perf_counter()
        report = service.ingest([LAWS, *write_regulations(data / "regs")])
        print(f"ingest: {len(report.outcomes)} files in {time.perf_counter() - started:.0f} s")
        results = []
        for backend in args.backends.split(","):
            for row in rows:
                result = run(service, backend, row)
                results.append(result)
                print(
                    json.dumps(
                        {k: v for k, v in result.items() if k != "overview"}, ensure_ascii=False
                    )
                )
                if result.get("overview"):
                    print("  overview:", result["overview"][:300].replace("\n", " "))
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"-> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
