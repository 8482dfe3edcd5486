"""Writes corpus/glossary.md, the knowledge base's zh↔en glossary of the field's terms, from
advisor/data/glossary.tsv (the one list the retrieval also uses to carry a question's terms
across languages). Run after editing the TSV; a test checks the two agree.

    .venv/bin/python scripts/build_glossary_doc.py
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TSV = ROOT / "advisor" / "data" / "glossary.tsv"
DOC = ROOT / "corpus" / "glossary.md"

HEADER = """---
title: 产教融合术语表（中英对照） · Glossary of industry-education integration terms (zh-en)
kind: other
lang: zh
sources:
  - the project's own glossary, advisor/data/glossary.tsv
  - terms of the seed paper and of the laws and policies in policy_landscape_zh.md
---

# 产教融合术语表（中英对照） · Glossary of industry-education integration terms

每行一个术语：中文、常用英文译法、其他英文说法。The first English term is the usual
translation; the others are variants found in English writing on the subject.

| 中文 | English | 其他说法 / Variants |
|---|---|---|
"""


def rows() -> list[tuple[str, str, str]]:
    """The field's terms. Place names (the TSV carries provinces and cities for retrieval) are
    left out: a dictionary entry for 江苏 is not evidence about Jiangsu, and the advisor's
    evidence check must not mistake it for some."""
    import sys

    sys.path.insert(0, str(ROOT))
    from advisor.grounding import is_place

    out = []
    for line in TSV.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        zh, _, en = line.partition("\t")
        if is_place(zh.strip()):
            continue
        terms = [t.strip() for t in en.split("|") if t.strip()]
        out.append((zh.strip(), terms[0], "; ".join(terms[1:])))
    return out


def render() -> str:
    return HEADER + "".join(f"| {zh} | {en} | {rest} |\n" for zh, en, rest in rows())


if __name__ == "__main__":
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)} ({len(rows())} terms)")
