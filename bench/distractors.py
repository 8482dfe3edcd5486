"""English research abstracts on vocational education, generated from templates: distractors
for retrieval tests and the eval corpus. They share the vocabulary of Chinese policy questions
("vocational education", "management system", "school-enterprise cooperation") but are not the
documents such questions name."""

from __future__ import annotations

import random
from pathlib import Path

COUNTRIES = [
    "Germany",
    "Finland",
    "Australia",
    "Brazil",
    "Kenya",
    "India",
    "Canada",
    "Japan",
    "Korea",
    "Chile",
    "Poland",
    "Vietnam",
    "Egypt",
    "Norway",
    "Mexico",
    "Ghana",
    "Spain",
    "Turkey",
    "Indonesia",
    "Ireland",
    "Denmark",
    "Morocco",
    "Peru",
    "Austria",
]
TOPICS = [
    "the management system of vocational education",
    "governance of vocational education and training",
    "school-enterprise cooperation in vocational colleges",
    "apprenticeship schemes in vocational education",
    "funding of vocational education institutions",
    "dual-qualified teachers in vocational schools",
    "shared training bases between colleges and industry",
    "the legal framework for vocational education",
]
FINDINGS = [
    "responsibility is split between national ministries and regional authorities",
    "employers take part in curriculum design through sector councils",
    "funding follows enrolment and completion rates",
    "teachers are required to spend time in industry every few years",
    "colleges and firms share the cost of workshop equipment",
    "the law sets out the duties of schools, employers and local government",
    "quality assurance relies on external examinations set by chambers of commerce",
    "regional skills plans decide which programmes colleges may open",
]
METHODS = ["a survey of", "interviews with", "a case study of", "administrative data on"]


def write_distractors(folder: Path, n: int = 120, seed: int = 7) -> list[Path]:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        country, topic = rng.choice(COUNTRIES), rng.choice(TOPICS)
        findings = rng.sample(FINDINGS, 3)
        method = rng.choice(METHODS)
        size = rng.randint(12, 480)
        text = (
            f"# Vocational education in {country}: {topic}\n\n"
            f"This paper examines {topic} in {country}. Based on {method} {size} vocational "
            f"colleges and their partner enterprises, it finds that {findings[0]}. "
            f"It also shows that {findings[1]}, and that {findings[2]}. The study discusses "
            f"what the management of vocational education in {country} means for "
            f"policy makers and for colleges that seek closer cooperation with industry.\n"
        )
        path = folder / f"abstract_{i:03d}_{country.lower()}.md"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "folder",
        type=Path,
        nargs="?",
        default=Path("data/eval_distractors"),
        help="write the abstracts here, one .md each (default: %(default)s)",
    )
    parser.add_argument("-n", type=int, default=120)
    args = parser.parse_args(argv)
    paths = write_distractors(args.folder, args.n)
    print(f"{len(paths)} abstracts in {args.folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
