"""OSV API request bodies to lookups, and lookups to OSV response bodies (no HTTP here).

The request shapes and error messages follow OSV's own API (``POST /v1/query``,
``POST /v1/querybatch``, ``GET /v1/vulns/{id}``) as far as a PyPI-only local
database can:

- a query names a package by ``name`` (plus ``ecosystem``) or by ``purl``, and
  optionally a ``version``; without a version every advisory naming the
  package is returned;
- names are compared in PEP 503 form, versions with
  :func:`assay.advisories.matching.is_affected` (exact OSV semantics);
- an ecosystem other than ``PyPI`` (or a purl of another type) matches
  nothing, as the database only holds PyPI advisories; a missing ecosystem is
  taken as PyPI, since the database holds nothing else;
- ``commit`` queries are refused (:class:`UnsupportedQueryError`): ``GIT`` ranges
  are not indexed, and an empty answer would falsely say "not affected";
- ``page_token`` is refused when set: this server never pages, so it never
  issued one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packageurl import PackageURL
from packaging.utils import canonicalize_name

from assay.advisories.matching import is_affected
from assay.advisories.model import Advisory
from assay.advisories.ports import AdvisorySource

ECOSYSTEM = "PyPI"
MAX_BATCH_QUERIES = 1000  # OSV's own limit per /v1/querybatch request
MAX_ID_LENGTH = 100  # OSV refuses longer ids ("ID too long")

_QUERY_FIELDS = frozenset({"package", "version", "commit", "page_token"})
_PACKAGE_FIELDS = frozenset({"name", "ecosystem", "purl"})


class InvalidQueryError(ValueError):
    """The request body is not a valid OSV query (HTTP 400, gRPC code 3)."""


class UnsupportedQueryError(ValueError):
    """A valid OSV query this server cannot answer truthfully (HTTP 501, gRPC code 12)."""


@dataclass(frozen=True, slots=True)
class PackageQuery:
    """One parsed query: a PEP 503 name (None: matches nothing) and an optional version."""

    name: str | None
    version: str | None = None


def _optional_text(mapping: Mapping[str, Any], key: str, where: str) -> str | None:
    value = mapping.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidQueryError(f"{where}{key!r} must be a string")
    return value or None  # protobuf semantics: an empty string is an unset field


def _check_fields(mapping: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        raise InvalidQueryError(f"{where}unknown field {unknown[0]!r}")


def _from_purl(text: str, name: str | None, ecosystem: str | None, where: str) -> PackageQuery:
    try:
        purl = PackageURL.from_string(text)
    except ValueError as exc:
        raise InvalidQueryError(f"{where}invalid purl {text!r}: {exc}") from None
    if name:
        raise InvalidQueryError(f"{where}name specified in a PURL query")
    if ecosystem:
        raise InvalidQueryError(f"{where}ecosystem specified in a PURL query")
    if purl.type != "pypi":
        return PackageQuery(name=None)
    return PackageQuery(name=canonicalize_name(purl.name), version=purl.version or None)


def parse_query(body: Any, where: str = "") -> PackageQuery:
    """The query in one ``/v1/query`` body (or one ``queries[]`` entry of a batch)."""
    if not isinstance(body, dict):
        raise InvalidQueryError(f"{where}a query must be a JSON object")
    _check_fields(body, _QUERY_FIELDS, where)
    if _optional_text(body, "page_token", where):
        raise InvalidQueryError(f"{where}Invalid page token.")
    if _optional_text(body, "commit", where):
        raise UnsupportedQueryError(
            f"{where}commit queries are not supported: GIT ranges are not indexed"
        )
    version = _optional_text(body, "version", where)
    package = body.get("package")
    if not isinstance(package, dict):
        raise InvalidQueryError(f"{where}Invalid query: 'package' must be an object")
    _check_fields(package, _PACKAGE_FIELDS, f"{where}package: ")
    name = _optional_text(package, "name", where)
    ecosystem = _optional_text(package, "ecosystem", where)
    purl = _optional_text(package, "purl", where)
    if purl is not None:
        query = _from_purl(purl, name, ecosystem, where)
        if query.version and version:
            raise InvalidQueryError(f"{where}version specified in params and PURL query")
        return PackageQuery(name=query.name, version=query.version or version)
    if not name:
        raise InvalidQueryError(f"{where}Invalid query: 'package' needs a 'name' or a 'purl'")
    if ecosystem not in (None, ECOSYSTEM):
        return PackageQuery(name=None, version=version)
    return PackageQuery(name=canonicalize_name(name), version=version)


def parse_batch(body: Any, max_queries: int = MAX_BATCH_QUERIES) -> list[PackageQuery]:
    """The queries of a ``/v1/querybatch`` body, in order."""
    if not isinstance(body, dict):
        raise InvalidQueryError("the body must be a JSON object")
    _check_fields(body, frozenset({"queries"}), "")
    queries = body.get("queries")
    if not isinstance(queries, list):
        raise InvalidQueryError("'queries' must be a list")
    if len(queries) > max_queries:
        raise InvalidQueryError(f"Too many queries. (at most {max_queries} per request)")
    return [parse_query(query, f"queries[{index}]: ") for index, query in enumerate(queries)]


def find(source: AdvisorySource, query: PackageQuery) -> list[Advisory]:
    """The advisories answering one query, sorted by id."""
    if query.name is None:
        return []
    found = source.query(query.name)
    if query.version is not None:
        name, version = query.name, query.version
        found = [a for a in found if is_affected(a, name, version)]
    unique = {a.id: a for a in found}
    return [unique[key] for key in sorted(unique)]


def document(advisory: Advisory) -> str:
    """The advisory's original OSV record as JSON text (a minimal one if none was kept)."""
    if advisory.document:
        return advisory.document
    minimal: dict[str, Any] = {"id": advisory.id, "modified": advisory.modified}
    if advisory.aliases:
        minimal["aliases"] = list(advisory.aliases)
    if advisory.withdrawn:
        minimal["withdrawn"] = advisory.withdrawn
    return json.dumps(minimal, sort_keys=True, separators=(",", ":"))


def query_response(advisories: Sequence[Advisory]) -> str:
    """A ``/v1/query`` response: full records, or ``{}`` when there are none (as OSV does)."""
    if not advisories:
        return "{}"
    return '{"vulns":[' + ",".join(document(a) for a in advisories) + "]}"


def batch_response(answers: Sequence[Sequence[Advisory]]) -> str:
    """A ``/v1/querybatch`` response: ids and modified times per query, in query order."""
    results = [
        {"vulns": [{"id": a.id, "modified": a.modified} for a in advisories]} if advisories else {}
        for advisories in answers
    ]
    return json.dumps({"results": results}, separators=(",", ":"))
