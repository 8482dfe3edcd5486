"""Retrieval on CMRC 2018 (Chinese reading comprehension): index every passage of the 200-question
sample, ask every question, report hit@1/3/5 and MRR for the hybrid retriever and, in the same
run, for vector search alone and BM25 alone.

    .venv/bin/python bench/cmrc_bench.py [--data-dir /tmp/cmrc] [--limit N]

A passage is a hit when it is one of the question's positive passages. The passages are written
as .txt files and ingested with the project's own pipeline (so chunking applies: a long passage
may become several chunks; a hit is any chunk of a positive passage).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "testdata" / "qa" / "cmrc2018_dev_sample200.jsonl"


def passage_file(text: str) -> str:
    return "cmrc-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12] + ".txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/advisor-cmrc-bench"))
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()
    if not DATA.is_file():
        raise SystemExit("this benchmark needs ../shared/testdata/qa/cmrc2018_dev_sample200.jsonl")

    from advisor.service import AdvisorService
    from advisor.settings import Settings

    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    rows = rows[: args.limit] if args.limit else rows
    docs = args.data_dir / "passages"
    docs.mkdir(parents=True, exist_ok=True)
    for row in rows:
        for text in row["positive_passages"]:
            (docs / passage_file(text)).write_text(text, encoding="utf-8")

    service = AdvisorService(Settings(data_dir=args.data_dir / "data", kb="cmrc"))
    started = time.perf_counter()
    report = service.ingest([docs])
    print(
        f"indexed {len(list(docs.iterdir()))} passages -> "
        f"{service.knowledge_base().count_chunks()} chunks in {time.perf_counter() - started:.0f}"
        f" s ({report.counts()})"
    )

    retriever = service.retriever()
    modes = {
        "hybrid (vector zh+en + BM25)": lambda q: [
            p.source for p in retriever.retrieve(q, k=5, query_lang="zh")
        ],
        "vector only": lambda q: _single(retriever, q, "vector"),
        "BM25 only": lambda q: _single(retriever, q, "bm25"),
    }
    for name, search in modes.items():
        hits = {1: 0, 3: 0, 5: 0}
        reciprocal = 0.0
        started = time.perf_counter()
        for row in rows:
            wanted = {passage_file(t) for t in row["positive_passages"]}
            ranked = search(row["question"])
            rank = next((i for i, s in enumerate(ranked, 1) if s in wanted), None)
            if rank:
                reciprocal += 1 / rank
                for k in hits:
                    hits[k] += rank <= k
        per_q = (time.perf_counter() - started) / len(rows) * 1000
        n = len(rows)
        print(
            f"{name:<30} hit@1 {hits[1] / n:.3f}  hit@3 {hits[3] / n:.3f}  "
            f"hit@5 {hits[5] / n:.3f}  MRR {reciprocal / n:.3f}  ({per_q:.0f} ms/question)"
        )


def _single(retriever, query: str, mode: str) -> list[str]:
    """Sources of the top 5 from one list alone (the baselines)."""
    source = retriever.sources[0]
    source.sync()
    if mode == "bm25":
        return [h.metadata["source"] for h in source.keywords.search(query, k=5)]
    import numpy as np

    vector = np.asarray([retriever.embeddings.embed_query(query)], dtype=np.float32)
    got = source.kb.chunks.query(query_embeddings=vector, n_results=5, include=["metadatas"])
    return [m["source"] for m in got["metadatas"][0]]


if __name__ == "__main__":
    main()
