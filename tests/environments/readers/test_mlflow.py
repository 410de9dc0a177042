"""The ``mlflow-model`` reader: MLmodel facts and the packages of the model's environment file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from assay.environments.model import Ecosystem, Environment, OriginKind, Package
from assay.environments.ports import ReaderError
from assay.environments.readers._files import digest_files
from assay.environments.readers.mlflow import MlflowModelReader

READER = MlflowModelReader()


@pytest.fixture
def sklearn_model(assets: Path) -> Path:
    return assets / "mlflow-model" / "sklearn-model"


@pytest.fixture
def uv_model(assets: Path) -> Path:
    return assets / "mlflow-model" / "uv-model"


@pytest.fixture
def copied(sklearn_model: Path, tmp_path: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(sklearn_model, target)
    return target


def _one(env: Environment, name: str) -> Package:
    (package,) = env.by_name(name)
    return package


def test_sklearn_model_reads_requirements(sklearn_model: Path) -> None:
    env = READER.read(sklearn_model)
    assert env.source.kind == "mlflow-model"
    assert env.source.path == str(sklearn_model)
    names = ("MLmodel", "requirements.txt", "python_env.yaml", "conda.yaml")
    assert env.source.digest == digest_files((n, (sklearn_model / n).read_bytes()) for n in names)
    assert [(p.name, p.version_raw) for p in env.packages] == [
        ("mlflow", "3.17.2"),
        ("pandas", "3.1.1"),
        ("scikit-learn", "1.9.1"),
        ("skops", "0.16.0"),
    ]
    assert all(p.origin.kind is OriginKind.INDEX for p in env.packages)
    assert env.python_version == "3.11.7"
    assert env.name == "sklearn-model"
    assert env.notes[0] == (
        "packages read from requirements.txt (preferred over python_env.yaml, conda.yaml, "
        "also present)"
    )
    properties = dict(env.properties)
    assert properties["environment_file"] == "requirements.txt"
    assert properties["mlflow_version"] == "3.17.2"
    assert properties["model_uuid"] == "da4e1885e4854e9090afbefb8b0d7c41"
    assert properties["utc_time_created"] == "2026-11-25 16:45:19.397841"
    assert properties["flavors"] == "python_function, sklearn"
    assert properties["flavor.python_function.loader_module"] == "mlflow.sklearn"
    assert properties["flavor.python_function.python_version"] == "3.11.7"
    assert properties["flavor.sklearn.sklearn_version"] == "1.9.1"
    assert properties["signature.inputs"].startswith('[{"type": "tensor"')
    assert "run_id" not in properties  # saved outside a run
    assert "signature.params" not in properties  # null in MLmodel


def test_reading_the_mlmodel_file_reads_its_directory(sklearn_model: Path) -> None:
    assert READER.read(sklearn_model / "MLmodel") == READER.read(sklearn_model)


def test_uv_model_prefers_uv_lock(uv_model: Path) -> None:
    env = READER.read(uv_model)
    assert len(env.packages) == 10
    assert dict(env.properties)["environment_file"] == "uv.lock"
    assert ("uv.lock.root-package", "churn-model") in env.properties
    assert env.python_version == "3.11.7"  # from python_env.yaml, not the lock
    root = _one(env, "churn-model")
    assert root.origin.kind is OriginKind.DIRECTORY
    assert _one(env, "scikit-learn").requested is True
    assert _one(env, "threadpoolctl").requested is False
    assert [p.version_raw for p in env.by_name("numpy")] == ["2.4.6", "2.5.5"]
    assert env.notes[1] == (
        "requirements.txt also names 1 package(s) not in uv.lock "
        "(installed when the model is served): mlflow==3.17.2"
    )


def test_uv_lock_agrees_with_mlflows_uv_export(uv_model: Path) -> None:
    """MLflow wrote requirements.txt with ``uv export``: every pin must match the lock."""
    env = READER.read(uv_model)
    locked = {(p.canonical_name, p.version_raw) for p in env.packages}
    exported = [
        Requirement(line)
        for line in (uv_model / "requirements.txt").read_text().splitlines()
        if line.strip()
    ]
    pins = {
        (r.name, next(iter(r.specifier)).version) for r in exported if r.name != "mlflow"
    }  # mlflow is added by MLflow, not by uv export
    assert len(pins) == 9
    assert pins <= locked
    assert locked - pins == {("churn-model", "0.1.0")}


def test_python_env_yaml_without_requirements_is_a_clear_error(copied: Path) -> None:
    (copied / "requirements.txt").unlink()
    with pytest.raises(ReaderError) as info:
        READER.read(copied)
    assert str(copied / "python_env.yaml") in str(info.value)
    assert "-r requirements.txt" in str(info.value)
    assert "does not exist" in str(info.value)


def test_python_env_yaml_with_inline_dependencies(copied: Path) -> None:
    (copied / "requirements.txt").unlink()
    (copied / "python_env.yaml").write_text(
        "python: 3.11.9\nbuild_dependencies:\n- pip==23.2.1\n- setuptools==65.5.0\n- wheel\n"
        "dependencies:\n- mlflow==3.17.2\n- scikit-learn>=1.5\n"
    )
    env = READER.read(copied)
    assert dict(env.properties)["environment_file"] == "python_env.yaml"
    assert env.python_version == "3.11.9"  # python_env.yaml wins over MLmodel's 3.11.7
    assert [(p.name, p.version_raw, p.specifier) for p in env.packages] == [
        ("mlflow", "3.17.2", None),
        ("pip", "23.2.1", None),
        ("scikit-learn", None, ">=1.5"),
        ("setuptools", "65.5.0", None),
        ("wheel", None, None),
    ]
    assert any("2 of 5 requirements are not pinned" in n for n in env.notes)


def test_conda_yaml_is_the_last_choice(copied: Path) -> None:
    (copied / "requirements.txt").unlink()
    (copied / "python_env.yaml").unlink()
    env = READER.read(copied)
    assert dict(env.properties)["environment_file"] == "conda.yaml"
    assert ("conda.yaml.channels", "conda-forge") in env.properties
    assert env.notes[0] == "packages read from conda.yaml"
    assert _one(env, "python").ecosystem is Ecosystem.CONDA
    assert _one(env, "skops").version_raw == "0.16.0"
    assert env.python_version == "3.11.7"


def test_env_file_names_come_from_mlmodel(copied: Path) -> None:
    for name in ("requirements.txt", "python_env.yaml"):
        (copied / name).unlink()
    (copied / "conda.yaml").rename(copied / "model-env.yaml")
    mlmodel = copied / "MLmodel"
    mlmodel.write_text(mlmodel.read_text().replace("conda: conda.yaml", "conda: model-env.yaml"))
    env = READER.read(copied)
    assert dict(env.properties)["environment_file"] == "model-env.yaml"
    mlmodel.write_text(mlmodel.read_text().replace("conda: model-env.yaml", "conda: ../x.yaml"))
    with pytest.raises(ReaderError, match="must be a file name"):
        READER.read(copied)


def test_digest_covers_every_environment_file(copied: Path) -> None:
    before = READER.read(copied).source.digest
    (copied / "conda.yaml").write_text((copied / "conda.yaml").read_text() + "# edited\n")
    assert READER.read(copied).source.digest != before


def test_directory_without_environment_file(copied: Path) -> None:
    for name in ("requirements.txt", "python_env.yaml", "conda.yaml"):
        (copied / name).unlink()
    with pytest.raises(ReaderError) as info:
        READER.read(copied)
    assert str(info.value) == (
        f"{copied}: no environment file next to MLmodel: expected one of "
        "uv.lock, requirements.txt, python_env.yaml, conda.yaml"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- flavors\n", "the MLmodel file must be a mapping, found list"),
        ("just text\n", "the MLmodel file must be a mapping, found str"),
        ("mlflow_version: 3.17.2\n", "`flavors` must be a mapping, found NoneType"),
        ("flavors:\n  sklearn: 3\n", "flavor 'sklearn' must be a mapping"),
        ("flavors: {python_function: {env: [conda.yaml]}}\n", "`flavors.python_function.env`"),
        ("flavors:\n  sklearn: {\n", "invalid YAML"),
    ],
)
def test_bad_mlmodel(copied: Path, text: str, message: str) -> None:
    (copied / "MLmodel").write_text(text)
    with pytest.raises(ReaderError) as info:
        READER.read(copied)
    assert str(copied / "MLmodel") in str(info.value)
    assert message in str(info.value)


def test_bad_files(copied: Path, tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match="no MLmodel file"):
        READER.read(tmp_path)
    (copied / "MLmodel").write_bytes("flavors: {}\nrun_id: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ReaderError, match="not valid UTF-8") as info:
        READER.read(copied)
    assert info.value.line == 2
    (copied / "MLmodel").write_text("a: &a [1, 1]\nflavors: {x: *a, y: *a}\n")
    with pytest.raises(ReaderError, match="aliases"):
        READER.read(copied)
    (copied / "MLmodel").write_text("flavors: {}\n")
    (copied / "requirements.txt").write_text("scikit-learn==\n")
    with pytest.raises(ReaderError, match=r"requirements\.txt"):
        READER.read(copied)


def test_sniff(sklearn_model: Path, uv_model: Path, tmp_path: Path, assets: Path) -> None:
    assert READER.sniff(sklearn_model)
    assert READER.sniff(uv_model)
    assert READER.sniff(sklearn_model / "MLmodel")
    assert not READER.sniff(sklearn_model / "conda.yaml")
    assert not READER.sniff(tmp_path)
    assert not READER.sniff(assets / "conda-lock" / "conda-lock.yml")
    assert not READER.sniff(tmp_path / "missing")
