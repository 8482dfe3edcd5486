"""Embedding throughput of the two ways to use the cores: one text per call on all cores (the
engine's OpenMP threads; the naive baseline's way) against worker threads side by side, one
core each (the project's ingest, ``E5Embeddings(workers=N)``), with a few batch sizes.

    .venv/bin/python bench/embed_workers_bench.py [--trials 2] [--texts 320] [--slice 64] \
        [--corpus laws|long-pdfs]

The texts are the pipeline's texts (heading line + chunk) for the 12 laws (short articles) or
for the long-PDF corpus of bench/ingest_bench.py (longer chunks). They are cut into
slices of ``--slice`` texts; every variant embeds each slice in turn, so that variants measured
side by side share the machine's drift (tens of per cent over minutes here). Reported: median
tokens/s, and the median over slices of each variant's speed over the baseline's on the same
slice. The vectors of every variant are checked equal to the baseline's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2)
    parser.add_argument("--texts", type=int, default=320)
    parser.add_argument("--slice", type=int, default=64)
    parser.add_argument("--corpus", choices=("laws", "long-pdfs"), default="laws")
    args = parser.parse_args()

    import numpy as np
    from ingest_bench import build_corpus, build_laws

    from ingest.pipeline import IngestOptions, IngestPipeline
    from ingest.types import LoadLimits
    from ingest.worker import parse_file
    from vectorstore.embeddings import E5Embeddings, usable_cpus

    baseline = E5Embeddings(workers=1)
    workers = E5Embeddings()
    with tempfile.TemporaryDirectory() as tmp:
        if args.corpus == "laws":
            files = build_laws(Path(tmp) / "laws")
        else:
            files = build_corpus(Path(tmp), 120)
        pipeline = IngestPipeline(None, baseline, IngestOptions())  # type: ignore[arg-type]
        texts: list[str] = []
        for path in files:
            texts += pipeline.prepare(
                parse_file(path, None, LoadLimits()), sha="0", size=0
            ).embed_texts
    texts = texts[:: max(1, len(texts) // args.texts)][: args.texts]

    def with_workers(batch: int):
        return lambda ts: workers.embed_passages(ts, batch_size=batch)

    variants = {
        "one text per call, all cores (baseline)": lambda ts: baseline.embed_passages(
            ts, batch_size=1
        )
    }
    for batch in (1, 2, 4, 8):
        variants[f"{workers.workers} workers, {batch} per call"] = with_workers(batch)
    print(
        f"{args.corpus}: {len(texts)} texts, usable CPUs {usable_cpus()}, workers {workers.workers}"
    )
    reference = baseline.embed_passages(texts[: args.slice], batch_size=1)
    for name, run in variants.items():
        assert np.allclose(run(texts[: args.slice]), reference, atol=1e-6), name
    speed: dict[str, list[float]] = {name: [] for name in variants}
    slices = [texts[i : i + args.slice] for i in range(0, len(texts), args.slice)]
    for _ in range(args.trials):
        for part in slices:
            tokens = sum(baseline.count_tokens(t) for t in part)
            for name, run in variants.items():
                started = time.perf_counter()
                run(part)
                speed[name].append(tokens / (time.perf_counter() - started))
    base = speed["one text per call, all cores (baseline)"]
    print(f"{'variant':<42}{'tok/s (median)':>16}{'vs baseline (median)':>22}")
    for name, values in speed.items():
        ratio = statistics.median(v / b for v, b in zip(values, base, strict=True))
        print(f"{name:<42}{statistics.median(values):>16.0f}{ratio:>22.3f}")


if __name__ == "__main__":
    main()
