"""How much other sessions' work slows the bundled model down: four answers alone, then with
another thread retrieving in a loop, embedding in a loop, and ingesting a two-page scan (OCR,
one page per compute turn) in a loop.

    .venv/bin/python bench/gate_interference.py

Measured before and after the compute gate (vectorstore/gate.py); figures in
docs/BENCHMARKS.md ("Load").
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from advisor.service import AdvisorService
    from advisor.settings import Settings
    from devkit.load_scenario import SHARED_QUESTIONS, seed

    folder = Path(tempfile.mkdtemp(prefix="advisor-gate-"))
    service = AdvisorService(Settings(data_dir=folder / "data", llm="local"))
    seed(service, folder)
    advisor = service.advisor()
    advisor.warm_up()
    advisor.answer(SHARED_QUESTIONS[0])
    questions = [SHARED_QUESTIONS[i % 3] for i in range(4)]
    from devkit.scangen import COLLEGE_RULES, write_scanned_pdf

    scan = write_scanned_pdf(
        folder / "rules-scan.pdf", ["\n".join(page) for page in COLLEGE_RULES], dpi=200
    )

    def answers() -> float:
        began = time.perf_counter()
        for question in questions:
            advisor.answer(question)
        return time.perf_counter() - began

    print(f"4 answers alone: {answers():.1f} s (baseline)", flush=True)
    for name, work in [
        ("retrieving", lambda n: service.retriever().retrieve(SHARED_QUESTIONS[n % 4], k=6)),
        (
            "embedding",
            lambda n: service.embeddings.embed_documents(
                ["学院与企业共建实训基地，企业派出工程师授课。" * 8] * 8
            ),
        ),
        # a new knowledge base each round, so the scan is never skipped as unchanged
        ("OCR-ingesting a scan", lambda n: service.ingest([scan], kb=f"ocr-{n}")),
    ]:
        stop, count = threading.Event(), [0]

        def loop(work=work, stop=stop, count=count) -> None:  # type: ignore[no-untyped-def]
            while not stop.is_set():
                work(count[0])
                count[0] += 1

        thread = threading.Thread(target=loop)
        thread.start()
        seconds = answers()
        stop.set()
        thread.join()
        print(
            f"4 answers with another thread {name} in a loop: {seconds:.1f} s "
            f"({count[0]} rounds of it meanwhile)",
            flush=True,
        )


if __name__ == "__main__":
    main()
