"""The environment artifact: canonical, deterministic JSON with a content digest.

``dumps`` writes sorted keys, no timestamps and a stable package order, so the
same environment always gives the same bytes.  The digest covers everything
except ``source.path`` (where a file was read from is not what it contains), so
two captures of the same lock from different directories share one digest.
``loads`` validates every field and rebuilds an equal ``Environment``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, TypeVar

from assay.environments.model import (
    Ecosystem,
    Environment,
    Hash,
    HashSource,
    License,
    Origin,
    OriginKind,
    Package,
    Party,
    Source,
)
from assay.environments.ports import ReaderError

SCHEMA = "assay.environment/1"

_E = TypeVar("_E", Ecosystem, OriginKind, HashSource)


class ArtifactError(ReaderError):
    """An artifact file is not a valid assay environment artifact."""


def _drop_empty(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, (), [], {}, False)}


def _party_to_dict(party: Party) -> dict[str, Any]:
    return _drop_empty({"name": party.name, "email": party.email})


def _package_to_dict(package: Package) -> dict[str, Any]:
    origin = package.origin
    return _drop_empty(
        {
            "name": package.name,
            "canonical_name": package.canonical_name,
            "version": package.version_raw,
            "ecosystem": package.ecosystem.value,
            "purl": package.purl,
            "specifier": package.specifier,
            "hashes": [str(h) for h in package.hashes],
            "hash_source": package.hash_source.value if package.hash_source else None,
            "origin": _drop_empty(
                {
                    "kind": origin.kind.value,
                    "url": origin.url,
                    "vcs": origin.vcs,
                    "commit": origin.commit,
                    "requested_revision": origin.requested_revision,
                    "subdirectory": origin.subdirectory,
                    "path": origin.path,
                    "editable": origin.editable,
                }
            ),
            "installer": package.installer,
            "requested": package.requested,
            "markers": package.markers,
            "extras": list(package.extras),
            "groups": list(package.groups),
            "license": (
                _drop_empty(
                    {
                        "raw": package.license.raw,
                        "spdx": package.license.spdx,
                        "origin": package.license.origin,
                    }
                )
                if package.license
                else None
            ),
            "dependencies": list(package.dependencies),
            "platform": package.platform,
            "build": package.build,
            "summary": package.summary,
            "authors": [_party_to_dict(p) for p in package.authors],
            "maintainers": [_party_to_dict(p) for p in package.maintainers],
            "homepage": package.homepage,
            "download_url": package.download_url,
            "project_urls": [{"label": k, "url": u} for k, u in package.project_urls],
        }
    ) | ({"requested": False} if package.requested is False else {})


def environment_body(env: Environment) -> dict[str, Any]:
    """The JSON-ready body of an environment (without the digest)."""
    return _drop_empty(
        {
            "source": {
                "kind": env.source.kind,
                "path": env.source.path,
                "digest": env.source.digest,
            },
            "name": env.name,
            "python_version": env.python_version,
            "platform": env.platform,
            "notes": list(env.notes),
            "properties": dict(env.properties),
            "packages": [_package_to_dict(p) for p in env.packages],
        }
    )


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def environment_digest(env: Environment) -> str:
    """``sha256:<hex>`` over the canonical body, leaving out ``source.path``."""
    return _body_digest(environment_body(env))


def _body_digest(body: dict[str, Any]) -> str:
    located = {**body, "source": {k: v for k, v in body["source"].items() if k != "path"}}
    return "sha256:" + hashlib.sha256(_canonical(located)).hexdigest()


def dumps(env: Environment) -> str:
    """The artifact text: pretty, sorted, deterministic, newline-terminated."""
    return dumps_with_digest(env)[0]


def dumps_with_digest(env: Environment) -> tuple[str, str]:
    """The artifact text and its digest, building the body once."""
    body = environment_body(env)
    digest = _body_digest(body)
    # schema and digest first (readers sniff the head), everything below sorted
    document = {"schema": SCHEMA, "digest": digest, "environment": _sorted(body)}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n", digest


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


class _Fields:
    """Typed access to one JSON object, with errors that say where."""

    def __init__(self, path: Path, where: str, data: Any) -> None:
        if not isinstance(data, dict):
            raise ArtifactError(path, f"{where} must be an object")
        self.path, self.where, self.data = path, where, data

    def _fail(self, key: str, expected: str) -> ArtifactError:
        return ArtifactError(self.path, f"{self.where}.{key} must be {expected}")

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self.data.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str):
            raise self._fail(key, "a string")
        return value

    def flag(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail(key, "a list of strings")
        return tuple(value)

    def children(self, key: str) -> list[_Fields]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise self._fail(key, "a list of objects")
        return [_Fields(self.path, f"{self.where}.{key}[{i}]", v) for i, v in enumerate(value)]

    def child(self, key: str) -> _Fields | None:
        value = self.data.get(key)
        return None if value is None else _Fields(self.path, f"{self.where}.{key}", value)

    def choice(self, key: str, enum: type[_E]) -> _E | None:
        value = self.text(key)
        if value is None:
            return None
        try:
            return enum(value)
        except ValueError:
            raise self._fail(key, "one of " + ", ".join(m.value for m in enum)) from None


def _hash(path: Path, where: str, text: str) -> Hash:
    algorithm, sep, value = text.partition(":")
    if not sep or not algorithm or not value:
        raise ArtifactError(path, f"{where}: hash {text!r} is not algorithm:hex")
    return Hash(algorithm, value)


def _package_from(path: Path, index: int, data: Any) -> Package:
    f = _Fields(path, f"packages[{index}]", data)
    origin_fields = f.child("origin")
    origin = Origin()
    if origin_fields is not None:
        origin = Origin(
            kind=origin_fields.choice("kind", OriginKind) or OriginKind.UNKNOWN,
            url=origin_fields.text("url"),
            vcs=origin_fields.text("vcs"),
            commit=origin_fields.text("commit"),
            requested_revision=origin_fields.text("requested_revision"),
            subdirectory=origin_fields.text("subdirectory"),
            path=origin_fields.text("path"),
            editable=bool(origin_fields.flag("editable")),
        )
    license_fields = f.child("license")
    return Package(
        name=f.text("name", required=True) or "",
        version_raw=f.text("version"),
        ecosystem=f.choice("ecosystem", Ecosystem) or Ecosystem.PYPI,
        specifier=f.text("specifier"),
        hashes=tuple(_hash(path, f.where, h) for h in f.texts("hashes")),
        hash_source=f.choice("hash_source", HashSource),
        origin=origin,
        installer=f.text("installer"),
        requested=f.flag("requested"),
        markers=f.text("markers"),
        extras=f.texts("extras"),
        groups=f.texts("groups"),
        license=(
            License(
                raw=license_fields.text("raw"),
                spdx=license_fields.text("spdx"),
                origin=license_fields.text("origin"),
            )
            if license_fields
            else None
        ),
        dependencies=f.texts("dependencies"),
        platform=f.text("platform"),
        build=f.text("build"),
        summary=f.text("summary"),
        authors=tuple(Party(p.text("name"), p.text("email")) for p in f.children("authors")),
        maintainers=tuple(
            Party(p.text("name"), p.text("email")) for p in f.children("maintainers")
        ),
        homepage=f.text("homepage"),
        download_url=f.text("download_url"),
        project_urls=tuple(
            (u.text("label", required=True) or "", u.text("url", required=True) or "")
            for u in f.children("project_urls")
        ),
    )


def from_document(path: Path, document: Any) -> Environment:
    """Rebuild an environment from a parsed artifact, checking schema and digest."""
    top = _Fields(path, "artifact", document)
    schema = top.text("schema", required=True)
    if schema != SCHEMA:
        raise ArtifactError(path, f"unsupported artifact schema {schema!r}, expected {SCHEMA!r}")
    body = top.child("environment")
    if body is None:
        raise ArtifactError(path, "artifact.environment is missing")
    source = body.child("source")
    if source is None:
        raise ArtifactError(path, "environment.source is missing")
    raw_properties = body.child("properties") or _Fields(path, "environment.properties", {})
    properties = tuple(
        (key, raw_properties.text(key, required=True) or "") for key in raw_properties.data
    )
    packages = body.data.get("packages", [])
    if not isinstance(packages, list):
        raise ArtifactError(path, "environment.packages must be a list")
    env = Environment(
        source=Source(
            kind=source.text("kind", required=True) or "",
            path=source.text("path", required=True) or "",
            digest=source.text("digest", required=True) or "",
        ),
        packages=tuple(_package_from(path, i, p) for i, p in enumerate(packages)),
        python_version=body.text("python_version"),
        platform=body.text("platform"),
        name=body.text("name"),
        notes=body.texts("notes"),
        properties=properties,
    )
    recorded = top.text("digest", required=True)
    actual = environment_digest(env)
    if recorded != actual:
        raise ArtifactError(
            path, f"digest mismatch: the file says {recorded}, its content is {actual}"
        )
    return env
