"""Produces the sample plan-review reports in docs/ from the test suite's gapped sample plan
(devkit/plans.py), reviewed against the starter knowledge base (corpus/).

    .venv/bin/python scripts/sample_review.py [--llm local|extractive] [--data-dir DIR]

Writes docs/sample_plan.docx (the plan), docs/sample_review.md (+ sample_review_coverage.png),
docs/sample_review.docx and docs/sample_review.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--llm", default="local", choices=("local", "extractive", "openai"))
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/advisor-sample-review"))
    args = parser.parse_args()

    from advisor.review import review_plan, write_report
    from advisor.service import AdvisorService
    from advisor.settings import Settings
    from devkit.pdfgen import write_docx
    from devkit.plans import GAPPED, as_docx_blocks

    docs = ROOT / "docs"
    plan = write_docx(docs / "sample_plan.docx", as_docx_blocks(GAPPED))
    service = AdvisorService(Settings(data_dir=args.data_dir, llm=args.llm))
    service.ingest([ROOT / "corpus"])
    started = time.perf_counter()
    report = review_plan(service, plan, progress=lambda key: print(f"  {key}", flush=True))
    print(f"reviewed in {time.perf_counter() - started:.1f} s: {report.counts()}")
    for suffix in (".md", ".docx", ".json"):
        for path in write_report(report, docs / f"sample_review{suffix}"):
            print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
