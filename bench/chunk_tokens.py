"""Where the tokens the encoder reads come from, on the long-PDF corpus of
``bench/ingest_bench.py``: the pipeline's chunks with their heading lines, the same chunks
without them, the pages' text read once, and the naive LangChain chunks (PyPDFLoader +
``RecursiveCharacterTextSplitter(500, 50)``). No embedding runs, only the encoder's tokenizer,
so it takes seconds.

    .venv/bin/python bench/chunk_tokens.py [--pages-zh 120]
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages-zh", type=int, default=120)
    args = parser.parse_args()

    from ingest_bench import build_corpus
    from langchain_community.document_loaders import PyPDFLoader
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from ingest.pipeline import IngestOptions, IngestPipeline
    from ingest.types import LoadLimits
    from ingest.worker import parse_file
    from vectorstore.embeddings import E5Embeddings

    embeddings = E5Embeddings()
    pipeline = IngestPipeline(sink=None, embedder=embeddings, options=IngestOptions())  # type: ignore[arg-type]
    splitter = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50)

    def tokens(texts: list[str]) -> int:
        return sum(embeddings.count_tokens(t) for t in texts)

    columns = (
        "chunks",
        "embedded",
        "chunk text",
        "heading lines",
        "pages once",
        "naive chunks",
        "naive",
    )
    print(f"{'file':32}" + "".join(f"{c:>14}" for c in columns))
    total = [0] * len(columns)
    headings: collections.Counter[str] = collections.Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for path in build_corpus(Path(tmp), args.pages_zh):
            screened = parse_file(path, None, LoadLimits())
            prepared = pipeline.prepare(screened, sha="-", size=path.stat().st_size)
            body = tokens([c.text for c in prepared.chunks])
            embedded = tokens(prepared.embed_texts)
            pages = PyPDFLoader(str(path)).load()
            naive = [d.page_content for d in splitter.split_documents(pages)]
            row = [
                len(prepared.chunks),
                embedded,
                body,
                embedded - body,
                embeddings.count_tokens("\n".join(p.text for p in screened.pages)),
                len(naive),
                tokens(naive),
            ]
            total = [a + b for a, b in zip(total, row, strict=True)]
            print(f"{path.name[:32]:32}" + "".join(f"{v:>14}" for v in row))
            for text, chunk in zip(prepared.embed_texts, prepared.chunks, strict=True):
                if text != chunk.text:
                    headings[text.split("\n", 1)[0]] += 1
    print(f"{'total':32}" + "".join(f"{v:>14}" for v in total))
    print("\nmost frequent heading lines (chunks, tokens, line):")
    for line, n in headings.most_common(5):
        print(f"  {n:>5} {embeddings.count_tokens(line):>4}  {line}")


if __name__ == "__main__":
    main()
