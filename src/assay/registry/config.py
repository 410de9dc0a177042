"""The registry's settings: an optional TOML file, ``ASSAY_*`` variables, defaults.

Precedence (later wins): embedded defaults, the file (``--config`` or
``ASSAY_REGISTRY_CONFIG``), environment variables, command-line flags (the CLI
applies those with :func:`dataclasses.replace`).  The file::

    [server]
    host = "127.0.0.1"        # ASSAY_REGISTRY_HOST
    port = 8000               # ASSAY_REGISTRY_PORT
    state_dir = "/var/lib/assay-registry"   # ASSAY_REGISTRY_DIR (default <home>/registry)
    anonymous_read = true     # ASSAY_REGISTRY_ANONYMOUS_READ

    [upstream]
    urls = ["https://mirror.example/simple/"]   # ASSAY_INDEX_URL; default: pip's configuration
    timeout = 30.0            # seconds, ASSAY_REGISTRY_UPSTREAM_TIMEOUT
    page_ttl = 600            # seconds a cached page is used unrevalidated, ASSAY_REGISTRY_PAGE_TTL

    [governance]
    blocked_action = "hide"   # or "yank"; ASSAY_REGISTRY_BLOCKED_ACTION

    [[index]]                 # none: one index at /simple/ (stage ASSAY_REGISTRY_STAGE)
    name = "prod"
    prefix = "/prod"          # served at /prod/simple/
    stage = "production"
    blocked_action = "yank"   # optional, per index

Every error names the file and line (``registry.toml:7: ...``) and exits 2.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from assay.registry.model import BLOCK_ACTIONS, BlockAction, IndexConfig
from assay.registry.ports import RegistryError
from assay.settings import Settings
from assay.vetting.index_config import configured_indexes

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_STAGE = "production"  # the strictest of the policy's default stages
DEFAULT_TIMEOUT = 30.0
DEFAULT_PAGE_TTL = 600.0
_PREFIX = re.compile(r"^(/[A-Za-z0-9._-]+)*$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_RESERVED = frozenset({"simple", "files", "-", "admin", "upload", "legacy"})
_TABLES: dict[str, frozenset[str]] = {
    "server": frozenset({"host", "port", "state_dir", "anonymous_read"}),
    "upstream": frozenset({"urls", "timeout", "page_ttl"}),
    "governance": frozenset({"blocked_action"}),
}
_INDEX_KEYS = frozenset({"name", "prefix", "stage", "blocked_action"})


class ConfigError(RegistryError):
    """The registry configuration is invalid (exit 2)."""


@dataclass(frozen=True, slots=True)
class RegistryConfig:
    state_dir: Path
    upstream_urls: tuple[str, ...]
    indexes: tuple[IndexConfig, ...] = (IndexConfig(name="default", stage=DEFAULT_STAGE),)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    anonymous_read: bool = True
    upstream_timeout: float = DEFAULT_TIMEOUT
    page_ttl: float = DEFAULT_PAGE_TTL
    blocked_action: BlockAction = "hide"
    source: str = field(default="<defaults>", compare=False)

    def index(self, name: str) -> IndexConfig | None:
        return next((i for i in self.indexes if i.name == name), None)


def _line_of(text: str, table: str | None, key: str, occurrence: int = 0) -> int | None:
    """The 1-based line where ``key`` is set inside ``[table]`` (or ``[[table]]`` number n)."""
    current: str | None = None
    seen = -1
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        header = re.match(r"^\[\[?\s*([A-Za-z0-9_.-]+)\s*\]\]?", line)
        if header:
            current = header[1]
            if line.startswith("[[") and current == table:
                seen += 1
            continue
        same_table = current == table and (not text.count(f"[[{table}]]") or seen == occurrence)
        if same_table and re.match(rf"^{re.escape(key)}\s*=", line):
            return number
    return None


class _Reader:
    """Checks values of a parsed TOML document, naming the file and line on failure."""

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.text = text

    def fail(self, message: str, table: str | None, key: str, occurrence: int = 0) -> ConfigError:
        line = _line_of(self.text, table, key, occurrence) if key else None
        where = f"{self.source}:{line}" if line else self.source
        return ConfigError(f"{where}: {message}")

    def get(self, data: Mapping[str, Any], table: str, key: str, kind: type, n: int = 0) -> Any:
        value = data.get(key)
        if value is None:
            return None
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if kind is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok:
            shown = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
            raise self.fail(
                f"{table}.{key} must be {shown.get(kind, kind.__name__)}", table, key, n
            )
        return value


def _check_tables(reader: _Reader, data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        if key == "index":
            if not isinstance(value, list):
                raise reader.fail("'index' must be an array of tables ([[index]])", None, key)
            continue
        if key not in _TABLES:
            known = ", ".join(sorted([*_TABLES, "index"]))
            raise reader.fail(f"unknown table or key {key!r} (known: {known})", None, key)
        if not isinstance(value, dict):
            raise reader.fail(f"{key!r} must be a table ([{key}])", None, key)
        for inner in value:
            if inner not in _TABLES[key]:
                known = ", ".join(sorted(_TABLES[key]))
                raise reader.fail(f"unknown key {key}.{inner} (known: {known})", key, inner)


def _positive(reader: _Reader, value: float | None, table: str, key: str) -> float | None:
    if value is not None and (not math.isfinite(value) or value <= 0):
        raise reader.fail(f"{table}.{key} must be a positive number of seconds", table, key)
    return None if value is None else float(value)


def _action(
    reader: _Reader, value: str | None, default: BlockAction, table: str, n: int = 0
) -> BlockAction:
    if value is None:
        return default
    for action in BLOCK_ACTIONS:
        if value == action:
            return action
    message = f"{table}.blocked_action must be 'hide' or 'yank', not {value!r}"
    raise reader.fail(message, table, "blocked_action", n)


def _indexes(reader: _Reader, raw: list[Any], default_action: BlockAction) -> list[IndexConfig]:
    indexes: list[IndexConfig] = []
    for n, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise reader.fail("each [[index]] must be a table", None, "index")
        for key in entry:
            if key not in _INDEX_KEYS:
                known = ", ".join(sorted(_INDEX_KEYS))
                raise reader.fail(f"unknown key index.{key} (known: {known})", "index", key, n)
        name = reader.get(entry, "index", "name", str, n)
        stage = reader.get(entry, "index", "stage", str, n)
        prefix = reader.get(entry, "index", "prefix", str, n)
        if not name or not _NAME.match(name):
            raise reader.fail("index.name must be a simple name like 'prod'", "index", "name", n)
        if not stage:
            raise reader.fail(f"index {name!r} needs a stage", "index", "name", n)
        prefix = (f"/{name}" if prefix is None else prefix).rstrip("/")
        if not _PREFIX.match(prefix) or (prefix and prefix.split("/")[1] in _RESERVED):
            raise reader.fail(
                f"index.prefix {prefix!r} must be '' or a path like '/prod' (not /simple, /files)",
                "index",
                "prefix",
                n,
            )
        raw_action = reader.get(entry, "index", "blocked_action", str, n)
        action = _action(reader, raw_action, default_action, "index", n)
        index = IndexConfig(name=name, stage=stage, prefix=prefix, blocked_action=action)
        for other in indexes:
            if other.name == name or other.prefix == prefix:
                raise reader.fail(
                    f"index {name!r} repeats the name or prefix of index {other.name!r}",
                    "index",
                    "name",
                    n,
                )
        indexes.append(index)
    return indexes


def _default_state_dir(env: Mapping[str, str]) -> Path:
    return Settings.from_env(env).registry_dir


def _env_bool(env: Mapping[str, str], key: str) -> bool | None:
    value = env.get(key, "").strip().lower()
    if not value:
        return None
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{key}={env[key]!r}: expected true or false")


def _env_number(env: Mapping[str, str], key: str, kind: type[int] | type[float]) -> Any:
    value = env.get(key, "").strip()
    if not value:
        return None
    try:
        number = kind(value)
    except ValueError:
        raise ConfigError(f"{key}={value!r}: expected a number") from None
    if not math.isfinite(number) or number < 0 or (kind is float and number == 0):
        raise ConfigError(f"{key}={value!r}: out of range")
    return number


def load_config(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    upstreams: tuple[str, ...] = (),
    pip_indexes: Callable[[Mapping[str, str]], list[str]] = configured_indexes,
) -> RegistryConfig:
    """The configuration from ``path`` (or ``ASSAY_REGISTRY_CONFIG``), env and defaults.

    ``upstreams`` (``--upstream``) replaces every other source of upstream URLs, so
    pip's configuration is only asked when nothing else names an upstream.
    """
    env = os.environ if environ is None else environ
    if path is None and env.get("ASSAY_REGISTRY_CONFIG"):
        path = Path(env["ASSAY_REGISTRY_CONFIG"]).expanduser()
    data: dict[str, Any] = {}
    text = ""
    source = "<defaults>"
    if path is not None:
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
            data = tomllib.loads(text)
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: not UTF-8 text") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    reader = _Reader(source, text)
    _check_tables(reader, data)
    server = data.get("server", {})
    upstream = data.get("upstream", {})
    governance = data.get("governance", {})

    raw_action = reader.get(governance, "governance", "blocked_action", str)
    action = _action(reader, raw_action, "hide", "governance")
    urls = reader.get(upstream, "upstream", "urls", list)
    if urls is not None and (not urls or not all(isinstance(u, str) and u for u in urls)):
        raise reader.fail("upstream.urls must be a non-empty list of URLs", "upstream", "urls")
    for url in urls or ():
        if not re.match(r"^(https?|file)://", url):
            raise reader.fail(f"upstream.urls: {url!r} is not an http(s) URL", "upstream", "urls")
    port = reader.get(server, "server", "port", int)
    if port is not None and not 0 <= port <= 65535:
        raise reader.fail("server.port must be 0-65535", "server", "port")
    state_dir = reader.get(server, "server", "state_dir", str)
    config = RegistryConfig(
        state_dir=Path(state_dir).expanduser()
        if state_dir
        else Settings.from_env(env).registry_dir,
        upstream_urls=(),
        host=reader.get(server, "server", "host", str) or DEFAULT_HOST,
        port=DEFAULT_PORT if port is None else port,
        anonymous_read=bool(reader.get(server, "server", "anonymous_read", bool) in (None, True)),
        upstream_timeout=_positive(
            reader, reader.get(upstream, "upstream", "timeout", float), "upstream", "timeout"
        )
        or DEFAULT_TIMEOUT,
        page_ttl=_positive(
            reader, reader.get(upstream, "upstream", "page_ttl", float), "upstream", "page_ttl"
        )
        or DEFAULT_PAGE_TTL,
        blocked_action=action,
        source=source,
    )
    indexes = _indexes(reader, data.get("index", []), action)
    stage = env.get("ASSAY_REGISTRY_STAGE", "").strip() or DEFAULT_STAGE
    config = replace(config, indexes=tuple(indexes) or (IndexConfig("default", stage, "", action),))
    lookup = None if upstreams else pip_indexes
    config = _apply_env(config, env, urls, lookup, state_dir is not None)
    return with_upstreams(config, upstreams)


def _apply_env(
    config: RegistryConfig,
    env: Mapping[str, str],
    urls: list[str] | None,
    pip_indexes: Callable[[Mapping[str, str]], list[str]] | None,
    state_dir_in_file: bool,
) -> RegistryConfig:
    changes: dict[str, Any] = {}
    if env.get("ASSAY_REGISTRY_HOST", "").strip():
        changes["host"] = env["ASSAY_REGISTRY_HOST"].strip()
    port = _env_number(env, "ASSAY_REGISTRY_PORT", int)
    if port is not None:
        if port > 65535:
            raise ConfigError(f"ASSAY_REGISTRY_PORT={port}: out of range")
        changes["port"] = port
    if state_dir_in_file and env.get("ASSAY_REGISTRY_DIR"):
        changes["state_dir"] = Path(env["ASSAY_REGISTRY_DIR"]).expanduser()
    anonymous = _env_bool(env, "ASSAY_REGISTRY_ANONYMOUS_READ")
    if anonymous is not None:
        changes["anonymous_read"] = anonymous
    for key, attribute in (
        ("ASSAY_REGISTRY_UPSTREAM_TIMEOUT", "upstream_timeout"),
        ("ASSAY_REGISTRY_PAGE_TTL", "page_ttl"),
    ):
        value = _env_number(env, key, float)
        if value is not None:
            changes[attribute] = value
    action = env.get("ASSAY_REGISTRY_BLOCKED_ACTION", "").strip()
    if action:
        if action not in BLOCK_ACTIONS:
            raise ConfigError(f"ASSAY_REGISTRY_BLOCKED_ACTION={action!r}: expected hide or yank")
        changes["blocked_action"] = action
        changes["indexes"] = tuple(replace(i, blocked_action=action) for i in config.indexes)
    if pip_indexes is None:
        pass
    elif env.get("ASSAY_INDEX_URL", "").strip() or not urls:
        changes["upstream_urls"] = tuple(pip_indexes(env))
    else:
        changes["upstream_urls"] = tuple(urls)
    return replace(config, **changes)


def with_upstreams(config: RegistryConfig, urls: tuple[str, ...]) -> RegistryConfig:
    """``config`` reading from ``urls`` instead (``--upstream``)."""
    return replace(config, upstream_urls=urls) if urls else config


def with_stage(config: RegistryConfig, stage: str) -> RegistryConfig:
    """Every index governed at ``stage`` (``--stage``)."""
    return replace(config, indexes=tuple(replace(i, stage=stage) for i in config.indexes))
