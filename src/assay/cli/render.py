"""Human output for the CLI (rich tables) and JSON documents for machines."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from assay.environments.diff import EnvironmentDiff
from assay.environments.model import Environment, Package

_console = Console(highlight=False, soft_wrap=False)
if not _console.is_terminal:
    _console.width = max(_console.width, 160)  # pipes and CI logs: do not fold names


def _relation(package: Package) -> str:
    if package.requested is None:
        return "?"
    return "direct" if package.requested else "transitive"


def _hashes(package: Package) -> str:
    if not package.hashes:
        return "-"
    source = package.hash_source.value if package.hash_source else "?"
    return f"{len(package.hashes)} ({source})"


def _version(package: Package) -> str:
    if package.version_raw is None:
        return f"unpinned {package.specifier or ''}".rstrip()
    return package.version_raw


def environment_table(env: Environment, digest: str) -> None:
    """Print one environment as a table, with its notes after it."""
    multi_platform = any(p.platform for p in env.packages)
    table = Table(show_edge=False, header_style="bold")
    for column in ("name", "version"):
        table.add_column(column, no_wrap=True)
    for column in ("source", "hashes", "license", "relation"):
        table.add_column(column, overflow="fold")
    if multi_platform:
        table.add_column("platform")
    for package in env.packages:
        license_text = package.license.display() if package.license else ""
        if len(license_text) > 40:
            license_text = license_text[:37] + "..."
        row = [
            package.name,
            _version(package),
            package.origin.describe(),
            _hashes(package),
            license_text,
            _relation(package),
        ]
        if multi_platform:
            row.append(package.platform or "")
        table.add_row(*row)
    facts = [f"{env.source.kind}: {env.source.path}", f"{len(env.packages)} packages"]
    if env.python_version:
        facts.append(f"python {env.python_version}")
    if env.platform:
        facts.append(env.platform)
    _console.print(" | ".join(facts))
    _console.print(f"digest {digest}")
    _console.print(table)
    for note in env.notes:
        _console.print(f"note: {note}")


def _versions(packages: tuple[Package, ...]) -> str:
    return ", ".join(_version(p) for p in packages)


def diff_table(before: Environment, after: Environment, result: EnvironmentDiff) -> None:
    """Print added, removed and changed packages."""
    _console.print(f"--- {before.source.kind}: {before.source.path}")
    _console.print(f"+++ {after.source.kind}: {after.source.path}")
    if result.empty:
        _console.print("no differences")
        return
    table = Table(show_edge=False, header_style="bold")
    for column in ("", "name", "before", "after", "what changed"):
        table.add_column(column)
    for package in result.removed:
        table.add_row("-", package.name, _version(package), "", "removed")
    for package in result.added:
        table.add_row("+", package.name, "", _version(package), "added")
    for change in result.changed:
        label = change.name + (f" [{change.platform}]" if change.platform else "")
        table.add_row(
            "~",
            label,
            _versions(change.before),
            _versions(change.after),
            ", ".join(a.value for a in change.aspects),
        )
    _console.print(table)
    _console.print(
        f"{len(result.added)} added, {len(result.removed)} removed, {len(result.changed)} changed"
    )


def _brief(package: Package) -> dict[str, Any]:
    return {"name": package.canonical_name, "version": package.version_raw, "purl": package.purl}


def diff_document(
    before: Environment, after: Environment, result: EnvironmentDiff
) -> dict[str, Any]:
    """The JSON form of a diff."""
    return {
        "before": {"kind": before.source.kind, "path": before.source.path},
        "after": {"kind": after.source.kind, "path": after.source.path},
        "added": [_brief(p) for p in result.added],
        "removed": [_brief(p) for p in result.removed],
        "changed": [
            {
                "name": c.name,
                "platform": c.platform,
                "before": [_brief(p) for p in c.before],
                "after": [_brief(p) for p in c.after],
                "aspects": [a.value for a in c.aspects],
            }
            for c in result.changed
        ],
    }
