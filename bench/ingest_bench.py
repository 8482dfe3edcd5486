"""Ingest benchmark: the project's pipeline against embedding alone and a naive LangChain
pipeline, on the same ~200 text pages, in one run.

    .venv/bin/python bench/ingest_bench.py [--pages-zh 120] [--out docs/bench_ingest.json]

Corpus (~180 text pages): four English text PDFs from ../shared/testdata (among them the 76-page
``failure-after-repair.pdf``) plus a Chinese PDF generated (reportlab, CID font) from the 12
laws in ../shared/testdata/zh_policy.
Prints pages/s, chunks/s and the time split (parse / chunk / embed / write).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared" / "testdata"


def build_corpus(folder: Path, zh_pages: int) -> list[Path]:
    from tests.support.pdfgen import write_pdf

    if not SHARED.is_dir():
        raise SystemExit("this benchmark needs ../shared/testdata (the shared test corpus)")
    english = []
    for name in (
        "unstructured-example-docs/failure-after-repair.pdf",  # the 76-page text PDF
        "pdfplumber-tests/federal-register-2020-17221.pdf",
        "pdfplumber-tests/issue-316-example.pdf",
        "pdfminer-samples/naacl06-shinyama.pdf",
    ):
        english.append(folder / Path(name).name)
        shutil.copy(SHARED / "pdfs" / name, english[-1])
    lines: list[str] = []
    for law in sorted((SHARED / "zh_policy").glob("*.md")):
        body = law.read_text(encoding="utf-8").split("<!-- INFO END -->", 1)[-1]
        lines += [ln.lstrip("# ").strip() for ln in body.splitlines() if ln.strip()]
    # ~45 lines of 38 characters fit on a page; pack paragraphs into pages of ~1,400 chars
    pages, current = [], ""
    for line in lines:
        if len(current) + len(line) > 1400:
            pages.append(current)
            current = ""
        current += line + "\n"
        if len(pages) >= zh_pages:
            break
    chinese = write_pdf(folder / "zh_policy_compilation.pdf", pages[:zh_pages], chinese=True)
    return [*english, chinese]


def run_pipeline(files: list[Path], data: Path, embeddings) -> dict:
    from advisor.service import AdvisorService
    from advisor.settings import Settings

    service = AdvisorService(Settings(data_dir=data), embeddings=embeddings)
    started = time.perf_counter()
    report = service.ingest(files)
    wall = time.perf_counter() - started
    assert report.ok, [(o.source, o.message) for o in report.failed]
    kb = service.knowledge_base()
    # the texts the embedder read, to time embedding alone on exactly the same input
    from ingest.pipeline import IngestPipeline
    from ingest.worker import parse_file

    pipeline = IngestPipeline(kb, embeddings, service.ingest_options())
    embed_texts: list[str] = []
    for path in files:
        screened = parse_file(path, None, _limits())
        embed_texts += pipeline.prepare(screened, sha="0" * 64, size=0).embed_texts
    return {
        "wall_s": wall,
        "pages": sum(o.pages for o in report.outcomes),
        "chunks": kb.count_chunks(),
        "split_s": {k: report.total(k) for k in ("parse", "chunk", "embed", "write")},
        "per_file": {
            o.source: {"pages": o.pages, "chunks": o.chunks, "s": sum(o.timings.values())}
            for o in report.outcomes
        },
        "embed_texts": embed_texts,
    }


def _limits():
    from ingest.types import LoadLimits

    return LoadLimits()


def run_embedding_alone(texts: list[str], embeddings) -> dict:
    started = time.perf_counter()
    embeddings.embed_passages(texts, batch_size=16)
    return {"wall_s": time.perf_counter() - started, "chunks": len(texts)}


def run_naive_langchain(files: list[Path], data: Path, embeddings) -> dict:
    """PyPDFLoader + RecursiveCharacterTextSplitter + Chroma.from_documents."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_community.document_loaders import PyPDFLoader
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    started = time.perf_counter()
    docs = []
    for path in files:
        docs += PyPDFLoader(str(path)).load()
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=100)
    chunks = splitter.split_documents(docs)
    client = chromadb.PersistentClient(
        path=str(data), settings=ChromaSettings(anonymized_telemetry=False)
    )
    Chroma.from_documents(chunks, embedding=embeddings, client=client, collection_name="naive")
    return {"wall_s": time.perf_counter() - started, "pages": len(docs), "chunks": len(chunks)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages-zh", type=int, default=120)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from vectorstore.embeddings import E5Embeddings

    embeddings = E5Embeddings()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        files = build_corpus(tmp_path, args.pages_zh)
        ours = run_pipeline(files, tmp_path / "ours", embeddings)
        alone = run_embedding_alone(ours.pop("embed_texts"), embeddings)
        naive = run_naive_langchain(files, tmp_path / "naive", embeddings)

    pages = ours["pages"]
    print(f"corpus: {len(files)} PDFs, {pages} pages")
    print(f"{'run':<34}{'seconds':>9}{'pages/s':>9}{'chunks':>8}{'chunks/s':>10}")
    for name, r, p in (
        ("pipeline (this project)", ours, pages),
        ("embedding alone (same chunks)", alone, pages),
        ("naive LangChain (PyPDFLoader+RCTS)", naive, naive["pages"]),
    ):
        print(
            f"{name:<34}{r['wall_s']:>9.1f}{p / r['wall_s']:>9.2f}{r['chunks']:>8}"
            f"{r['chunks'] / r['wall_s']:>10.2f}"
        )
    split = ours["split_s"]
    other = ours["wall_s"] - sum(split.values())
    print(
        "pipeline split: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in split.items())
        + f", other {other:.1f} s"
    )
    print(f"pipeline / embedding alone: {ours['wall_s'] / alone['wall_s']:.3f}")
    for source, row in ours["per_file"].items():
        print(f"  {source}: {row['pages']} pages, {row['chunks']} chunks, {row['s']:.1f} s")
    if args.out:
        args.out.write_text(
            json.dumps({"ours": ours, "embedding_alone": alone, "naive": naive}, indent=1)
        )


if __name__ == "__main__":
    main()
