"""The reader port: one adapter per environment format."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from assay.environments.model import Environment
from assay.errors import AssayError


class ReaderError(AssayError):
    """A source could not be read completely; names the file and, if known, the line."""

    exit_code = 3

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.line = line


class UnknownFormatError(ReaderError):
    """No reader recognises the source."""


class EnvironmentReader(ABC):
    """Reads one kind of source into an :class:`Environment`.

    ``sniff`` must be cheap and side-effect free: it looks at the name and, at
    most, the first few KiB of a file.  ``read`` either returns the whole
    environment or raises :class:`ReaderError`; it never returns a partial one.
    """

    format_name: ClassVar[str]
    description: ClassVar[str]

    @abstractmethod
    def sniff(self, path: Path) -> bool:
        """Whether this reader recognises ``path``."""

    @abstractmethod
    def read(self, path: Path) -> Environment:
        """Read ``path`` completely."""
