"""A fake advisory source built from real records, for the audit and report tests."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from assay.advisories.model import Advisory
from assay.advisories.osv import parse_record
from assay.advisories.ports import AdvisorySource

REPO = Path(__file__).resolve().parents[2]
VULNS = REPO / ".." / "shared" / "data" / "advisories" / "pypa-advisory-database" / "vulns"
AUDIT_ASSETS = REPO / "tests" / "assets" / "audit"


def pypa(package: str, advisory_id: str) -> Advisory:
    """One record of PyPA's advisory-database."""
    path = VULNS / package / f"{advisory_id}.yaml"
    return parse_record(yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader))


def pypa_package(package: str) -> list[Advisory]:
    """Every record PyPA's advisory-database has for ``package``."""
    return [
        parse_record(yaml.load(p.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader))
        for p in sorted((VULNS / package).glob("*.yaml"))
    ]


def asset(name: str) -> Advisory:
    """An OSV JSON record from tests/assets/audit/advisories."""
    path = AUDIT_ASSETS / "advisories" / name
    return parse_record(json.loads(path.read_text(encoding="utf-8")))


def record(
    advisory_id: str,
    name: str,
    events: Sequence[dict[str, str]],
    *,
    aliases: Sequence[str] = (),
    vector: str | None = None,
    summary: str | None = None,
) -> Advisory:
    """A small synthetic OSV record, parsed by the real parser."""
    data: dict[str, Any] = {
        "id": advisory_id,
        "modified": "2026-01-01T00:00:00Z",
        "aliases": list(aliases),
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": list(events)}],
            }
        ],
    }
    if vector:
        data["severity"] = [{"type": "CVSS_V3", "score": vector}]
    if summary:
        data["summary"] = summary
    return parse_record(data)


class FakeSource(AdvisorySource):
    """Answers from a fixed list of records, like the real database does."""

    def __init__(self, records: Iterable[Advisory]) -> None:
        self.records = list(records)
        self.queries: list[str] = []

    def query(self, name: str) -> Sequence[Advisory]:
        self.queries.append(name)
        return sorted(
            (r for r in self.records if not r.withdrawn and name in r.affected_names()),
            key=lambda r: r.id,
        )

    def get(self, advisory_id: str) -> Advisory | None:
        return next((r for r in self.records if advisory_id in r.ids), None)
