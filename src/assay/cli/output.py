"""Helpers shared by CLI commands that write files."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from assay.errors import AssayError


def write_atomically(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` through a temporary file: never a partial file."""
    directory = target.parent if str(target.parent) else Path()
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise AssayError(f"{target}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(tmp).replace(target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise AssayError(f"{target}: cannot write: {exc.strerror or exc}") from None
