"""The advisor's errors. The CLI turns each into one clear line and an exit code; the UI into
``st.error``. Ingest failures of single files are not errors of the run: they are reported per
file (``ingest.errors``)."""

from __future__ import annotations


class AdvisorError(Exception):
    """Base class; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class ConfigError(AdvisorError):
    """A setting or argument is invalid."""

    exit_code = 2


class KnowledgeBaseError(AdvisorError):
    """A knowledge-base operation failed (unknown document, store unreachable...)."""


class InputFileError(AdvisorError):
    """A file the command was given cannot be used (a plan that cannot be indexed...)."""


class LLMError(AdvisorError):
    """The language model could not answer (server unreachable, timeout, model failure)."""
