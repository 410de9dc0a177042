"""The root of every error assay reports to a user.

Every error carries a one-line, user-facing message and an exit code that the
CLI returns.  Each port (reader, advisory service, ...) defines its own base
class below :class:`AssayError` so callers can catch one family at a time.
"""

from __future__ import annotations


class AssayError(Exception):
    """An error with a message fit to show a user, and the exit code to use."""

    exit_code: int = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(AssayError):
    """The command line itself is wrong (unknown flag value, missing argument)."""

    exit_code = 2
