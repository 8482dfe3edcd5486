"""Every error the product raises on purpose, in one tree (like ``httpx/_exceptions.py``).

::

    AdvisorError                  the CLI prints "error: <message>" and exits with exit_code;
    │                             the UI shows the message (pages/common.show_error)
    ├── ConfigError               a setting or argument is invalid (exit 2)
    │   └── PromptError           a prompt template is missing (prompts.PromptError)
    ├── KnowledgeBaseError        a knowledge-base operation failed: unknown document, bad
    │                             name, store unreachable (vectorstore.StoreError)
    ├── NotFoundError             no such plan, result or conversation, or not the caller's:
    │   │                         the same answer either way
    │   └── ConversationNotFoundError
    ├── InputFileError            a file a command was given cannot be used (ingest.IngestError)
    ├── LLMError                  the language model could not answer
    ├── AccountError              sign-in, user management, the login delay
    └── BackupError               a backup or restore cannot be made or verified

``ingest``, ``vectorstore`` and ``prompts`` may not import ``advisor``, so they keep their own
roots (``IngestError``, ``StoreError``, ``PromptError``). They become ``AdvisorError``s at the
service boundary, in one place: ``translate`` and the ``boundary`` context manager below.
Ingest failures of single files are not errors of the run: they are reported per file
(``ingest.pipeline.FileOutcome``). Nothing here derives from ``KeyError``: a lookup that fails
is an error with a message, not a missing dictionary key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class AdvisorError(Exception):
    """Base class; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class ConfigError(AdvisorError):
    """A setting or argument is invalid."""

    exit_code = 2


class PromptError(ConfigError):
    """A prompt template is missing or cannot be rendered."""


class KnowledgeBaseError(AdvisorError):
    """A knowledge-base operation failed (bad name, store unreachable...)."""


class NotFoundError(AdvisorError):
    """No such plan or result, or not the caller's."""

    def __str__(self) -> str:
        what = self.args[0] if self.args else ""
        return f"没有这个方案或结果 No such plan or result: {what}"


class ConversationNotFoundError(NotFoundError):
    """No such conversation or answer, or not the caller's."""

    def __str__(self) -> str:
        what = self.args[0] if self.args else ""
        return f"没有这个对话 No such conversation: {what}"


class InputFileError(AdvisorError):
    """A file the command was given cannot be used (a plan that cannot be indexed...)."""


class LLMError(AdvisorError):
    """The language model could not answer (server unreachable, timeout, model failure)."""


class AccountError(AdvisorError):
    """Sign-in failed, a user cannot be added or removed, or the login delay applies."""


class BackupError(AdvisorError):
    """A backup or a restore cannot be made or verified."""


def translate(exc: BaseException) -> AdvisorError | None:
    """The ``AdvisorError`` for an error of ``ingest``, ``vectorstore`` or ``prompts``, or None
    for anything else (a bug, which must not be dressed up as a user error)."""
    from ingest.errors import IngestError
    from prompts import PromptError as TemplateError
    from vectorstore.store import StoreError

    if isinstance(exc, AdvisorError):
        return exc
    if isinstance(exc, StoreError):  # DocumentNotFoundError among them
        return KnowledgeBaseError(str(exc))
    if isinstance(exc, IngestError):
        return InputFileError(exc.message)
    if isinstance(exc, TemplateError):
        return PromptError(str(exc))
    return None


@contextmanager
def boundary() -> Iterator[None]:
    """Raise the library errors of the block as ``AdvisorError``s (``translate``)."""
    try:
        yield
    except Exception as exc:
        mapped = translate(exc)
        if mapped is None or mapped is exc:
            raise
        raise mapped from exc
