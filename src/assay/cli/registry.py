"""``assay registry``: the curated registry's status and its API tokens.

``token`` commands work on the state directory directly (no server needed):
``--state-dir``, else the registry configuration's ``state_dir`` (``--config``
or ``ASSAY_REGISTRY_CONFIG``, ``ASSAY_REGISTRY_DIR``, ``<assay home>/registry``).
``status`` reads the same directory, or asks a running registry (``--url``)
with an admin token (``--token`` or ``ASSAY_REGISTRY_TOKEN``).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import httpx
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assay.errors import AssayError
from assay.registry.internal import InternalStore
from assay.registry.model import IndexConfig
from assay.registry.tokens import TokenStore, parse_expiry, token_document
from assay.server.registry_admin import registry_status

EXIT_UNREACHABLE = 4


class RegistryUnreachableError(AssayError):
    """The registry at --url could not be asked (down, refused, not a registry): exit 4."""

    exit_code = EXIT_UNREACHABLE


_STATE_DIR = click.option(
    "--state-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    metavar="DIR",
    help="The registry's state directory (default: from the registry configuration).",
)
_CONFIG = click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    metavar="FILE",
    help="The registry configuration (TOML) that names the state directory.",
)
_FORMAT = click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)


def _config(
    state_dir: Path | None, config_file: Path | None
) -> tuple[Path, tuple[IndexConfig, ...]]:
    """(state directory, configured indexes): --state-dir wins over the configuration."""
    if state_dir is not None and config_file is None:
        return state_dir, ()
    from assay.registry.config import load_config  # noqa: PLC0415 - only when needed

    config = load_config(config_file, pip_indexes=lambda _env: [])
    return state_dir or config.state_dir, config.indexes


def _state_dir(state_dir: Path | None, config_file: Path | None) -> Path:
    return _config(state_dir, config_file)[0]


def _fetch_status(url: str, token: str | None) -> dict[str, Any]:
    target = url.rstrip("/") + "/-/status"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.get(target, headers=headers, timeout=30.0)
    except httpx.HTTPError as exc:
        raise RegistryUnreachableError(f"{target}: cannot reach the registry: {exc}") from None
    if response.status_code in (401, 403):
        raise AssayError(
            f"{target}: {response.status_code}: an admin token is needed "
            "(--token or ASSAY_REGISTRY_TOKEN)"
        )
    if response.status_code != 200:
        detail = response.text.strip().splitlines()[:1]
        raise RegistryUnreachableError(
            f"{target}: HTTP {response.status_code} {' '.join(detail)}".rstrip()
        )
    try:
        document = response.json()
    except ValueError:
        raise RegistryUnreachableError(f"{target}: the answer is not JSON") from None
    if not isinstance(document, dict):
        raise RegistryUnreachableError(f"{target}: the answer is not a JSON object")
    return document


def _rows(prefix: str, value: Any) -> list[tuple[str, str]]:
    """A nested JSON document as (dotted key, value) rows; lists of objects one row each."""
    if isinstance(value, dict):
        rows: list[tuple[str, str]] = []
        for key in value:
            rows.extend(_rows(f"{prefix}.{key}" if prefix else str(key), value[key]))
        return rows
    if isinstance(value, list):
        if not value:
            return [(prefix, "(none)")]
        if all(not isinstance(item, dict | list) for item in value):
            return [(prefix, ", ".join(str(item) for item in value))]
        return [(f"{prefix}[{n}]", _brief(item)) for n, item in enumerate(value)]
    if isinstance(value, float):
        return [(prefix, f"{value:.4g}")]
    return [(prefix, "-" if value is None else str(value))]


def _brief(item: Any) -> str:
    """One list entry on one line: a blocked request or pending file reads as a sentence."""
    if not isinstance(item, dict):
        return json.dumps(item, sort_keys=True)
    when = item.get("at", item.get("since"))
    if isinstance(when, int | float):
        when = datetime.fromtimestamp(when, UTC).isoformat(timespec="seconds")
    if "filename" in item and "reasons" in item:
        where = ", ".join(str(x) for x in (item.get("index"), item.get("stage"), when) if x)
        return f"{item['filename']}: {item['reasons']} ({where})"
    if "filename" in item:
        return f"{item['filename']} (since {when})" if when else str(item["filename"])
    return json.dumps(item, sort_keys=True)


def _table(headers: list[str], rows: list[list[str]]) -> None:
    table = Table(show_edge=False, header_style="bold")
    for header in headers:
        table.add_column(header, overflow="fold", no_wrap=header not in {"description", "value"})
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    console = Console(soft_wrap=True)
    if not console.is_terminal:
        console = Console(soft_wrap=True, width=140)  # a pipe or file: do not fold at 80 columns
    console.print(table)


@click.group("registry")
def registry_group() -> None:
    """The curated registry: status, and the tokens that read, upload and administer it."""


@registry_group.command("status")
@click.option("--url", default=None, metavar="URL", help="Ask a running registry (its base URL).")
@click.option("--token", default=None, metavar="TOKEN", help="Admin token for --url.")
@_STATE_DIR
@_CONFIG
@_FORMAT
def status_command(
    *,
    url: str | None,
    token: str | None,
    state_dir: Path | None,
    config_file: Path | None,
    output_format: str,
) -> None:
    """Cache size, hit rate, blocked requests, pending vetting, internal packages, tokens."""
    if url is not None and state_dir is not None:
        raise click.UsageError("give --url or --state-dir, not both")
    if url is not None:
        document = _fetch_status(url, token or os.environ.get("ASSAY_REGISTRY_TOKEN"))
    else:
        from assay.registry.status import read_status  # noqa: PLC0415 - only when needed

        directory, indexes = _config(state_dir, config_file)
        document = registry_status(
            TokenStore.in_directory(directory),
            InternalStore(directory),
            lambda: read_status(directory, indexes),
        )
        document = {"state_dir": str(directory), **document}
    if output_format == "json":
        click.echo(json.dumps(document, indent=2, sort_keys=True))
        return
    _table(["field", "value"], [list(row) for row in _rows("", document)])


@registry_group.group("token")
def token_group() -> None:
    """Create, list and revoke API tokens (stored hashed in the state directory)."""


@token_group.command("create")
@click.option(
    "--scope",
    "scopes",
    required=True,
    metavar="SCOPES",
    help="Comma-separated: read, upload, admin (admin implies the others).",
)
@click.option(
    "--project",
    "projects",
    multiple=True,
    metavar="NAME",
    help="Restrict uploads to this project (repeatable; default: every project).",
)
@click.option(
    "--expires",
    default=None,
    metavar="DATE",
    help="YYYY-MM-DD (valid through that day, UTC), an ISO date-time, or N days (30d).",
)
@click.option("--description", default="", metavar="TEXT", help="What the token is for.")
@_STATE_DIR
@_CONFIG
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def create_command(
    *,
    scopes: str,
    projects: tuple[str, ...],
    expires: str | None,
    description: str,
    state_dir: Path | None,
    config_file: Path | None,
    output_format: str,
) -> None:
    """Create a token and print its secret (shown this once only)."""
    moment = parse_expiry(expires) if expires else None
    if moment is not None and moment <= datetime.now(UTC):
        raise AssayError(f"--expires {expires!r} is in the past")
    store = TokenStore.in_directory(_state_dir(state_dir, config_file))
    new = store.create(scopes.split(","), projects, description=description, expires=moment)
    if output_format == "json":
        document = {"token": token_document(new.token), "secret": new.secret}
        click.echo(json.dumps(document, indent=2, sort_keys=True))
        return
    click.echo(new.secret)
    click.echo(
        f"token {new.token.token_id} ({', '.join(sorted(new.token.scopes))}) created; "
        "the secret above is shown only once",
        err=True,
    )


@token_group.command("list")
@_STATE_DIR
@_CONFIG
@_FORMAT
def list_command(state_dir: Path | None, config_file: Path | None, output_format: str) -> None:
    """Every token (never its secret): scopes, projects, expiry, state."""
    now = datetime.now(UTC)
    store = TokenStore.in_directory(_state_dir(state_dir, config_file))
    tokens = store.tokens()
    if output_format == "json":
        documents = [token_document(token, now) for token in tokens]
        click.echo(json.dumps({"tokens": documents}, indent=2, sort_keys=True))
        return
    if not tokens:
        click.echo("no tokens (create one with 'assay registry token create --scope read')")
        return
    headers = ["id", "scopes", "projects", "state", "created", "expires", "description"]
    rows = [
        [
            token.token_id,
            ",".join(sorted(token.scopes)),
            ",".join(token.projects) or "*",
            token.state(now),
            token.created.strftime("%Y-%m-%d"),
            token.expires.strftime("%Y-%m-%d %H:%MZ") if token.expires else "never",
            token.description,
        ]
        for token in tokens
    ]
    _table(headers, rows)


@token_group.command("revoke")
@click.argument("token_id", metavar="ID")
@_STATE_DIR
@_CONFIG
def revoke_command(token_id: str, state_dir: Path | None, config_file: Path | None) -> None:
    """Revoke a token at once (it is kept, marked revoked, for the record)."""
    store = TokenStore.in_directory(_state_dir(state_dir, config_file))
    token = store.revoke(token_id)
    click.echo(f"token {token.token_id} revoked")
