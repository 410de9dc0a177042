"""Reader adapters, one module per format, and the registry that picks one.

Readers are imported lazily by name so that a command touching one format
does not pay for importing every parser.
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path

from assay.environments.model import Environment
from assay.environments.ports import EnvironmentReader, UnknownFormatError

# Order matters for detection: the most specific readers come first.
_REGISTRY: dict[str, str] = {
    "assay-environment": "assay.environments.readers.artifact:ArtifactReader",
    "mlflow-model": "assay.environments.readers.mlflow:MlflowModelReader",
    "conda-prefix": "assay.environments.readers.conda_prefix:CondaPrefixReader",
    "installed": "assay.environments.readers.installed:InstalledReader",
    "pylock": "assay.environments.readers.pylock:PylockReader",
    "uv-lock": "assay.environments.readers.uv_lock:UvLockReader",
    "poetry-lock": "assay.environments.readers.poetry_lock:PoetryLockReader",
    "pdm-lock": "assay.environments.readers.pdm_lock:PdmLockReader",
    "pipfile-lock": "assay.environments.readers.pipfile_lock:PipfileLockReader",
    "conda-lock": "assay.environments.readers.conda_lock:CondaLockReader",
    "pixi-lock": "assay.environments.readers.pixi_lock:PixiLockReader",
    "conda-environment": "assay.environments.readers.conda_env:CondaEnvironmentReader",
    "pip-inspect": "assay.environments.readers.pip_json:PipInspectReader",
    "pip-report": "assay.environments.readers.pip_json:PipReportReader",
    "cyclonedx": "assay.environments.readers.cyclonedx:CycloneDxReader",
    "spdx": "assay.environments.readers.spdx:SpdxReader",
    "pip-freeze": "assay.environments.readers.freeze:PipFreezeReader",
    "requirements": "assay.environments.readers.requirements:RequirementsReader",
}


def format_names() -> tuple[str, ...]:
    """Every format name ``--format`` accepts, in detection order."""
    return tuple(_REGISTRY)


@cache
def reader_for(format_name: str) -> EnvironmentReader:
    """The reader registered under ``format_name``."""
    try:
        target = _REGISTRY[format_name]
    except KeyError:
        known = ", ".join(_REGISTRY)
        raise UnknownFormatError(format_name, f"unknown format; choose one of: {known}") from None
    module_name, class_name = target.split(":")
    reader_class: type[EnvironmentReader] = getattr(
        importlib.import_module(module_name), class_name
    )
    return reader_class()


def detect(path: Path) -> EnvironmentReader:
    """The first reader that recognises ``path``, by name and content."""
    if not path.exists():
        raise UnknownFormatError(path, "no such file or directory")
    for name in _REGISTRY:
        reader = reader_for(name)
        if reader.sniff(path):
            return reader
    kind = "directory" if path.is_dir() else "file"
    raise UnknownFormatError(
        path,
        f"not a {kind} assay can read; name its format explicitly "
        "(the command's format option; `assay env formats` lists them)",
    )


def read_environment(path: Path, format_name: str | None = None) -> Environment:
    """Read ``path`` with the named reader, or the one detection picks."""
    reader = reader_for(format_name) if format_name else detect(path)
    return reader.read(path)
