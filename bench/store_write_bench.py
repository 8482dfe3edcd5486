"""The cost of one store write by group size: ``KnowledgeBase.write_documents`` with N new
one-chunk documents, against N single-document writes (the baseline: ingest before groups).

    .venv/bin/python bench/store_write_bench.py [--sizes 1,16,64,128,256] [--rounds 2]

Real embedded Chroma in a temporary folder, random unit vectors (the embedder is not measured
here). The figure that matters is the time per document: it says how large a group must be
before writing stops costing a noticeable share of embedding (~0.1 s per chunk on 2 cores).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


SINGLE_WRITES = 32


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,16,64,128,256")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from ingest.types import Chunk, PreparedDocument
    from vectorstore.store import KnowledgeBase, open_chroma_client

    rng = np.random.default_rng(0)
    serial = 0

    def documents(n: int) -> list[tuple[PreparedDocument, np.ndarray]]:
        nonlocal serial
        out = []
        for _ in range(n):
            serial += 1
            text = f"第{serial}号纪要：学校与合作企业商定共建实训基地。"
            doc = PreparedDocument(
                source=f"note-{serial}.txt",
                sha256=f"{serial:064d}",
                kind="other",
                lang="zh",
                title=f"note-{serial}",
                page_count=1,
                size_bytes=len(text.encode()),
                chunks=[Chunk(text=text, page=None, section="", lang="zh", index=0)],
                embed_texts=[text],
            )
            vector = rng.normal(size=(1, 384)).astype(np.float32)
            out.append((doc, vector / np.linalg.norm(vector)))
        return out

    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(open_chroma_client(path=str(Path(tmp) / "chroma")), "bench")
        kb.write_documents(documents(50))  # a store that is not empty, and Chroma warmed up
        grouped: dict[int, float] = {}
        single = 1e9
        for _ in range(args.rounds):
            for n in sizes:
                items = documents(n)
                started = time.perf_counter()
                kb.write_documents(items)
                grouped[n] = min(grouped.get(n, 1e9), time.perf_counter() - started)
            items = documents(SINGLE_WRITES)
            started = time.perf_counter()
            for item in items:
                kb.write_documents([item])
            single = min(single, (time.perf_counter() - started) / SINGLE_WRITES)
        print(f"baseline, one write per document: {single * 1000:.1f} ms/doc")
        print(f"{'documents':>9}{'one write (s)':>15}{'ms/doc':>9}{'vs baseline':>13}")
        for n in sizes:
            per_doc = grouped[n] / n
            print(f"{n:>9}{grouped[n]:>15.3f}{per_doc * 1000:>9.1f}{single / per_doc:>12.1f}x")


if __name__ == "__main__":
    main()
