"""Retrieval on CMRC 2018 (Chinese reading comprehension): index every passage of the 200-question
sample, ask every question, report hit@1/3/5 and MRR for the hybrid retriever and, in the same
run, for vector search alone and BM25 alone.

    .venv/bin/python bench/cmrc_bench.py [--data-dir /tmp/cmrc] [--limit N]
    .venv/bin/python bench/cmrc_bench.py --answers extractive,local --answer-limit 60

With ``--answers``, the first ``--answer-limit`` questions are also answered by each backend
named, in the same run, and an answer counts as correct when it contains one of the question's
reference answers (a span of its passage), as CMRC's exact-match is read for long answers.

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
    parser.add_argument("--answers", default="", help="backends to answer with: extractive,local")
    parser.add_argument("--answer-limit", type=int, default=60)
    parser.add_argument("--out", type=Path, help="write the answers (JSON)")
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
    if args.answers:
        answered = _answer(service, rows[: args.answer_limit], args.answers.split(","))
        if args.out:
            args.out.write_text(json.dumps(answered, ensure_ascii=False, indent=1), "utf-8")


def _answer(service, rows: list[dict], backends: list[str]) -> dict[str, list[dict]]:
    """Each backend answers the same questions; correct = a reference span in the answer."""
    out: dict[str, list[dict]] = {}
    for backend in backends:
        advisor = service.advisor(backend=backend)
        if hasattr(advisor, "warm_up"):
            advisor.warm_up()
        results = []
        started = time.perf_counter()
        for i, row in enumerate(rows, 1):
            answer = advisor.answer(row["question"])
            correct = not answer.refused and any(a in answer.answer for a in row["answers"])
            results.append(
                {
                    "id": row["id"],
                    "question": row["question"],
                    "answers": row["answers"],
                    "answer": answer.answer,
                    "refused": answer.refused,
                    "correct": correct,
                    "latency_s": round(answer.latency_s, 2),
                }
            )
            print(
                f"  {backend} {i}/{len(rows)} {'ok ' if correct else '-- '}"
                f"{'refused' if answer.refused else ''} {answer.latency_s:.1f}s",
                file=sys.stderr,
                flush=True,
            )
        n = len(results)
        ok = sum(r["correct"] for r in results)
        refused = sum(r["refused"] for r in results)
        print(
            f"answers {backend:<11} correct {ok}/{n} ({ok / n:.3f})  refused {refused}  "
            f"({(time.perf_counter() - started) / n:.1f} s/question)"
        )
        out[backend] = results
    return out


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
