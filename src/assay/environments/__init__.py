"""The environment model: what exactly is installed, or locked, somewhere."""

from assay.environments.model import (
    Environment,
    Hash,
    License,
    Origin,
    OriginKind,
    Package,
    Party,
    Source,
)
from assay.environments.ports import EnvironmentReader, ReaderError

__all__ = [
    "Environment",
    "EnvironmentReader",
    "Hash",
    "License",
    "Origin",
    "OriginKind",
    "Package",
    "Party",
    "ReaderError",
    "Source",
]
