"""Reads an environment artifact written by ``assay env capture``."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from assay.environments.artifact import SCHEMA, from_document
from assay.environments.model import Environment
from assay.environments.ports import EnvironmentReader
from assay.environments.readers._files import head, load_json


class ArtifactReader(EnvironmentReader):
    """An ``assay.environment/1`` JSON artifact, digest-checked on load."""

    format_name: ClassVar[str] = "assay-environment"
    description: ClassVar[str] = "environment artifact written by `assay env capture`"

    def sniff(self, path: Path) -> bool:
        return path.is_file() and SCHEMA.encode() in head(path, 8192)

    def read(self, path: Path) -> Environment:
        return from_document(path, load_json(path))
