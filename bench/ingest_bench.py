"""Ingest benchmark: the project's pipeline against embedding alone and a naive LangChain
pipeline, with the same embedder, on each corpus, in one run.

    .venv/bin/python bench/ingest_bench.py [--corpora long-pdfs,laws,small] [--small-files 1000]
        [--pages-zh 120] [--repeat 2] [--out docs/bench_ingest.json]

Corpora (each needs ../shared/testdata):
- ``long-pdfs`` (~180 text pages): four English text PDFs from ../shared/testdata (among them
  the 76-page ``failure-after-repair.pdf``) plus a Chinese PDF generated (reportlab, CID font)
  from the 12 laws in ../shared/testdata/zh_policy;
- ``laws``: the 12 laws of ../shared/testdata/zh_policy as they are (.md);
- ``small``: ``--small-files`` one-article .txt files cut from those laws (a college's folder
  of short notes and announcements).

The naive pipeline is what a user would write by hand: PyPDFLoader / TextLoader,
``RecursiveCharacterTextSplitter(500, 50)``, ``Chroma.from_documents``. The pipeline's time is
split by stage (hash and catalogue look-up, parse in the worker, chunk, embed, write, and the
rest: bookkeeping), with the time per file outside embedding.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared" / "testdata"


def _cpu_s() -> float:
    """CPU seconds of this process and its waited-for children (the parse worker)."""
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _steal_s() -> float:
    """CPU seconds the hypervisor gave to other guests, over all cores (/proc/stat "steal")."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class _Meter:
    """Wall, CPU and stolen seconds of a run: this machine's speed drifts by tens of per cent
    between runs, and the stolen time says how much of that drift came from other guests."""

    def __enter__(self) -> _Meter:
        self.wall, self.cpu, self.steal = time.perf_counter(), _cpu_s(), _steal_s()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = _cpu_s() - self.cpu
        self.steal = _steal_s() - self.steal

    def figures(self) -> dict:
        return {"wall_s": self.wall, "cpu_s": self.cpu, "steal_s": self.steal}


def build_corpus(folder: Path, zh_pages: int) -> list[Path]:
    from devkit.pdfgen import write_pdf

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


_ARTICLE_START = re.compile(r"^\**第[一二三四五六七八九十百千零〇]+条", re.M)


def law_bodies() -> dict[str, str]:
    if not SHARED.is_dir():
        raise SystemExit("this benchmark needs ../shared/testdata (the shared test corpus)")
    return {
        law.stem: law.read_text(encoding="utf-8").split("<!-- INFO END -->", 1)[-1]
        for law in sorted((SHARED / "zh_policy").glob("*.md"))
    }


def build_laws(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for law in sorted((SHARED / "zh_policy").glob("*.md")):
        out.append(folder / law.name)
        shutil.copy(law, out[-1])
    return out


def build_small_files(folder: Path, n: int) -> list[Path]:
    """``n`` .txt files of one article each (~100-300 characters), cut from the 12 laws; when
    the laws hold fewer articles, they are used again with the law's name as a first line, so
    that every file's text differs."""
    folder.mkdir(parents=True, exist_ok=True)
    articles: list[tuple[str, str]] = []
    for name, body in law_bodies().items():
        starts = [m.start() for m in _ARTICLE_START.finditer(body)] + [len(body)]
        for i, (a, b) in enumerate(itertools.pairwise(starts)):
            text = body[a:b].strip().replace("**", "")
            if text:
                articles.append((f"{name}-{i + 1:03d}", text))
    if not articles:
        raise SystemExit("no article (第…条) found in ../shared/testdata/zh_policy")
    files = []
    round_ = 0
    while len(files) < n:
        for stem, text in articles:
            if len(files) >= n:
                break
            path = folder / (f"{stem}.txt" if round_ == 0 else f"{stem}-{round_}.txt")
            head = "" if round_ == 0 else f"{stem.rsplit('-', 1)[0]}（汇编 {round_}）\n"
            path.write_text(head + text + "\n", encoding="utf-8")
            files.append(path)
        round_ += 1
    return files


def run_pipeline(files: list[Path], data: Path, embeddings, background: bool = True) -> dict:
    from advisor.service import AdvisorService
    from advisor.settings import Settings

    service = AdvisorService(Settings(data_dir=data), embeddings=embeddings)
    service.knowledge_base()  # Chroma imported and opened before the clock (as the naive run)
    options = service.ingest_options()
    options.background = background
    with _Meter() as meter:
        report = service.ingest(files, options=options)
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
        **meter.figures(),
        "pages": sum(o.pages for o in report.outcomes),
        "chunks": kb.count_chunks(),
        # "embed" and "write" run in the group runner's thread (they overlap the caller's
        # parse and chunk of the next group); "wait" is what the caller waited for them
        "split_s": {
            k: report.total(k) for k in ("hash", "parse", "chunk", "embed", "write", "wait")
        },
        "files": len(report.outcomes),
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
    from advisor.settings import Settings

    with _Meter() as meter:
        embeddings.embed_passages(texts, batch_size=Settings().embed_batch or None)  # as ingest
    return {**meter.figures(), "chunks": len(texts), "tokens": _tokens(texts, embeddings)}


def _tokens(texts: list[str], embeddings) -> int:
    """Tokens the encoder reads (its cost is about linear in them for chunks this short)."""
    return sum(embeddings.count_tokens(t) for t in texts)


def run_naive_langchain(files: list[Path], data: Path, embeddings) -> dict:
    """PyPDFLoader / TextLoader + RecursiveCharacterTextSplitter(500, 50) +
    Chroma.from_documents, as a user would write it."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_community.document_loaders import PyPDFLoader, TextLoader
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    with _Meter() as meter:
        docs = []
        for path in files:
            if path.suffix.lower() == ".pdf":
                docs += PyPDFLoader(str(path)).load()
            else:
                docs += TextLoader(str(path), encoding="utf-8").load()
        splitter = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50)
        chunks = splitter.split_documents(docs)
        client = chromadb.PersistentClient(
            path=str(data), settings=ChromaSettings(anonymized_telemetry=False)
        )
        Chroma.from_documents(chunks, embedding=embeddings, client=client, collection_name="naive")
    tokens = _tokens([c.page_content for c in chunks], embeddings)
    return {**meter.figures(), "pages": len(docs), "chunks": len(chunks), "tokens": tokens}


def bench_corpus(
    name: str,
    files: list[Path],
    tmp_path: Path,
    embeddings,
    naive_embeddings,
    repeat: int,
    inline_too: bool = False,
) -> dict:
    """Each of the three runs ``repeat`` times, in the order pipeline, alone, naive, then the
    reverse, and so on (ABC CBA ...): the machine's speed drifts by tens of per cent over
    minutes, and alternating the order spreads that drift over all three. Means are reported,
    with each run's seconds."""
    ours_runs: list[dict] = []
    alone_runs: list[dict] = []
    naive_runs: list[dict] = []
    inline_runs: list[dict] = []
    texts: list[str] = []

    def ours() -> None:
        run = run_pipeline(files, tmp_path / f"{name}-ours-{len(ours_runs)}", embeddings)
        texts[:] = run.pop("embed_texts")
        ours_runs.append(run)

    def alone() -> None:
        alone_runs.append(run_embedding_alone(texts, embeddings))

    def naive() -> None:
        path = tmp_path / f"{name}-naive-{len(naive_runs)}"
        naive_runs.append(run_naive_langchain(files, path, naive_embeddings))

    def inline() -> None:  # the pipeline with everything in the caller's thread
        path = tmp_path / f"{name}-inline-{len(inline_runs)}"
        run = run_pipeline(files, path, embeddings, background=False)
        run.pop("embed_texts")
        inline_runs.append(run)

    steps = [ours, alone, naive, *([inline] if inline_too else [])]
    for i in range(repeat):  # round 0 runs the pipeline first, so `texts` is always filled
        for step in steps if i % 2 == 0 else steps[::-1]:
            step()
    result = {"files": len(files)}
    kinds = [("ours", ours_runs), ("embedding_alone", alone_runs), ("naive", naive_runs)]
    if inline_runs:
        kinds.append(("writes_inline", inline_runs))
    for key, runs in kinds:
        mean = dict(runs[-1])
        for figure in ("wall_s", "cpu_s", "steal_s"):
            mean[figure] = sum(r[figure] for r in runs) / len(runs)
        mean["runs_s"] = [round(r["wall_s"], 1) for r in runs]
        mean["steal_runs_s"] = [round(r["steal_s"], 1) for r in runs]
        if key in ("ours", "writes_inline"):
            mean["split_s"] = {
                k: sum(r["split_s"][k] for r in runs) / len(runs) for k in runs[0]["split_s"]
            }
        result[key] = mean
    for key in ("ours", "writes_inline"):  # the same texts: embedding alone counted them
        if key in result:
            result[key]["tokens"] = alone_runs[-1]["tokens"]
    return result


def report(name: str, result: dict) -> None:
    ours, alone, naive = result["ours"], result["embedding_alone"], result["naive"]
    print(f"\n== {name}: {result['files']} files, {ours['pages']} pages")
    print(
        f"{'run':<36}{'seconds':>9}{'cpu s':>8}{'stolen':>8}{'chunks':>8}{'chunks/s':>10}"
        f"{'tokens':>9}"
    )
    rows = [
        ("pipeline (this project)", ours),
        ("embedding alone (same chunks)", alone),
        ("naive LangChain (RCTS 500/50)", naive),
    ]
    if "writes_inline" in result:
        rows.append(("pipeline, all in line", result["writes_inline"]))
    for label, r in rows:
        print(
            f"{label:<36}{r['wall_s']:>9.1f}{r['cpu_s']:>8.1f}{r['steal_s']:>8.1f}{r['chunks']:>8}"
            f"{r['chunks'] / r['wall_s']:>10.2f}{r['tokens']:>9}   runs {r.get('runs_s')}"
        )
    split = ours["split_s"]
    caller = ("hash", "parse", "chunk", "wait")
    other = ours["wall_s"] - sum(split[k] for k in caller)
    print(
        "pipeline, caller's thread: "
        + ", ".join(f"{k} {split[k]:.1f} s" for k in caller)
        + f", bookkeeping {other:.1f} s; group runner's thread: embed {split['embed']:.1f} s,"
        f" write {split['write']:.1f} s"
    )
    outside = (ours["wall_s"] - split["wait"]) / max(1, result["files"])
    print(
        f"time per file the caller did not wait for the encoder and store: {outside * 1000:.0f} ms"
    )
    if "writes_inline" in result:
        inline_split = result["writes_inline"]["split_s"]
        print(
            "all in line, by stage: "
            + ", ".join(
                f"{k} {inline_split[k]:.1f} s" for k in ("hash", "parse", "chunk", "embed", "write")
            )
        )
    print(
        f"pipeline / naive: {ours['wall_s'] / naive['wall_s']:.3f}   "
        f"pipeline / embedding alone: {ours['wall_s'] / alone['wall_s']:.3f}   "
        f"by CPU seconds: {ours['cpu_s'] / naive['cpu_s']:.3f}"
        f" / {ours['cpu_s'] / alone['cpu_s']:.3f}"
    )
    if "writes_inline" in result:
        inline = result["writes_inline"]
        print(
            f"all in line / naive: {inline['wall_s'] / naive['wall_s']:.3f}   "
            f"/ embedding alone: {inline['wall_s'] / alone['wall_s']:.3f}   "
            f"the group runner saves {inline['wall_s'] - ours['wall_s']:.1f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default="long-pdfs,laws,small")
    parser.add_argument("--small-files", type=int, default=1000)
    parser.add_argument("--pages-zh", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each, order alternating")
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--inline-too",
        action="store_true",
        help="also run the pipeline with embedding and writes in the caller's thread",
    )
    args = parser.parse_args()

    from vectorstore.embeddings import E5Embeddings

    embeddings = E5Embeddings()  # the project's: one worker thread per CPU, 4 texts per call
    # the naive pipeline's: the same model and wrapper, one text per call on all cores (the
    # fastest way to call the engine from one thread, bench/embed_batch_bench.py)
    naive_embeddings = E5Embeddings(workers=1)
    print(f"embedder: {embeddings.workers} workers (naive: {naive_embeddings.workers})")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        builders = {
            "long-pdfs": lambda: build_corpus(tmp_path / "long-pdfs", args.pages_zh),
            "laws": lambda: build_laws(tmp_path / "laws"),
            "small": lambda: build_small_files(tmp_path / "small", args.small_files),
        }
        for name in args.corpora.split(","):
            (tmp_path / name).mkdir(exist_ok=True)
            results[name] = bench_corpus(
                name,
                builders[name](),
                tmp_path,
                embeddings,
                naive_embeddings,
                args.repeat,
                args.inline_too,
            )
            report(name, results[name])
            for source, row in list(results[name]["ours"]["per_file"].items())[:5]:
                print(f"  {source}: {row['pages']} pages, {row['chunks']} chunks, {row['s']:.1f} s")
    if args.out:
        for r in results.values():
            if len(r["ours"]["per_file"]) > 50:  # a thousand small files: not one row each
                r["ours"]["per_file"] = dict(list(r["ours"]["per_file"].items())[:50])
        args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
