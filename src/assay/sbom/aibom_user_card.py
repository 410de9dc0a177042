"""The ``--card card.yaml`` a user supplies: strictly validated into a :class:`ModelCard`.

Unknown keys are errors, not ignored, so a typo never silently drops a fact.
The schema is documented in docs/aibom.md.
"""

from __future__ import annotations

from typing import Any

from assay.sbom.aibom_card import (
    APPROACHES,
    CardError,
    Considerations,
    Dataset,
    Metric,
    ModelCard,
)

_CARD_KEYS = frozenset(
    [
        "name",
        "version",
        "description",
        "license",
        "task",
        "approach",
        "architecture",
        "architecture_family",
        "datasets",
        "inputs",
        "outputs",
        "metrics",
        "considerations",
        "properties",
    ]
)
_DATASET_KEYS = frozenset(
    ["name", "url", "license", "sensitivity", "sensitive_data", "path", "description", "owner"]
)
_METRIC_KEYS = frozenset(["type", "value", "slice", "lower", "upper"])
_CONSIDERATION_KEYS = frozenset(
    [
        "users",
        "use_cases",
        "technical_limitations",
        "performance_tradeoffs",
        "ethical_considerations",
    ]
)


def _text(where: str, key: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise CardError(f"{where}: `{key}` must be a string")
    return str(value)


def _text_list(where: str, key: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list):
        raise CardError(f"{where}: `{key}` must be a list of strings")
    out = []
    for item in value:
        plain = item["format"] if isinstance(item, dict) and set(item) == {"format"} else item
        out.append(_text(where, key, plain) or "")
    return tuple(out)


def _mapping(where: str, key: str, value: Any, allowed: frozenset[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CardError(f"{where}: `{key}` must be a mapping")
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise CardError(
            f"{where}: unknown key(s) in `{key}`: {', '.join(unknown)} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )
    return value


def _dataset(where: str, index: int, value: Any) -> Dataset:
    key = f"datasets[{index}]"
    if isinstance(value, str):
        return Dataset(name=value)
    item = _mapping(where, key, value, _DATASET_KEYS)
    name = _text(where, f"{key}.name", item.get("name"))
    if not name:
        raise CardError(f"{where}: `{key}` needs a `name`")
    return Dataset(
        name=name,
        url=_text(where, f"{key}.url", item.get("url")),
        license=_text(where, f"{key}.license", item.get("license")),
        sensitivity=_text(where, f"{key}.sensitivity", item.get("sensitivity")),
        sensitive_data=_text_list(where, f"{key}.sensitive_data", item.get("sensitive_data")),
        path=_text(where, f"{key}.path", item.get("path")),
        description=_text(where, f"{key}.description", item.get("description")),
        owner=_text(where, f"{key}.owner", item.get("owner")),
    )


def _metric(where: str, index: int, value: Any) -> Metric:
    key = f"metrics[{index}]"
    item = _mapping(where, key, value, _METRIC_KEYS)
    kind, amount = item.get("type"), item.get("value")
    if kind is None or amount is None:
        raise CardError(f"{where}: `{key}` needs `type` and `value`")
    return Metric(
        type=_text(where, f"{key}.type", kind) or "",
        value=_text(where, f"{key}.value", amount) or "",
        slice=_text(where, f"{key}.slice", item.get("slice")),
        lower=_text(where, f"{key}.lower", item.get("lower")),
        upper=_text(where, f"{key}.upper", item.get("upper")),
    )


def _considerations(where: str, value: Any) -> Considerations:
    if value is None:
        return Considerations()
    item = _mapping(where, "considerations", value, _CONSIDERATION_KEYS)
    ethical: list[tuple[str, str | None]] = []
    for index, risk in enumerate(item.get("ethical_considerations") or []):
        key = f"considerations.ethical_considerations[{index}]"
        if isinstance(risk, str):
            ethical.append((risk, None))
            continue
        entry = _mapping(where, key, risk, frozenset({"name", "mitigation"}))
        ethical.append(
            (
                _text(where, f"{key}.name", entry.get("name")) or "",
                _text(where, f"{key}.mitigation", entry.get("mitigation")),
            )
        )
    return Considerations(
        users=_text_list(where, "considerations.users", item.get("users")),
        use_cases=_text_list(where, "considerations.use_cases", item.get("use_cases")),
        technical_limitations=_text_list(
            where, "considerations.technical_limitations", item.get("technical_limitations")
        ),
        performance_tradeoffs=_text_list(
            where, "considerations.performance_tradeoffs", item.get("performance_tradeoffs")
        ),
        ethical=tuple(ethical),
    )


def from_user_card(document: Any, where: str) -> ModelCard:
    """A strictly validated ``--card`` document (unknown keys are errors, not ignored)."""
    if document is None:
        return ModelCard()
    root = _mapping(where, "card", document, _CARD_KEYS)
    approach = _text(where, "approach", root.get("approach"))
    if approach is not None and approach not in APPROACHES:
        raise CardError(f"{where}: `approach` must be one of {', '.join(APPROACHES)}")
    architecture = root.get("architecture")
    family = _text(where, "architecture_family", root.get("architecture_family"))
    if isinstance(architecture, dict):
        arch = _mapping(where, "architecture", architecture, frozenset({"family", "name"}))
        family = _text(where, "architecture.family", arch.get("family")) or family
        architecture = _text(where, "architecture.name", arch.get("name"))
    else:
        architecture = _text(where, "architecture", architecture)
    datasets = root.get("datasets") or []
    metrics = root.get("metrics") or []
    if not isinstance(datasets, list) or not isinstance(metrics, list):
        raise CardError(f"{where}: `datasets` and `metrics` must be lists")
    properties = root.get("properties") or {}
    if not isinstance(properties, dict):
        raise CardError(f"{where}: `properties` must be a mapping of names to strings")
    return ModelCard(
        name=_text(where, "name", root.get("name")),
        version=_text(where, "version", root.get("version")),
        description=_text(where, "description", root.get("description")),
        license=_text(where, "license", root.get("license")),
        task=_text(where, "task", root.get("task")),
        approach=approach,
        architecture_family=family,
        architecture=architecture,
        datasets=tuple(_dataset(where, i, d) for i, d in enumerate(datasets)),
        inputs=_text_list(where, "inputs", root.get("inputs")),
        outputs=_text_list(where, "outputs", root.get("outputs")),
        metrics=tuple(_metric(where, i, m) for i, m in enumerate(metrics)),
        considerations=_considerations(where, root.get("considerations")),
        properties=tuple(
            (str(k), _text(where, f"properties.{k}", v) or "")
            for k, v in sorted(properties.items())
        ),
    )
