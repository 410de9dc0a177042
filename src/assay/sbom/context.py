"""What every SBOM format shares: options, generation context, root, serial number.

Pure functions over the environment; the format modules turn these into
CycloneDX, SPDX 2.3 or SPDX 3.0.1 fields.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath

from packaging.utils import canonicalize_name

from assay import __version__
from assay.environments.artifact import environment_digest
from assay.environments.model import Ecosystem, Environment, Package

TOOL_NAME = "assay"
TOOL_VERSION = __version__

# Sources that describe what is (or was) installed and running; everything else
# (locks, requirements, reports, SBOMs, MLflow files) describes a plan: pre-build.
OPERATIONS_SOURCES = frozenset({"installed", "conda-prefix", "pip-inspect"})
PRE_BUILD = "pre-build"
OPERATIONS = "operations"

# A fixed namespace so serial numbers derived from content are stable everywhere.
_SERIAL_NAMESPACE = uuid.UUID("6f1b7c39-3e52-5d4f-9a0e-2b7d8c1e4a60")


class SbomBuildError(Exception):
    """A document failed its own schema validation: a bug in assay, never user input.

    Deliberately not an AssayError, so the CLI reports it as an internal error (70).
    """


@dataclass(frozen=True, slots=True)
class SbomOptions:
    """How to write the document.

    ``timestamp`` None leaves the creation time out (``--reproducible`` without
    ``SOURCE_DATE_EPOCH``); ``author`` is the person or organisation writing it.
    """

    author: str | None = None
    timestamp: datetime | None = None
    reproducible: bool = False


def lifecycle_phase(env: Environment) -> str:
    """CycloneDX lifecycle phase: ``operations`` for installed envs, else ``pre-build``."""
    return OPERATIONS if env.source.kind in OPERATIONS_SOURCES else PRE_BUILD


def source_name(env: Environment) -> str:
    """The source's file or directory name (never the full, machine-specific path)."""
    return PurePath(env.source.path).name or env.source.path


def root_package(env: Environment) -> Package | None:
    """The project's own package when the environment lists it (uv.lock, poetry...)."""
    if not env.name:
        return None
    wanted = canonicalize_name(env.name)
    matches = [
        p for p in env.packages if p.ecosystem is Ecosystem.PYPI and p.canonical_name == wanted
    ]
    return matches[0] if len(matches) == 1 else None


def top_level(env: Environment) -> tuple[Package, ...]:
    """The roots of the graph: requested packages and packages nothing depends on."""
    needed = {d for p in env.packages for d in p.dependencies}
    return tuple(p for p in env.packages if p.requested or p.canonical_name not in needed)


def document_name(env: Environment) -> str:
    return env.name or source_name(env)


def serial_uuid(env: Environment, options: SbomOptions) -> uuid.UUID:
    """A UUID derived from everything the document says, so the same input gives the same one.

    The environment digest covers the packages' metadata details too.
    """
    digest = hashlib.sha256()
    for part in (
        environment_digest(env),
        TOOL_VERSION,
        options.author or "",
        options.timestamp.isoformat() if options.timestamp else "",
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    return uuid.uuid5(_SERIAL_NAMESPACE, digest.hexdigest())


def environment_properties(env: Environment) -> list[tuple[str, str]]:
    """Document-level facts: source kind, name and digest, python, platform, notes."""
    values = [
        ("assay:source:kind", env.source.kind),
        ("assay:source:name", source_name(env)),
        ("assay:source:digest", env.source.digest),
    ]
    if env.python_version:
        values.append(("assay:environment:python-version", env.python_version))
    if env.platform:
        values.append(("assay:environment:platform", env.platform))
    values.extend((f"assay:environment:{key}", value) for key, value in env.properties)
    values.extend(("assay:note", note) for note in env.notes)
    return values
