"""OSV records (JSON or PyPA YAML, already parsed) to :class:`Advisory` values.

Only ``affected`` entries of the PyPI ecosystem are kept.  A record that does
not follow the schema raises :class:`OsvRecordError` naming what is wrong; the
importer counts and lists those instead of aborting.
"""

from __future__ import annotations

import json
from typing import Any

from packaging.utils import canonicalize_name

from assay.advisories.model import (
    Advisory,
    Affected,
    Event,
    EventKind,
    Range,
    Reference,
    SeverityVector,
)
from assay.errors import AssayError

ECOSYSTEM = "PyPI"


class OsvRecordError(AssayError):
    """One OSV record does not follow the schema."""


def _text(record: dict[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    value = record.get(key)
    if value is None:
        if required:
            raise OsvRecordError(f"{where}: missing {key!r}")
        return None
    if isinstance(value, str):
        return value
    if key in {"modified", "published", "withdrawn"} and hasattr(value, "isoformat"):
        return _timestamp(value)  # PyYAML turns unquoted timestamps into datetimes
    raise OsvRecordError(f"{where}: {key!r} must be a string")


def _timestamp(value: Any) -> str:
    text: str = value.isoformat()
    return text.replace("+00:00", "Z")


def _list(record: dict[str, Any], key: str, where: str) -> list[Any]:
    value = record.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise OsvRecordError(f"{where}: {key!r} must be a list")
    return value


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise OsvRecordError(f"{where}: must be an object")
    return value


def _severities(items: list[Any], where: str) -> tuple[SeverityVector, ...]:
    found = []
    for index, item in enumerate(items):
        entry = _mapping(item, f"{where}.severity[{index}]")
        kind = _text(entry, "type", f"{where}.severity[{index}]", required=True) or ""
        score = _text(entry, "score", f"{where}.severity[{index}]", required=True) or ""
        found.append(SeverityVector(type=kind, score=score))
    return tuple(found)


def _event(item: Any, where: str) -> Event:
    entry = _mapping(item, where)
    kinds = [k for k in EventKind if k.value in entry]
    if len(kinds) != 1:
        raise OsvRecordError(f"{where}: an event needs exactly one of introduced/fixed/...")
    value = _version_text(entry[kinds[0].value], f"{where}: {kinds[0].value}")
    return Event(kind=kinds[0], version=value)


def _version_text(value: Any, where: str) -> str:
    """A version string; YAML integers (``introduced: 0``) are exact, floats are not."""
    if type(value) is str and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        raise OsvRecordError(f"{where} is the unquoted number {value!r}: its text is ambiguous")
    if not isinstance(value, str) or not value:
        raise OsvRecordError(f"{where} must be a non-empty string")
    return value


def _affected(item: Any, where: str) -> Affected | None:
    entry = _mapping(item, where)
    package = _mapping(entry.get("package", {}), f"{where}.package")
    if package.get("ecosystem") != ECOSYSTEM:
        return None
    name = _text(package, "name", f"{where}.package", required=True) or ""
    ranges = []
    for r_index, raw_range in enumerate(_list(entry, "ranges", where)):
        r_where = f"{where}.ranges[{r_index}]"
        range_entry = _mapping(raw_range, r_where)
        kind = _text(range_entry, "type", r_where, required=True) or ""
        events = tuple(
            _event(e, f"{r_where}.events[{i}]")
            for i, e in enumerate(_list(range_entry, "events", r_where))
        )
        ranges.append(Range(type=kind, events=events))
    versions = [
        _version_text(version, f"{where}.versions[{v_index}]")
        for v_index, version in enumerate(_list(entry, "versions", where))
    ]
    return Affected(
        name=canonicalize_name(name),
        ranges=tuple(ranges),
        versions=tuple(versions),
        severity=_severities(_list(entry, "severity", where), where),
    )


def parse_record(record: Any, document: str | None = None) -> Advisory:
    """The PyPI view of one OSV record; raises OsvRecordError when malformed.

    ``document`` is the record's canonical JSON when the caller already has it
    (the database stores exactly that), which saves serialising it again.
    """
    data = _mapping(record, "record")
    advisory_id = _text(data, "id", "record", required=True) or ""
    where = advisory_id
    modified = _text(data, "modified", where, required=True) or ""
    aliases = _list(data, "aliases", where)
    if not all(isinstance(a, str) for a in aliases):
        raise OsvRecordError(f"{where}: 'aliases' must be a list of strings")
    affected = tuple(
        a
        for index, item in enumerate(_list(data, "affected", where))
        if (a := _affected(item, f"{where}.affected[{index}]")) is not None
    )
    references = []
    for index, item in enumerate(_list(data, "references", where)):
        entry = _mapping(item, f"{where}.references[{index}]")
        url = _text(entry, "url", f"{where}.references[{index}]")
        if url:
            references.append(Reference(type=str(entry.get("type", "WEB")), url=url))
    database_specific = data.get("database_specific")
    label = database_specific.get("severity") if isinstance(database_specific, dict) else None
    return Advisory(
        id=advisory_id,
        modified=modified,
        published=_text(data, "published", where),
        withdrawn=_text(data, "withdrawn", where),
        aliases=tuple(dict.fromkeys(a for a in aliases if a != advisory_id)),
        summary=_text(data, "summary", where),
        details=_text(data, "details", where),
        affected=affected,
        severity=_severities(_list(data, "severity", where), where),
        references=tuple(references),
        database_severity=label if isinstance(label, str) else None,
        document=document
        if document is not None
        else json.dumps(_jsonable(data), sort_keys=True, separators=(",", ":")),
    )


def _jsonable(value: Any) -> Any:
    """The record as JSON types (YAML may have produced datetimes and numbers)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return _timestamp(value)
    return value
