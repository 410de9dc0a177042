"""Helpers shared by CLI commands that write files."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from assay.errors import AssayError, UsageError


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomically(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` through a temporary file: never a partial file.

    A target that exists and is not a regular file (``/dev/null``, a pipe) is
    written in place: renaming over it would replace the device.
    """
    if target.exists() and not target.is_file():  # /dev/null, a FIFO: never rename over it
        try:
            with target.open("w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise AssayError(f"{target}: cannot write: {exc.strerror or exc}") from None
        return
    directory = target.parent if str(target.parent) else Path()
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise AssayError(f"{target}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(tmp).chmod(0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual mode
        Path(tmp).replace(target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise AssayError(f"{target}: cannot write: {exc.strerror or exc}") from None


def check_reader_format(value: str | None, option: str) -> None:
    """UsageError unless ``value`` (from ``option``) names a reader ``assay env formats`` lists."""
    from assay.environments.readers import format_names  # noqa: PLC0415 - keep CLI start-up light

    if value is not None and value not in format_names():
        raise UsageError(f"unknown {option} {value!r}; choose one of: {', '.join(format_names())}")


def source_uri(path: Path) -> str:
    """The source path relative to the working directory when it lies below it."""
    if path.is_absolute():
        try:
            path = path.resolve().relative_to(Path.cwd().resolve())
        except ValueError:
            return path.as_posix()
    return path.as_posix().removeprefix("./")


def source_lines(path: Path, limit: int = 64 * 1024 * 1024) -> dict[str, int]:
    """The line of each package in a source file (for SARIF locations); {} when unknown."""
    from assay.advisories.reports import package_lines  # noqa: PLC0415
    from assay.environments.ports import ReaderError  # noqa: PLC0415
    from assay.environments.readers._files import read_text  # noqa: PLC0415

    if not path.is_file():
        return {}
    try:
        return package_lines(read_text(path, limit))
    except ReaderError:
        return {}
