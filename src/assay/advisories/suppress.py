"""Suppressing findings: ``--ignore ID``, an ignore file, and VEX documents.

Everything here is pure: the CLI reads the files (bounded) and passes their
text, and today's date is passed in, never read from the clock.

Ignore file (TOML)::

    [[ignore]]
    id = "GHSA-j8r2-6x86-q33q"          # any id or alias of the finding
    reason = "proxies are not used"     # required
    expires = 2026-12-31                # required; a TOML date (or "YYYY-MM-DD")
    package = "requests"                # optional: only this package

An entry applies up to and including its ``expires`` date; after it, the
entry stops applying and is reported as expired.

VEX: OpenVEX 0.2 JSON (``statements[]``) and CycloneDX VEX JSON
(``vulnerabilities[]`` with ``analysis`` and ``affects``).  A statement
applies to a finding when one of its vulnerability ids is one of the finding's
ids and one of its products (OpenVEX: product or subcomponent; CycloneDX:
``affects[].ref`` as a purl or a component ``bom-ref``) is the package's
``pkg:pypi`` purl, with the same version or none.  When several statements
apply, the latest (by timestamp, then document order) wins.  OpenVEX
``not_affected`` and ``fixed``, CycloneDX ``not_affected``, ``false_positive``,
``resolved`` and ``resolved_with_pedigree`` suppress the finding; the other
states leave it reported.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from packaging.utils import canonicalize_name

from assay.advisories.audit import ExpiredIgnore, Finding, SuppressedFinding
from assay.advisories.vex import ProductRef, VexStatement, parse_vex
from assay.errors import AssayError

__all__ = [
    "IgnoreEntry",
    "ProductRef",
    "SuppressionError",
    "SuppressionPolicy",
    "VexStatement",
    "command_line_ignores",
    "parse_ignore_file",
    "parse_vex",
]

_ENTRY_KEYS = {"id", "reason", "expires", "package"}


class SuppressionError(AssayError):
    """An ignore file or VEX document is unreadable or malformed."""

    exit_code = 3


@dataclass(frozen=True, slots=True)
class IgnoreEntry:
    """One ignore rule; ``expires`` None only for ``--ignore`` on the command line."""

    id: str
    reason: str
    origin: str  # "file:line" or "--ignore"
    expires: date | None = None
    package: str | None = None  # canonical name, when the entry is scoped to one package

    def matches(self, finding: Finding) -> bool:
        if self.package is not None and self.package != finding.package.canonical_name:
            return False
        wanted = self.id.upper()
        return any(i.upper() == wanted for i in finding.ids)


def command_line_ignores(ids: Sequence[str]) -> tuple[IgnoreEntry, ...]:
    return tuple(
        IgnoreEntry(id=i.strip(), reason="ignored with --ignore", origin="--ignore")
        for i in ids
        if i.strip()
    )


def _entry_lines(text: str) -> list[tuple[int, int]]:
    """(first line, last line) of each ``[[ignore]]`` table, 1-based."""
    lines = text.splitlines()
    starts = [
        number
        for number, line in enumerate(lines, start=1)
        if re.match(r"\s*\[\[\s*ignore\s*\]\]", line)
    ]
    ends = [s - 1 for s in starts[1:]] + [len(lines)]
    return list(zip(starts, ends[: len(starts)], strict=True))


def _key_line(text: str, span: tuple[int, int] | None, key: str) -> int | None:
    if span is None:
        return None
    lines = text.splitlines()
    for number in range(span[0], span[1] + 1):
        if re.match(rf"\s*{re.escape(key)}\s*=", lines[number - 1]):
            return number
    return span[0]


def _where(path: str, line: int | None) -> str:
    return f"{path}:{line}" if line is not None else path


def _parse_toml(path: str, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\(at line (\d+)", message)
        line = int(found.group(1)) if found else None
        reason = message.split(" (at line", 1)[0]
        raise SuppressionError(f"{_where(path, line)}: invalid TOML: {reason}") from None


def _expiry(value: Any, where: str) -> date:
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise SuppressionError(f"{where}: 'expires' must be a date such as 2026-12-31")


def parse_ignore_file(path: str, text: str) -> tuple[IgnoreEntry, ...]:
    """Every entry of an ignore file; any mistake raises naming ``path:line``."""
    data = _parse_toml(path, text)
    unknown = sorted(set(data) - {"ignore"})
    if unknown:
        raise SuppressionError(
            f"{path}: unknown top-level key {unknown[0]!r} (expected [[ignore]])"
        )
    raw = data.get("ignore", [])
    if not isinstance(raw, list):
        raise SuppressionError(f"{path}: 'ignore' must be an array of tables ([[ignore]])")
    spans = _entry_lines(text)
    entries = []
    for index, item in enumerate(raw):
        span = spans[index] if index < len(spans) and len(spans) == len(raw) else None
        label = f"ignore entry {index + 1}"
        if not isinstance(item, dict):
            raise SuppressionError(f"{path}: {label} must be a table")
        for key in sorted(set(item) - _ENTRY_KEYS):
            where = _where(path, _key_line(text, span, key))
            raise SuppressionError(
                f"{where}: {label}: unknown key {key!r} (allowed: id, reason, expires, package)"
            )
        for key in ("id", "reason", "expires"):
            if key not in item:
                where = _where(path, span[0] if span else None)
                raise SuppressionError(f"{where}: {label}: missing required key {key!r}")
        for key in ("id", "reason", "package"):
            if key in item and (not isinstance(item[key], str) or not item[key].strip()):
                where = _where(path, _key_line(text, span, key))
                raise SuppressionError(f"{where}: {label}: {key!r} must be a non-empty string")
        expires = _expiry(item["expires"], f"{_where(path, _key_line(text, span, 'expires'))}")
        package = item.get("package")
        entries.append(
            IgnoreEntry(
                id=item["id"].strip(),
                reason=" ".join(item["reason"].split()),
                origin=_where(path, span[0] if span else None),
                expires=expires,
                package=canonicalize_name(package.strip()) if isinstance(package, str) else None,
            )
        )
    return tuple(entries)


class SuppressionPolicy:
    """Applies ignore entries and VEX statements to findings (an audit ``Suppressor``)."""

    def __init__(
        self,
        *,
        today: date,
        ignores: Sequence[IgnoreEntry] = (),
        vex: Sequence[VexStatement] = (),
    ) -> None:
        self.today = today
        self.active = tuple(e for e in ignores if e.expires is None or e.expires >= today)
        self.expired_entries = tuple(e for e in ignores if e not in self.active)
        self.vex = tuple(vex)

    def suppress(self, finding: Finding) -> SuppressedFinding | None:
        for entry in self.active:
            if entry.matches(finding):
                return SuppressedFinding(
                    finding=finding,
                    kind="ignore" if entry.expires is None else "ignore-file",
                    reason=entry.reason,
                    origin=entry.origin,
                    matched_id=entry.id,
                )
        applicable = [s for s in self.vex if s.matches(finding)]
        if not applicable:
            return None
        latest = max(applicable, key=lambda s: (s.timestamp or "", s.order))
        if not latest.suppresses:
            return None
        return SuppressedFinding(
            finding=finding,
            kind="vex",
            reason=latest.describe(),
            origin=latest.origin,
            matched_id=next(i for i in latest.ids if i.upper() in {x.upper() for x in finding.ids}),
            status=latest.status,
            justification=latest.justification,
        )

    def expired(self, findings: Sequence[Finding]) -> tuple[ExpiredIgnore, ...]:
        return tuple(
            ExpiredIgnore(
                id=entry.id,
                reason=entry.reason,
                expires=entry.expires.isoformat() if entry.expires else "",
                origin=entry.origin,
                matched=tuple(
                    f"{f.package.name} {f.package.version_raw} {f.id}"
                    for f in findings
                    if entry.matches(f)
                ),
            )
            for entry in self.expired_entries
        )
