"""Prompt templates as files, loaded by name: ``load_prompt("answer_system", "zh")`` reads
``answer_system.zh.md``. Placeholders use ``{name}`` (str.format); literal braces are doubled."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

PROMPT_DIR = Path(__file__).resolve().parent
LANGS = ("zh", "en")


class PromptError(Exception):
    """A prompt template is missing (``advisor.errors.PromptError`` at the service boundary)."""


class PromptNotFoundError(PromptError):
    pass


@lru_cache(maxsize=64)
def load_prompt(name: str, lang: str) -> str:
    path = PROMPT_DIR / f"{name}.{lang}.md"
    if not path.is_file():
        raise PromptNotFoundError(f"no prompt {name!r} for language {lang!r} ({path})")
    return path.read_text(encoding="utf-8").strip()


def render_prompt(name: str, lang: str, **values: str) -> str:
    return load_prompt(name, lang).format(**values)


def prompt_names() -> list[tuple[str, str]]:
    """Every (name, lang) pair that exists."""
    pairs = []
    for path in sorted(PROMPT_DIR.glob("*.md")):
        name, _, lang = path.stem.rpartition(".")
        if lang in LANGS:
            pairs.append((name, lang))
    return pairs
