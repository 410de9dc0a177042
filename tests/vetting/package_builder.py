"""Tiny synthetic packages built in memory for the package-rule tests.

Every sample is written here by hand to exercise one rule; none is copied from
malware, and nothing is ever installed, imported or run.
"""

from __future__ import annotations

import io
import tarfile
import textwrap
import time
import zipfile
from collections.abc import Mapping

from assay.vetting.engine import VetReport, analyse_archive
from assay.vetting.rules import PackageFinding

Files = Mapping[str, str | bytes]


def _bytes(content: str | bytes) -> bytes:
    return content if isinstance(content, bytes) else textwrap.dedent(content).encode()


def sdist(files: Files, name: str = "demo-1.0") -> bytes:
    """A .tar.gz with every file under ``name/``."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for path, content in files.items():
            data = _bytes(content)
            info = tarfile.TarInfo(f"{name}/{path}")
            info.size = len(data)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def wheel(files: Files) -> bytes:
    """A zip with the files at its root (a wheel's layout)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in files.items():
            archive.writestr(path, _bytes(content))
    return out.getvalue()


def vet_sdist(files: Files) -> VetReport:
    return analyse_archive("demo-1.0.tar.gz", sdist(files))


def vet_wheel(files: Files, name: str = "demo-1.0-py3-none-any.whl") -> VetReport:
    return analyse_archive(name, wheel(files))


def first(report: VetReport, rule: str) -> PackageFinding:
    """The report's first (worst) finding of ``rule``; StopIteration when there is none."""
    return next(f for f in report.findings if f.rule == rule)


def rules(report: VetReport, minimum: int = 0) -> set[str]:
    """Rule ids of the findings at or above a severity (a Level value)."""
    return {f.rule for f in report.findings if f.severity >= minimum}
