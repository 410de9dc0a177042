"""Reading a policy file: strict TOML to a compiled :class:`Policy`.

Every key is known, every value has the right type and a valid value (stage,
action, severity, SPDX id, version specifier, date); anything else is a
:class:`PolicyError` naming the file and the line of the offending key.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from assay.environments.ports import ReaderError
from assay.environments.readers._files import parse_toml, read_text
from assay.policy import rules as r
from assay.policy.lines import KeyLines
from assay.policy.model import DEFAULT_STAGES, Outcome, Policy, PolicyError, Waiver
from assay.policy.spdx import LicenseLists, normalise_id
from assay.policy.specs import PackageSpec

_STAGE_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")  # fullmatch: "$" would allow a newline
_PROJECT_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")  # PEP 508 names
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_OUTCOMES = {"pass": Outcome.PASS, "warn": Outcome.WARN, "block": Outcome.BLOCK}
_ACTIONS = {"off": None, "warn": Outcome.WARN, "block": Outcome.BLOCK}
_COMMON = ("action", "unavailable")
_RULE_KEYS: dict[str, tuple[str, ...]] = {
    "vulnerabilities": ("severity", "score", "only_with_fix", "ids", "unknown_severity"),
    "vetting": ("threshold",),
    "licenses": ("allow", "review", "deny", "unlisted", "unknown"),
    "cooldown": ("days", "overrides"),
    "denylist": ("packages",),
    "allowlist": ("packages",),
    "pins": (),
    "hashes": (),
    "yanked": (),
    "project_status": ("statuses",),
    "squatting": (),
    "staleness": ("years",),
}
_WAIVER_KEYS = ("package", "versions", "vulnerability", "rule", "justification", "approver")


def load_policy(path: Path) -> Policy:
    """The policy in ``path``; a missing or bad file is a PolicyError."""
    try:
        text = read_text(path, limit=4 * 1024 * 1024)
    except ReaderError as exc:
        raise PolicyError(str(path), exc.message.split(": ", 1)[-1], exc.line) from None
    return parse_policy(text, str(path))


def parse_policy(text: str, source_name: str) -> Policy:
    try:
        data = parse_toml(Path(source_name), text)
    except ReaderError as exc:
        message = exc.message.split(": ", 1)[-1] if ": " in exc.message else exc.message
        raise PolicyError(source_name, message, exc.line) from None
    if not data:  # a file emptied by accident must not pass everything
        raise PolicyError(source_name, "the policy is empty: no [policy], [rules.*] or [[waivers]]")
    return _Loader(text, source_name).policy(data)


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def policy_digest(data: dict[str, Any]) -> str:
    """sha256 over the parsed document as canonical JSON (comments and layout do not count)."""
    canonical = json.dumps(_canonical(data), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class _Loader:
    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.lines = KeyLines(text)
        self.stages: tuple[str, ...] = DEFAULT_STAGES

    def fail(self, path: tuple[str | int, ...], message: str) -> PolicyError:
        return PolicyError(self.source, message, self.lines.line(path))

    def table(
        self, value: Any, path: tuple[str | int, ...], keys: tuple[str, ...]
    ) -> dict[str, Any]:
        where = _dotted(path) or "the policy"
        if not isinstance(value, dict):
            raise self.fail(path, f"{where} must be a table, found {_kind(value)}")
        for key in value:
            if key not in keys:
                raise self.fail((*path, key), f"unknown key {key!r} in {where}")
        return value

    def typed(self, value: Any, path: tuple[str | int, ...], kind: type | tuple[type, ...]) -> Any:
        kinds = kind if isinstance(kind, tuple) else (kind,)
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if not ok:
            names = " or ".join(_KIND_NAMES.get(k, k.__name__) for k in kinds)
            raise self.fail(path, f"{_dotted(path)} must be {names}, found {_kind(value)}")
        return value

    def choice(self, value: Any, path: tuple[str | int, ...], options: dict[str, Any]) -> Any:
        text = self.typed(value, path, str)
        if text not in options:
            allowed = ", ".join(options)
            raise self.fail(path, f"{_dotted(path)} is {text!r}; expected one of {allowed}")
        return options[text]

    def strings(self, value: Any, path: tuple[str | int, ...]) -> list[str]:
        items = self.typed(value, path, list)
        return [self.typed(item, path, str) for item in items]

    def policy(self, data: dict[str, Any]) -> Policy:
        self.table(data, (), ("policy", "rules", "waivers"))
        settings = self.table(data.get("policy", {}), ("policy",), ("stages", "unavailable"))
        if "stages" in settings:
            stages = self.strings(settings["stages"], ("policy", "stages"))
            for stage in stages:
                if not _STAGE_NAME.fullmatch(stage):
                    raise self.fail(("policy", "stages"), f"stage name {stage!r} is not valid")
                if stage == "default":  # the key that covers the other stages in an action table
                    raise self.fail(("policy", "stages"), "'default' is reserved, not a stage name")
            if not stages or len(set(stages)) != len(stages):
                raise self.fail(("policy", "stages"), "stages must be unique and not empty")
            self.stages = tuple(stages)
        unavailable = Outcome.WARN
        if "unavailable" in settings:
            unavailable = self.choice(settings["unavailable"], ("policy", "unavailable"), _OUTCOMES)
        rules_table = self.typed(data.get("rules", {}), ("rules",), dict)
        for name in rules_table:
            if name not in _RULE_KEYS:
                known = ", ".join(_RULE_KEYS)
                raise self.fail(("rules", name), f"unknown rule {name!r} (known rules: {known})")
        compiled = tuple(self.rule(name, body) for name, body in rules_table.items())
        waivers = data.get("waivers", [])
        self.typed(waivers, ("waivers",), list)
        return Policy(
            stages=self.stages,
            rules=compiled,
            waivers=tuple(self.waiver(item, ("waivers", i)) for i, item in enumerate(waivers)),
            unavailable=unavailable,
            digest=policy_digest(data),
            source=self.source,
        )

    def actions(
        self, value: Any, path: tuple[str | int, ...]
    ) -> tuple[tuple[str, Outcome | None], ...]:
        if isinstance(value, str):
            action = self.choice(value, path, _ACTIONS)
            return tuple((stage, action) for stage in self.stages)
        table = self.table(value, path, (*self.stages, "default"))
        missing = [s for s in self.stages if s not in table and "default" not in table]
        if missing:
            raise self.fail(path, f"{_dotted(path)} gives no action for stage {missing[0]!r}")
        return tuple(
            (s, self.choice(table.get(s, table.get("default")), (*path, s), _ACTIONS))
            for s in self.stages
        )

    def rule(self, name: str, body: Any) -> r.Rule:
        path: tuple[str | int, ...] = ("rules", name)
        table = self.table(body, path, (*_COMMON, *_RULE_KEYS[name]))
        if "action" not in table:
            raise self.fail(path, f"rules.{name} needs an action (block, warn, off or per stage)")
        common: dict[str, Any] = {"actions": self.actions(table["action"], (*path, "action"))}
        if "unavailable" in table:
            common["unavailable"] = self.choice(
                table["unavailable"], (*path, "unavailable"), _OUTCOMES
            )
        build: Callable[[dict[str, Any], tuple[str | int, ...]], dict[str, Any]] = getattr(
            self, f"_{name}", lambda _t, _p: {}
        )
        return r.RULES[name](**common, **build(table, path))

    def _vulnerabilities(self, t: dict[str, Any], p: tuple[str | int, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if "severity" in t:
            out["severity"] = self.choice(
                t["severity"], (*p, "severity"), {s: s for s in r.SEVERITIES}
            )
        if "score" in t:
            out["score"] = float(self.number(t["score"], (*p, "score"), 0, 10))
        if "only_with_fix" in t:
            out["only_with_fix"] = self.typed(t["only_with_fix"], (*p, "only_with_fix"), bool)
        if "ids" in t:
            ids = frozenset(i.strip() for i in self.strings(t["ids"], (*p, "ids")))
            if "" in ids:
                raise self.fail((*p, "ids"), "rules.vulnerabilities.ids has an empty id")
            out["ids"] = ids
        if "unknown_severity" in t:
            out["unknown_severity"] = self.choice(
                t["unknown_severity"], (*p, "unknown_severity"), _OUTCOMES
            )
        return out

    def number(self, value: Any, path: tuple[str | int, ...], low: float, high: float) -> float:
        number = self.typed(value, path, (int, float))
        if not low <= number <= high:
            raise self.fail(path, f"{_dotted(path)} is {number}; expected {low:g} to {high:g}")
        return float(number)

    def _vetting(self, t: dict[str, Any], p: tuple[str | int, ...]) -> dict[str, Any]:
        return (
            {"threshold": self.number(t["threshold"], (*p, "threshold"), 0, 10)}
            if "threshold" in t
            else {}
        )

    def _licenses(self, t: dict[str, Any], p: tuple[str | int, ...]) -> dict[str, Any]:
        lists: dict[str, frozenset[str]] = {}
        for key in ("allow", "review", "deny"):
            normalised = []
            for entry in self.strings(t.get(key, []), (*p, key)):
                try:
                    normalised.append(normalise_id(entry))
                except ValueError as exc:
                    raise self.fail((*p, key), str(exc)) from None
            lists[key] = frozenset(normalised)
        for first, second in (("allow", "deny"), ("allow", "review"), ("review", "deny")):
            both = lists[first] & lists[second]
            if both:
                raise self.fail((*p, second), f"{min(both)} is in both {first} and {second}")
        unlisted = self.choice(t.get("unlisted", "warn"), (*p, "unlisted"), _OUTCOMES)
        unknown = self.choice(t.get("unknown", "warn"), (*p, "unknown"), _OUTCOMES)
        return {
            "lists": LicenseLists(lists["allow"], lists["review"], lists["deny"], unlisted, unknown)
        }

    def days(self, value: Any, path: tuple[str | int, ...]) -> int:
        days = self.typed(value, path, int)
        if not 0 <= days <= 3650:
            raise self.fail(path, f"{_dotted(path)} is {days}; expected 0 to 3650 days")
        return int(days)

    def _cooldown(self, t: dict[str, Any], p: tuple[str | int, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if "days" in t:
            out["days"] = self.days(t["days"], (*p, "days"))
        if "overrides" in t:
            table = self.typed(t["overrides"], (*p, "overrides"), dict)
            out["overrides"] = tuple(
                (self.name(name, (*p, "overrides", name)), self.days(days, (*p, "overrides", name)))
                for name, days in table.items()
            )
        return out

    def name(self, text: str, path: tuple[str | int, ...]) -> NormalizedName:
        if not _PROJECT_NAME.fullmatch(text):
            raise self.fail(path, f"{text!r} is not a package name")
        return canonicalize_name(text)

    def spec(self, text: str, path: tuple[str | int, ...]) -> PackageSpec:
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            raise self.fail(
                path, f"{text!r} is not a name with a version specifier ({exc})"
            ) from None
        if req.extras or req.marker is not None or req.url:
            raise self.fail(path, f"{text!r}: only a name and a version specifier are allowed")
        return PackageSpec(canonicalize_name(req.name), req.specifier or None)

    def _denylist(self, t: dict[str, Any], p: tuple[str | int, ...]) -> dict[str, Any]:
        path = (*p, "packages")
        return {
            "packages": tuple(self.spec(s, path) for s in self.strings(t.get("packages", []), path))
        }

    _allowlist = _denylist

    def _project_status(self, t: dict[str, Any], p: tuple[str | int, ...]) -> dict[str, Any]:
        if "statuses" not in t:
            return {}
        path = (*p, "statuses")
        table = self.table(t["statuses"], path, r.PROJECT_STATUSES)
        return {
            "statuses": tuple((k, self.choice(v, (*path, k), _OUTCOMES)) for k, v in table.items())
        }

    def _staleness(self, t: dict[str, Any], p: tuple[str | int, ...]) -> dict[str, Any]:
        return {"years": self.number(t["years"], (*p, "years"), 0.1, 100)} if "years" in t else {}

    def waiver(self, value: Any, path: tuple[str | int, ...]) -> Waiver:
        table = self.table(value, path, (*_WAIVER_KEYS, "expires"))
        for key in ("justification", "approver", "expires"):
            if key not in table:
                raise self.fail(path, f"waiver needs {key!r}")
        text = {
            k: self.typed(table[k], (*path, k), str).strip() for k in _WAIVER_KEYS if k in table
        }
        for key, found in text.items():
            if not found:
                raise self.fail((*path, key), f"waiver {key} is empty")
        if "package" not in text and "vulnerability" not in text:
            raise self.fail(path, "a waiver needs a package or a vulnerability (or both)")
        if "versions" in text and "package" not in text:
            raise self.fail((*path, "versions"), "waiver versions need a package")
        rule = text.get("rule")
        if rule is not None and rule not in _RULE_KEYS:
            raise self.fail((*path, "rule"), f"unknown rule {rule!r}")
        versions = None
        if "versions" in text:
            try:
                versions = SpecifierSet(text["versions"])
            except InvalidSpecifier:
                raise self.fail(
                    (*path, "versions"), f"{text['versions']!r} is not a version specifier"
                ) from None
        return Waiver(
            justification=text["justification"],
            approver=text["approver"],
            expires=self.expiry(table["expires"], (*path, "expires")),
            package=self.name(text["package"], (*path, "package")) if "package" in text else None,
            versions=versions,
            vulnerability=text.get("vulnerability"),
            rule=rule,
            line=self.lines.line(path),
        )

    def expiry(self, value: Any, path: tuple[str | int, ...]) -> date:
        if isinstance(value, datetime):
            raise self.fail(path, "expires must be a date (YYYY-MM-DD), not a date-time")
        if isinstance(value, date):
            return value
        text = self.typed(value, path, (str, date))
        problem = self.fail(path, f"expires {text!r} is not a date (YYYY-MM-DD)")
        if not _ISO_DATE.fullmatch(text):
            raise problem
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise problem from None


_KIND_NAMES: dict[type, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "a table",
    date: "a date",
}


def _kind(value: Any) -> str:
    return _KIND_NAMES.get(type(value), type(value).__name__)


def _dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else p for p in path).replace(".[", "[")
