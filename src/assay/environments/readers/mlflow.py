"""Reads an MLflow model directory (the one holding an ``MLmodel`` file).

``MLmodel`` gives the model's facts (flavors, loader, MLflow version, model
uuid, run id, creation time, signature), kept as properties.  The packages come
from the first environment file present, in order of preference:

1. ``uv.lock`` (MLflow 3 copies the project's lock next to the model),
2. ``requirements.txt``,
3. ``python_env.yaml`` (its ``dependencies`` and ``build_dependencies`` lines),
4. ``conda.yaml``.

The environment's digest covers ``MLmodel`` and every one of those files present.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from assay.environments.model import Environment, Source
from assay.environments.ports import EnvironmentReader, ReaderError
from assay.environments.readers._files import (
    decode,
    digest_files,
    parse_yaml,
    read_bytes,
    require_list,
    require_mapping,
)
from assay.environments.readers._pip_lines import pip_section
from assay.environments.readers.conda_env import CondaEnvironmentReader
from assay.environments.readers.requirements import RequirementsReader
from assay.environments.readers.uv_lock import UvLockReader

MLMODEL = "MLmodel"
UV_LOCK = "uv.lock"
REQUIREMENTS = "requirements.txt"
PYTHON_ENV = "python_env.yaml"
CONDA = "conda.yaml"
# Top-level MLmodel fields kept as properties when they are plain values.
_FACTS = (
    "mlflow_version",
    "model_uuid",
    "model_id",
    "run_id",
    "utc_time_created",
    "artifact_path",
    "model_size_bytes",
    "databricks_runtime",
)


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _model_properties(mlmodel: Path, root: dict[str, Any]) -> list[tuple[str, str]]:
    flavors = require_mapping(mlmodel, root.get("flavors"), "`flavors`")
    properties = [(key, text) for key in _FACTS if (text := _scalar(root.get(key))) is not None]
    properties.append(("flavors", ", ".join(sorted(map(str, flavors)))))
    for flavor, config in sorted(flavors.items(), key=lambda item: str(item[0])):
        if not isinstance(config, dict):
            raise ReaderError(mlmodel, f"flavor {flavor!r} must be a mapping")
        for key, value in sorted(config.items(), key=lambda item: str(item[0])):
            wanted = str(key).endswith("_version") or str(key) == "loader_module"
            if wanted and (text := _scalar(value)) is not None:
                properties.append((f"flavor.{flavor}.{key}", text))
    signature = root.get("signature")
    if isinstance(signature, dict):
        properties.extend(
            (f"signature.{key}", text)
            for key in ("inputs", "outputs", "params")
            if (text := _scalar(signature.get(key))) is not None
        )
    return properties


def _env_file_names(mlmodel: Path, root: dict[str, Any]) -> tuple[str, str]:
    """The virtualenv and conda file names ``python_function.env`` points at."""
    flavors = root.get("flavors")
    pyfunc = flavors.get("python_function") if isinstance(flavors, dict) else None
    env = pyfunc.get("env") if isinstance(pyfunc, dict) else None
    if env is None:
        return PYTHON_ENV, CONDA
    if isinstance(env, str):  # MLflow < 2.0 wrote only the conda file name
        return PYTHON_ENV, env
    env = require_mapping(mlmodel, env, "`flavors.python_function.env`")
    names = []
    for key, default in (("virtualenv", PYTHON_ENV), ("conda", CONDA)):
        value = env.get(key, default)
        if not isinstance(value, str) or "/" in value or "\\" in value or value in {"", ".", ".."}:
            raise ReaderError(mlmodel, f"`env.{key}` must be a file name, found {value!r}")
        names.append(value)
    return names[0], names[1]


def _python_version_of_model(root: dict[str, Any]) -> str | None:
    flavors = root.get("flavors")
    pyfunc = flavors.get("python_function") if isinstance(flavors, dict) else None
    value = pyfunc.get("python_version") if isinstance(pyfunc, dict) else None
    return value if isinstance(value, str) else None


class MlflowModelReader(EnvironmentReader):
    """An MLflow model directory: MLmodel facts plus the packages of its environment file."""

    format_name: ClassVar[str] = "mlflow-model"
    description: ClassVar[str] = "MLflow model directory (MLmodel with uv.lock/requirements/conda)"

    def sniff(self, path: Path) -> bool:
        try:
            if path.is_dir():
                return (path / MLMODEL).is_file()
            return path.name == MLMODEL and path.is_file()
        except OSError:
            return False

    def read(self, path: Path) -> Environment:
        directory = path.parent if path.name == MLMODEL and not path.is_dir() else path
        mlmodel = directory / MLMODEL
        if not mlmodel.is_file():
            raise ReaderError(directory, "no MLmodel file: not an MLflow model directory")
        mlmodel_bytes = read_bytes(mlmodel)
        document = parse_yaml(mlmodel, decode(mlmodel, mlmodel_bytes))
        root = require_mapping(mlmodel, document, "the MLmodel file")
        properties = _model_properties(mlmodel, root)
        venv_name, conda_name = _env_file_names(mlmodel, root)
        candidates = (UV_LOCK, REQUIREMENTS, venv_name, conda_name)
        present = [name for name in candidates if (directory / name).is_file()]
        if not present:
            raise ReaderError(
                directory,
                "no environment file next to MLmodel: expected one of " + ", ".join(candidates),
            )
        files = [(MLMODEL, mlmodel_bytes), *((n, read_bytes(directory / n)) for n in present)]
        chosen = present[0]
        chosen_path = directory / chosen
        python_version = _python_version_of_model(root)
        if chosen == UV_LOCK:
            inner = UvLockReader().read(chosen_path)
        elif chosen == REQUIREMENTS:
            inner = RequirementsReader().read(chosen_path)
        elif chosen == venv_name:
            inner, env_python = self._python_env(chosen_path)
            python_version = env_python or python_version
        else:
            inner = CondaEnvironmentReader().read(chosen_path)
        if venv_name in present and chosen != venv_name:
            python_version = self._python_env_version(directory / venv_name) or python_version
        others = [name for name in present if name != chosen]
        notes = [
            f"packages read from {chosen}"
            + (f" (preferred over {', '.join(others)}, also present)" if others else ""),
            *inner.notes,
        ]
        if chosen == UV_LOCK and REQUIREMENTS in present:
            notes.extend(self._missing_from_lock(directory / REQUIREMENTS, inner))
        properties.append(("environment_file", chosen))
        properties.extend((f"{chosen}.{key}", value) for key, value in inner.properties)
        return Environment(
            source=Source(kind=self.format_name, path=str(directory), digest=digest_files(files)),
            packages=inner.packages,
            python_version=python_version or inner.python_version,
            platform=inner.platform,
            name=directory.name or None,
            notes=tuple(notes),
            properties=tuple(properties),
        )

    @staticmethod
    def _python_env_document(path: Path) -> tuple[dict[str, Any], str]:
        text = decode(path, read_bytes(path))
        document = parse_yaml(path, text)
        return require_mapping(path, document, "python_env.yaml"), text

    def _python_env_version(self, path: Path) -> str | None:
        root, _ = self._python_env_document(path)
        python = root.get("python")
        if python is not None and not isinstance(python, str):
            raise ReaderError(path, f"`python` must be a version string, found {python!r}")
        return python

    def _python_env(self, path: Path) -> tuple[Environment, str | None]:
        """python_env.yaml: ``python``, ``build_dependencies`` and ``dependencies`` lines."""
        root, text = self._python_env_document(path)
        python = self._python_env_version(path)
        lines: list[str] = []
        for key in ("build_dependencies", "dependencies"):
            items = require_list(path, root.get(key) or [], f"`{key}`")
            for item in items:
                if not isinstance(item, str):
                    raise ReaderError(path, f"`{key}` entry {item!r} must be a string")
            lines.extend(items)
        section = pip_section(path, text, lines)
        parts = [(path.name, text.encode())]
        parts.extend((p.name, data) for p, data in section.files)
        unpinned = sum(1 for p in section.packages if not p.pinned)
        notes = list(section.notes)
        if unpinned:
            notes.append(
                f"{unpinned} of {len(section.packages)} requirements are not pinned to a version"
            )
        environment = Environment(
            source=Source(kind=self.format_name, path=str(path), digest=digest_files(parts)),
            packages=section.packages,
            python_version=python,
            notes=tuple(notes),
            properties=tuple((f"pip.{k}", v or "true") for k, v in section.options),
        )
        return environment, python

    @staticmethod
    def _missing_from_lock(requirements: Path, locked: Environment) -> list[str]:
        """Requirements MLflow adds for serving (mlflow itself) that uv.lock does not hold."""
        wanted = RequirementsReader().read(requirements).packages
        names = {p.canonical_name for p in locked.packages}
        missing = sorted(
            {
                f"{p.name}=={p.version_raw}" if p.pinned else p.name
                for p in wanted
                if p.canonical_name not in names
            }
        )
        if not missing:
            return []
        note = (
            f"requirements.txt also names {len(missing)} package(s) not in uv.lock "
            f"(installed when the model is served): {', '.join(missing)}"
        )
        return [note]
