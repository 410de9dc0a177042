"""The facts an AIBOM states about a model, and where they come from.

A :class:`ModelCard` is filled from, in increasing precedence:

1. an MLflow ``MLmodel`` (flavors, signature inputs/outputs),
2. a Hugging Face ``config.json`` (``architectures``, ``model_type``) and the
   ``README.md`` model card's YAML front matter (``license``, ``datasets``,
   ``language``, ``pipeline_tag``, ``base_model``, ``tags``, ``model-index``),
3. a card the user supplies with ``--card card.yaml`` (schema in docs/aibom.md).

Pure functions over parsed documents: no file I/O here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from assay.errors import AssayError


class CardError(AssayError):
    """A model card (supplied or found in the model directory) is unreadable or invalid."""

    exit_code = 3


APPROACHES = (
    "supervised",
    "unsupervised",
    "reinforcement-learning",
    "semi-supervised",
    "self-supervised",
)


@dataclass(frozen=True, slots=True)
class Dataset:
    name: str
    url: str | None = None
    license: str | None = None
    sensitivity: str | None = None  # data classification, e.g. public / internal / confidential
    sensitive_data: tuple[str, ...] = ()
    path: str | None = None  # local file or directory, relative to the card (hashed)
    description: str | None = None
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class Metric:
    type: str
    value: str
    slice: str | None = None
    lower: str | None = None
    upper: str | None = None


@dataclass(frozen=True, slots=True)
class Considerations:
    users: tuple[str, ...] = ()
    use_cases: tuple[str, ...] = ()
    technical_limitations: tuple[str, ...] = ()
    performance_tradeoffs: tuple[str, ...] = ()
    ethical: tuple[tuple[str, str | None], ...] = ()  # (risk, mitigation)

    @property
    def empty(self) -> bool:
        return not (
            self.users
            or self.use_cases
            or self.technical_limitations
            or self.performance_tradeoffs
            or self.ethical
        )


@dataclass(frozen=True, slots=True)
class ModelCard:
    name: str | None = None
    version: str | None = None
    description: str | None = None
    license: str | None = None
    task: str | None = None
    approach: str | None = None
    architecture_family: str | None = None
    architecture: str | None = None
    datasets: tuple[Dataset, ...] = ()
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    metrics: tuple[Metric, ...] = ()
    considerations: Considerations = field(default_factory=Considerations)
    properties: tuple[tuple[str, str], ...] = ()  # model_type, base_model, tags, languages...


def merge(base: ModelCard, override: ModelCard) -> ModelCard:
    """``override``'s fields win where set; lists are replaced, metrics and properties added."""
    changes: dict[str, Any] = {}
    for name in ModelCard.__dataclass_fields__:
        value = getattr(override, name)
        if name == "properties":
            changes[name] = base.properties + value
        elif name == "metrics":  # keep the card's own results; the override wins per slice
            replaced = {(m.type, m.slice) for m in value}
            kept = tuple(m for m in base.metrics if (m.type, m.slice) not in replaced)
            changes[name] = kept + value
        elif name == "considerations":
            changes[name] = base.considerations if value.empty else value
        elif value not in (None, ()):
            changes[name] = value
    return replace(base, **changes)


# -- MLflow -----------------------------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _signature_formats(text: Any) -> tuple[str, ...]:
    """``[{"type": "tensor", "tensor-spec": {...}}]`` or column specs as short format strings."""
    if not isinstance(text, str):
        return ()
    try:
        specs = json.loads(text)
    except json.JSONDecodeError:
        return (text,)
    formats: list[str] = []
    for spec in specs if isinstance(specs, list) else []:
        if not isinstance(spec, dict):
            continue
        tensor = spec.get("tensor-spec")
        if isinstance(tensor, dict):
            formats.append(f"tensor {tensor.get('dtype')} shape {tensor.get('shape')}")
        else:
            label = f"{spec.get('type')} {spec.get('name') or ''}".strip()
            formats.append(f"column {label}")
    return tuple(formats)


def from_mlmodel(root: Any) -> ModelCard:
    """Facts from a parsed ``MLmodel`` file."""
    if not isinstance(root, dict):
        return ModelCard()
    flavors = _dict(root.get("flavors"))
    signature = _dict(root.get("signature"))
    properties: list[tuple[str, str]] = []
    properties.extend(("mlflow:flavor", str(name)) for name in sorted(flavors, key=str))
    for key in ("mlflow_version", "model_uuid", "run_id", "utc_time_created"):
        if isinstance(root.get(key), str | int | float) and root.get(key) is not None:
            properties.append((f"mlflow:{key}", str(root[key])))
    architecture = None
    for name, config in sorted(flavors.items(), key=lambda item: str(item[0])):
        if name != "python_function" and isinstance(config, dict):
            version = next((v for k, v in config.items() if str(k).endswith("_version")), None)
            architecture = f"{name} {version}" if version else str(name)
            break
    return ModelCard(
        architecture_family=architecture,
        inputs=_signature_formats(signature.get("inputs")),
        outputs=_signature_formats(signature.get("outputs")),
        properties=tuple(properties),
    )


# -- Hugging Face -----------------------------------------------------------------------------

_TRANSFORMER_TYPES = frozenset(
    [
        "albert",
        "bart",
        "bert",
        "bloom",
        "camembert",
        "codegen",
        "deberta",
        "deberta-v2",
        "distilbert",
        "electra",
        "falcon",
        "gemma",
        "gemma2",
        "gpt2",
        "gpt_neo",
        "gpt_neox",
        "gptj",
        "llama",
        "mistral",
        "mixtral",
        "mpt",
        "opt",
        "phi",
        "phi3",
        "qwen2",
        "roberta",
        "t5",
        "mt5",
        "xlm-roberta",
        "xlnet",
        "whisper",
        "vit",
        "wav2vec2",
        "clip",
    ]
)
_FAMILIES = {
    "resnet": "convolutional neural network",
    "convnext": "convolutional neural network",
    "efficientnet": "convolutional neural network",
    "mobilenet_v2": "convolutional neural network",
}


def from_hf_config(config: Any) -> ModelCard:
    """Architecture from a Hugging Face ``config.json``."""
    if not isinstance(config, dict):
        return ModelCard()
    model_type = config.get("model_type") if isinstance(config.get("model_type"), str) else None
    architectures = [a for a in config.get("architectures") or [] if isinstance(a, str)]
    family = _FAMILIES.get(model_type or "")
    if family is None and model_type in _TRANSFORMER_TYPES:
        family = "transformer"
    properties: list[tuple[str, str]] = []
    if model_type:
        properties.append(("huggingface:model_type", model_type))
    if isinstance(config.get("transformers_version"), str):
        properties.append(("huggingface:transformers_version", config["transformers_version"]))
    return ModelCard(
        architecture_family=family or model_type,
        architecture=", ".join(architectures) or None,
        properties=tuple(properties),
    )


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value if isinstance(v, str | int | float))
    return ()


def from_hf_readme(front: Any) -> ModelCard:
    """Facts from a model card's YAML front matter (``model-index`` gives the metrics)."""
    if not isinstance(front, dict):
        return ModelCard()
    properties: list[tuple[str, str]] = []
    for key, label in (("language", "language"), ("tags", "tag"), ("base_model", "base_model")):
        properties.extend((f"huggingface:{label}", v) for v in _strings(front.get(key)))
    if isinstance(front.get("library_name"), str):
        properties.append(("huggingface:library_name", front["library_name"]))
    licence = front.get("license") if isinstance(front.get("license"), str) else None
    datasets = tuple(Dataset(name=name) for name in _strings(front.get("datasets")))
    metrics: list[Metric] = []
    model_name: str | None = None
    for entry in front.get("model-index") or []:
        if not isinstance(entry, dict):
            continue
        model_name = model_name or (
            entry.get("name") if isinstance(entry.get("name"), str) else None
        )
        for result in entry.get("results") or []:
            metrics.extend(_result_metrics(result))
    return ModelCard(
        name=model_name,
        license=licence,
        task=front.get("pipeline_tag") if isinstance(front.get("pipeline_tag"), str) else None,
        datasets=datasets,
        metrics=tuple(metrics),
        properties=tuple(properties),
    )


def _result_metrics(result: Any) -> list[Metric]:
    if not isinstance(result, dict):
        return []
    dataset = _dict(result.get("dataset"))
    label = dataset.get("name") or dataset.get("type")
    split = dataset.get("split")
    where = f"{label} ({split})" if label and split else (str(label) if label else None)
    found = []
    for metric in result.get("metrics") or []:
        if isinstance(metric, dict) and metric.get("type") is not None and "value" in metric:
            found.append(Metric(type=str(metric["type"]), value=str(metric["value"]), slice=where))
    return found


def split_front_matter(text: str) -> tuple[str | None, int]:
    """The YAML between the leading ``---`` lines of a README, and the line it starts on."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return None, 0
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return "\n".join(lines[1:index]), 2
    return None, 0
