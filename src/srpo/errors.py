"""The srpo error hierarchy.

Every error a user can cause (bad input, a locked catalog, a missing dependency) is an
`SrpoError`. The CLI prints `str(error)` as one line on stderr and exits with `exit_code`; only
`--debug` shows a traceback. Messages name the file, row and field where there is one.
"""

from __future__ import annotations


class SrpoError(Exception):
    """Base class: a user-facing failure with a one-line message."""

    exit_code: int = 1


class InputError(SrpoError):
    """Input that cannot be read: a missing file, an unknown adapter, a malformed option."""

    exit_code = 2


class RowError(SrpoError):
    """One input row cannot become a problem. Recorded in `invalid_rows`, never fatal."""

    def __init__(self, field: str | None, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"field {field!r}: {message}" if field else message)


class CatalogError(SrpoError):
    """The catalog file is missing, corrupt, or newer than this version of srpo."""


class CatalogLockedError(CatalogError):
    """Another process holds the DuckDB file in a mode that excludes ours."""

    exit_code = 75  # EX_TEMPFAIL: trying again later may work


class MissingDependencyError(SrpoError):
    """An optional dependency (the `train` extra, vLLM, huggingface_hub) is not installed."""

    exit_code = 3


class HubError(SrpoError):
    """A Hugging Face hub dataset could not be fetched (offline, unknown id, gated)."""


class EngineError(SrpoError):
    """A rollout engine cannot start or answer: a bad model path, an unreachable server."""
