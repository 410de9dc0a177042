"""Read a local model directory into what an AIBOM states: card, files, environment.

The directory is an MLflow model (``MLmodel``), a Hugging Face style directory
(``config.json`` and/or a ``README.md`` with YAML front matter) or a plain
directory of weight files.  Every file is hashed and scanned statically
(:mod:`assay.vetting`); nothing is loaded or imported.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from assay.environments.model import Environment
from assay.environments.ports import ReaderError
from assay.environments.readers import read_environment
from assay.environments.readers._files import load_json, load_yaml, parse_yaml, read_text
from assay.sbom.aibom_card import (
    CardError,
    Dataset,
    ModelCard,
    from_hf_config,
    from_hf_readme,
    from_mlmodel,
    merge,
    split_front_matter,
)
from assay.sbom.aibom_user_card import from_user_card
from assay.vetting import FileScan, scan_directory
from assay.vetting.model_files import sha256_file

MLFLOW, HUGGINGFACE, PLAIN = "mlflow", "huggingface", "plain"


@dataclass(frozen=True, slots=True)
class LocalData:
    """What was measured of a dataset the card gives a local ``path`` for."""

    sha256: str | None  # a single file's hash
    digest: str | None  # a directory: sha256 over sorted (relative path, file sha256) pairs
    files: int


@dataclass(frozen=True, slots=True)
class ModelSource:
    name: str
    kind: str
    card: ModelCard
    files: tuple[FileScan, ...]
    environment: Environment | None
    local_data: tuple[tuple[str, LocalData], ...] = ()  # dataset name -> measurement


def _readme_card(readme: Path) -> ModelCard:
    text = read_text(readme)
    front, line = split_front_matter(text)
    if front is None:
        return ModelCard()
    try:
        return from_hf_readme(parse_yaml(readme, front))
    except ReaderError as exc:
        if exc.line is not None:  # point at the README line, not the front-matter line
            raise ReaderError(readme, exc.message.split(": ", 2)[-1], exc.line + line - 1) from None
        raise


def detect_kind(root: Path) -> str:
    if (root / "MLmodel").is_file():
        return MLFLOW
    if (root / "config.json").is_file() or (root / "README.md").is_file():
        return HUGGINGFACE
    return PLAIN


def _measure(path: Path, where: str) -> LocalData:
    if path.is_file():
        return LocalData(sha256=sha256_file(path)[0], digest=None, files=1)
    if path.is_dir():
        outer = hashlib.sha256()
        files = sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            rel = file.relative_to(path).as_posix()
            outer.update(rel.encode() + b"\0" + bytes.fromhex(sha256_file(file)[0]))
        return LocalData(sha256=None, digest="sha256:" + outer.hexdigest(), files=len(files))
    raise CardError(f"{where}: dataset path {path} does not exist")


def read_model(
    root: Path, card_path: Path | None = None, env_source: Path | None = None
) -> ModelSource:
    """Everything an AIBOM needs from ``root``; raises AssayError (exit 3) on bad input."""
    if not root.exists():
        raise ReaderError(root, "no such model directory")
    if not root.is_dir():
        raise ReaderError(root, "is not a directory: MODEL must be a model directory")
    kind = detect_kind(root)
    card = ModelCard()
    environment: Environment | None = None
    if kind == MLFLOW:
        card = from_mlmodel(load_yaml(root / "MLmodel"))
        if env_source is None:
            environment = read_environment(root, "mlflow-model")
    if (root / "config.json").is_file():
        card = merge(card, from_hf_config(load_json(root / "config.json")))
    if (root / "README.md").is_file():
        card = merge(card, _readme_card(root / "README.md"))
    local: list[tuple[str, LocalData]] = []
    if card_path is not None:
        user = from_user_card(load_yaml(card_path), str(card_path))
        for dataset in user.datasets:
            if dataset.path:
                measured = _measure(card_path.parent / dataset.path, str(card_path))
                local.append((dataset.name, measured))
        combined = _merge_datasets(card.datasets + user.datasets)
        card = replace(merge(card, user), datasets=combined)
    if env_source is not None:
        environment = read_environment(env_source)
    return ModelSource(
        name=card.name or root.resolve().name,
        kind=kind,
        card=card,
        files=tuple(scan_directory(root)),
        environment=environment,
        local_data=tuple(local),
    )


def _merge_datasets(datasets: tuple[Dataset, ...]) -> tuple[Dataset, ...]:
    """One entry per dataset name (the last, most specific, description wins)."""
    by_name: dict[str, Dataset] = {}
    for dataset in datasets:
        by_name[dataset.name] = dataset
    return tuple(by_name.values())
