"""OCR benchmark: the candidate engines side by side on scans of known Chinese text, the
pipeline against OCR alone, a scanned law's structure, and the confidence calibration.

    .venv/bin/python bench/ocr_bench.py [--engine NAME[=PYTHON]] ... [--pages 2]
        [--law 高等教育法] [--out docs/bench_ocr.json] [--chart docs/bench_ocr.png]

Scans: known text (pages of the laws in ../shared/testdata/zh_policy, and the college rules of
devkit/scangen.py) rendered into image-only PDFs at 150, 200 and 300 dpi, clean and
degraded (skew, blur, noise, JPEG, a red seal), one and two columns. Every page is rendered
back at 200 dpi, as ingest does (ADVISOR_OCR_DPI), and every engine reads the same images.
Its lines are put in reading order by the project's code (ingest/ocr.py), so the engines
differ only in what they recognise. Accuracy is 1 - CER on the text as indexed (whitespace
ignored); seconds are per page, the engine alone, after a warm-up page.

Engines run in their own interpreters (``bench/ocr_engine_runner.py``): ``--engine rapidocr3``
uses this one (the project's engine); others name a Python where they are installed, e.g.
``--engine tesseract=/tmp/ocr-tess/bin/python`` (docs/BENCHMARKS.md says how each was set up).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DPIS = (150, 200, 300)
RENDER_DPI = 200


def variants() -> list[tuple[int, bool, int]]:
    return [(dpi, degraded, cols) for dpi in DPIS for degraded in (False, True) for cols in (1, 2)]


def variant_name(dpi: int, degraded: bool, columns: int) -> str:
    return f"{dpi}dpi-{'degraded' if degraded else 'clean'}-{columns}col"


def make_pages(folder: Path, per_variant: int) -> dict[str, str]:
    """Write the scans, render their pages at 200 dpi into ``folder``; return the reference
    text of each image (by file stem)."""
    from PIL import Image

    from devkit import scangen
    from ingest.ocr import render_pdf_page

    laws = sorted(p.stem for p in scangen.ZH_POLICY.glob("*.md"))
    if not laws:
        raise SystemExit("this benchmark needs ../shared/testdata/zh_policy (the laws)")
    references: dict[str, str] = {}
    for k, (dpi, degraded, columns) in enumerate(variants()):
        width = 18 if columns == 2 else 38
        law = scangen.law_pages(laws[k % len(laws)], line_chars=width)
        own = ["\n".join(page) for page in scangen.COLLEGE_RULES]
        texts = ([law[1 % len(law)], own[k % len(own)]] * per_variant)[:per_variant]
        name = variant_name(dpi, degraded, columns)
        pdf = scangen.write_scanned_pdf(
            folder / f"{name}.pdf", texts, dpi=dpi, columns=columns, degrade=degraded, seed=k
        )
        for number, text in enumerate(texts, start=1):
            stem = f"{name}-p{number}"
            image = render_pdf_page(pdf, number, dpi=RENDER_DPI)
            Image.fromarray(image).save(folder / "images" / f"{stem}.png")
            references[stem] = text
    return references


def run_engine(name: str, python: str, images: Path, out: Path) -> dict:
    runner = ROOT / "bench" / "ocr_engine_runner.py"
    started = time.perf_counter()
    subprocess.run([python, str(runner), name, str(images), str(out)], check=True)
    result: dict = json.loads(out.read_text())
    result["wall_s"] = time.perf_counter() - started
    return result


def score(result: dict, references: dict[str, str], widths: dict[str, int]) -> dict:
    from devkit.scangen import char_accuracy
    from ingest.loaders import normalize_text
    from ingest.ocr import OcrLine, assemble_text, mean_confidence

    rows = {}
    for stem, page in result["pages"].items():
        lines = [OcrLine(t, *box, c) for box, t, c in page["lines"] if t.strip()]
        text = normalize_text(assemble_text(lines, page_width=widths[stem]))
        rows[stem] = {
            "accuracy": char_accuracy(references[stem], text),
            "seconds": page["seconds"],
            "confidence": mean_confidence(lines),
        }
    return rows


def summarise(rows: dict[str, dict]) -> dict[str, dict]:
    groups: dict[str, list[dict]] = {}
    for stem, row in rows.items():
        groups.setdefault(stem.rsplit("-p", 1)[0], []).append(row)
        dpi, quality, _ = stem.split("-", 2)
        groups.setdefault(f"{dpi}-{quality}", []).append(row)
        groups.setdefault(quality, []).append(row)
        groups.setdefault("all", []).append(row)
    return {
        key: {
            "accuracy": statistics.mean(r["accuracy"] for r in group),
            "min_accuracy": min(r["accuracy"] for r in group),
            "s_per_page": statistics.mean(r["seconds"] for r in group),
            "pages": len(group),
        }
        for key, group in groups.items()
    }


def pipeline_vs_ocr_alone(folder: Path, law: str) -> dict:
    """A whole scanned law through ingest, against OCR alone (render + recognise + reading
    order, in this process) and embedding alone of the same chunks; with its structure:
    articles chunked per article, and each article's chunk on the page it was printed on."""
    import re

    from advisor.service import AdvisorService
    from advisor.settings import Settings
    from devkit import scangen
    from ingest.ocr import RapidOcrEngine, ocr_image, render_pdf_page
    from vectorstore.embeddings import E5Embeddings

    pages = scangen.law_pages(law)
    pdf = scangen.write_scanned_pdf(folder / f"{law}-扫描.pdf", pages, dpi=200)
    embeddings = E5Embeddings()
    service = AdvisorService(Settings(data_dir=folder / "data"), embeddings=embeddings)
    kb = service.knowledge_base()  # Chroma opened before the clock
    started = time.perf_counter()
    report = service.ingest([pdf])
    pipeline_s = time.perf_counter() - started
    [outcome] = report.outcomes
    assert outcome.status == "indexed", outcome.message

    # OCR alone as a script would do it, and as the worker does: load the engine (its models
    # load on the first page), then render and read every page
    started = time.perf_counter()
    engine = RapidOcrEngine()
    for number in range(1, len(pages) + 1):
        ocr_image(engine, render_pdf_page(pdf, number), number)
    ocr_s = time.perf_counter() - started
    chunks = sorted(kb.iter_chunks(), key=lambda c: c.metadata["chunk_index"])
    texts = [f"{c.metadata['title']}\n{c.text}" for c in chunks]  # about what was embedded
    started = time.perf_counter()
    embeddings.embed_passages(texts)
    embed_s = time.perf_counter() - started

    article = re.compile(r"^第[一二三四五六七八九十百零〇]+条", re.M)
    printed_on = {}
    for number, text in enumerate(pages, start=1):
        for label in article.findall(text):
            printed_on.setdefault(label, number)
    chunk_of = {}
    for chunk in chunks:
        found = re.search(r"第[一二三四五六七八九十百零〇]+条$", chunk.metadata["section"])
        if found:
            chunk_of.setdefault(found.group(), chunk)
    right_page = sum(
        1 for label, c in chunk_of.items() if printed_on.get(label) == c.metadata.get("page")
    )
    return {
        "law": law,
        "pages": len(pages),
        "chunks": len(chunks),
        "pipeline_s": pipeline_s,
        "ocr_alone_s": ocr_s,
        "embedding_alone_s": embed_s,
        "pipeline_over_ocr_and_embedding": pipeline_s / (ocr_s + embed_s),
        "timings": {k: round(v, 2) for k, v in outcome.timings.items()},
        "articles_printed": len(printed_on),
        "articles_chunked": len(set(chunk_of) & set(printed_on)),
        "articles_on_right_page": right_page,
    }


def calibration(folder: Path) -> list[dict]:
    """Mean OCR confidence against accuracy as a page gets worse: where the threshold of
    ADVISOR_OCR_MIN_CONFIDENCE sits between pages worth indexing and pages that are not."""
    from devkit import scangen
    from devkit.scangen import Degradation
    from ingest.loaders import normalize_text
    from ingest.ocr import RapidOcrEngine, ocr_image, render_pdf_page

    engine = RapidOcrEngine()
    text = ["\n".join(scangen.COLLEGE_RULES[1])]
    rows = []
    for dpi in (72, 100, 150):
        for blur, noise, quality in ((0.6, 8, 35), (1.2, 20, 20), (1.5, 25, 15), (1.8, 30, 12)):
            d = Degradation(blur_radius=blur, noise_sigma=noise, jpeg_quality=quality)
            pdf = scangen.write_scanned_pdf(folder / "calibration.pdf", text, dpi=dpi, degrade=d)
            page = ocr_image(engine, render_pdf_page(pdf, 1), 1)
            rows.append(
                {
                    "scan_dpi": dpi,
                    "blur": blur,
                    "noise": noise,
                    "jpeg": quality,
                    "confidence": page.confidence,
                    "accuracy": scangen.char_accuracy(text[0], normalize_text(page.text)),
                }
            )
    return rows


def chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    engines = list(results["engines"])
    groups = [f"{dpi}dpi-{q}" for dpi in DPIS for q in ("clean", "degraded")]
    fig, (acc_ax, speed_ax) = plt.subplots(1, 2, figsize=(12, 4.2))
    width = 0.8 / max(1, len(engines))
    for i, engine in enumerate(engines):
        summary = results["engines"][engine]["summary"]
        xs = [g + i * width for g in range(len(groups))]
        acc_ax.bar(xs, [summary[g]["accuracy"] * 100 for g in groups], width, label=engine)
        speed_ax.bar(xs, [summary[g]["s_per_page"] for g in groups], width, label=engine)
    for ax, title in ((acc_ax, "accuracy (1 - CER), %"), (speed_ax, "seconds per page")):
        ax.set_xticks([g + 0.4 - width / 2 for g in range(len(groups))])
        ax.set_xticklabels(groups, rotation=30, ha="right", fontsize=8)
        ax.set_title(title)
    acc_ax.set_ylim(80, 100.5)
    acc_ax.axhline(97, color="grey", lw=0.8, ls="--")
    acc_ax.axhline(92, color="grey", lw=0.8, ls=":")
    speed_ax.axhline(4, color="grey", lw=0.8, ls="--")
    speed_ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", action="append", default=[], metavar="NAME[=PYTHON]")
    parser.add_argument("--pages", type=int, default=2, help="pages per variant")
    parser.add_argument("--law", default="高等教育法", help="the law scanned whole")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--chart", type=Path)
    parser.add_argument(
        "--pipeline-only", action="store_true", help="only the whole-law run and calibration"
    )
    args = parser.parse_args()
    engines = dict(
        (e.split("=", 1)[0], e.split("=", 1)[1] if "=" in e else sys.executable)
        for e in (args.engine or ["rapidocr3"])
    )
    results: dict = {"engines": {}}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "images").mkdir()
        if args.pipeline_only:
            engines = {}
        references = make_pages(folder, args.pages) if engines else {}
        from PIL import Image

        widths = {p.stem: Image.open(p).size[0] for p in sorted((folder / "images").glob("*.png"))}
        for name, python in engines.items():
            raw = run_engine(name, python, folder / "images", folder / f"{name}.json")
            rows = score(raw, references, widths)
            results["engines"][name] = {
                "python": python,
                "load_s": raw["load_s"],
                "summary": summarise(rows),
                "pages": rows,
            }
            s = results["engines"][name]["summary"]
            print(
                f"{name:<22} accuracy all {s['all']['accuracy']:.4f} "
                f"(200 dpi clean {s['200dpi-clean']['accuracy']:.4f}, "
                f"degraded {s['degraded']['accuracy']:.4f}, min {s['all']['min_accuracy']:.4f}); "
                f"{s['all']['s_per_page']:.2f} s/page (200 dpi clean "
                f"{s['200dpi-clean']['s_per_page']:.2f}); load {raw['load_s']:.1f} s",
                flush=True,
            )
        if engines:
            print("\nper variant (accuracy / s per page):")
            names = [variant_name(*v) for v in variants()]
            print(f"{'variant':<24}" + "".join(f"{n[:20]:>24}" for n in engines))
            for variant in names:
                cells = []
                for name in engines:
                    row = results["engines"][name]["summary"][variant]
                    cells.append(f"{row['accuracy']:.4f} / {row['s_per_page']:.2f}")
                print(f"{variant:<24}" + "".join(f"{c:>24}" for c in cells))

        results["pipeline"] = pipeline_vs_ocr_alone(folder, args.law)
        p = results["pipeline"]
        print(
            f"\n{p['law']} scanned whole: {p['pages']} pages, {p['chunks']} chunks; pipeline "
            f"{p['pipeline_s']:.1f} s, OCR alone {p['ocr_alone_s']:.1f} s "
            f"({p['ocr_alone_s'] / p['pages']:.2f} s/page), embedding alone "
            f"{p['embedding_alone_s']:.1f} s: pipeline / (OCR + embedding) "
            f"{p['pipeline_over_ocr_and_embedding']:.3f}; stages {p['timings']}"
        )
        print(
            f"articles chunked per article: {p['articles_chunked']}/{p['articles_printed']}, "
            f"on the page they were printed on: {p['articles_on_right_page']}"
        )
        results["calibration"] = calibration(folder)
        print("\ncalibration (scan dpi, blur, noise, JPEG quality: mean confidence, accuracy):")
        for row in results["calibration"]:
            print(
                f"  {row['scan_dpi']:>3} dpi blur {row['blur']} noise {row['noise']:>2} "
                f"q {row['jpeg']:>2}: confidence {row['confidence']:.3f}, "
                f"accuracy {row['accuracy']:.3f}"
            )
    if args.out:
        args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    if args.chart and results["engines"]:
        chart(results, args.chart)


if __name__ == "__main__":
    main()
