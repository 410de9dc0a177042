"""The ``conda-environment`` reader: environment.yml / conda.yaml match specs and pip section."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.environments.model import Ecosystem, Environment, OriginKind, Package
from assay.environments.ports import ReaderError
from assay.environments.readers._conda import parse_match_spec
from assay.environments.readers._files import digest
from assay.environments.readers.conda_env import CondaEnvironmentReader
from assay.environments.readers.conda_lock import CondaLockReader
from assay.environments.readers.pixi_lock import PixiLockReader

READER = CondaEnvironmentReader()


@pytest.fixture
def env_file(assets: Path) -> Path:
    return assets / "conda-environment" / "environment.yml"


def _one(env: Environment, name: str) -> Package:
    (package,) = env.by_name(name)
    return package


def _write(tmp_path: Path, text: str | bytes, name: str = "environment.yml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_reads_fixture(env_file: Path) -> None:
    env = READER.read(env_file)
    assert env.name == "churn-training"
    assert env.python_version == "3.11.7"
    assert env.source.kind == "conda-environment"
    assert env.source.digest == digest(env_file.read_bytes())
    assert len(env.packages) == 14
    conda = [p for p in env.packages if p.ecosystem is Ecosystem.CONDA]
    pypi = [p for p in env.packages if p.ecosystem is Ecosystem.PYPI]
    assert len(conda) == 10
    assert sorted(p.name for p in pypi) == ["mlflow-skinny", "requests", "tomli", "torchmetrics"]
    assert all(p.requested is True for p in env.packages)
    assert {p.installer for p in conda} == {"conda"}
    assert {p.installer for p in pypi} == {"pip"}
    assert ("channels", "conda-forge, pytorch, nodefaults") in env.properties


def test_fuzzy_conda_specs_stay_unpinned(env_file: Path) -> None:
    env = READER.read(env_file)
    python = _one(env, "python")
    assert python.version_raw is None
    assert python.specifier == "=3.11.7"
    pandas = _one(env, "pandas")
    assert (pandas.version_raw, pandas.specifier) == (None, "=2.1")  # conda's =2.1 is 2.1.*
    numpy = _one(env, "numpy")
    assert (numpy.version_raw, numpy.specifier) == (None, ">=1.26,<2")
    blas = _one(env, "libblas")
    assert (blas.version_raw, blas.specifier, blas.build) == (None, "=*=*mkl", None)
    pip = _one(env, "pip")
    assert (pip.version_raw, pip.specifier) == (None, None)


def test_exact_conda_specs_are_pinned(env_file: Path) -> None:
    env = READER.read(env_file)
    sklearn = _one(env, "scikit-learn")
    assert (sklearn.version_raw, sklearn.specifier, sklearn.build) == ("1.3.2", None, None)
    scipy = _one(env, "scipy")  # space form: name version build
    assert (scipy.version_raw, scipy.build) == ("1.11.4", "py311h64a7726_0")
    torch = _one(env, "pytorch")
    assert (torch.version_raw, torch.build) == ("2.1.0", "py3.11_cpu_0")
    assert torch.purl == ("pkg:conda/pytorch@2.1.0?build=py3.11_cpu_0&channel=pytorch")
    openssl = _one(env, "openssl")
    assert (openssl.version_raw, openssl.build, openssl.platform) == (
        "3.2.0",
        "hd590300_1",
        "linux-64",
    )


def test_channels_from_prefix_or_first_listed(env_file: Path) -> None:
    env = READER.read(env_file)
    assert _one(env, "pytorch").origin.url == "pytorch"
    assert _one(env, "cpuonly").origin.url == "pytorch"
    assert _one(env, "openssl").origin.url == "conda-forge"  # conda-forge/linux-64:: prefix
    numpy = _one(env, "numpy")
    assert numpy.origin.kind is OriginKind.CHANNEL
    assert numpy.origin.url == "conda-forge"
    assert any("7 conda specs name no channel" in n and "'conda-forge'" in n for n in env.notes)


def test_pip_section(env_file: Path) -> None:
    env = READER.read(env_file)
    mlflow = _one(env, "mlflow-skinny")
    assert (mlflow.version_raw, mlflow.origin.kind) == ("2.9.2", OriginKind.INDEX)
    requests = _one(env, "requests")
    assert (requests.version_raw, requests.specifier, requests.extras) == (
        None,
        ">=2.31",
        ("socks",),
    )
    tomli = _one(env, "tomli")
    assert (tomli.version_raw, tomli.markers) == ("2.0.1", 'python_version < "3.11"')
    torchmetrics = _one(env, "torchmetrics")
    assert torchmetrics.origin.kind is OriginKind.VCS
    assert torchmetrics.origin.url == "https://github.com/Lightning-AI/torchmetrics"
    assert torchmetrics.origin.requested_revision == "v1.2.1"


def test_mlflow_conda_yaml(assets: Path) -> None:
    env = READER.read(assets / "conda-environment" / "mlflow-conda.yaml")
    assert env.name == "mlflow-env"
    assert env.python_version == "3.11.7"
    assert [(p.name, p.version_raw, p.ecosystem.value) for p in env.packages] == [
        ("mlflow", "3.17.2", "pypi"),
        ("pandas", "3.1.1", "pypi"),
        ("pip", None, "conda"),
        ("python", None, "conda"),
        ("scikit-learn", "1.9.1", "pypi"),
        ("skops", "0.16.0", "pypi"),
    ]
    assert _one(env, "pip").specifier == "<=23.2.1"


def test_pip_section_includes_requirement_files(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("attrs==23.2.0\nidna>=3\n")
    path = _write(
        tmp_path,
        "dependencies:\n  - python=3.12\n  - pip:\n    - -r requirements.txt\n"
        "    - --extra-index-url https://example.invalid/simple\n",
    )
    env = READER.read(path)
    assert [(p.name, p.version_raw) for p in env.packages] == [
        ("attrs", "23.2.0"),
        ("idna", None),
        ("python", None),
    ]
    assert env.source.digest != digest(path.read_bytes())  # covers the included file too
    assert ("pip.extra-index-url", "https://example.invalid/simple") in env.properties
    assert any("no channel and the file lists none" in n for n in env.notes)


@pytest.mark.parametrize(
    ("spec", "version", "constraint", "build"),
    [
        ("python=3.11", None, "=3.11", None),
        ("python==3.11.7", "3.11.7", None, None),
        ("numpy 1.26.4", "1.26.4", None, None),
        ("numpy >=1.8,<2", None, ">=1.8,<2", None),
        ("pytorch=2.1.*=*cpu*", None, "=2.1.*=*cpu*", None),
        ("numpy[version='>=1.26',build=py*]", None, ">=1.26", None),
        ("cuda-version 12.*", None, "12.*", None),
        ("openssl=3.2.0=hd590300_1", "3.2.0", None, "hd590300_1"),
    ],
)
def test_match_spec_forms(
    spec: str, version: str | None, constraint: str | None, build: str | None
) -> None:
    parsed = parse_match_spec(spec)
    assert (parsed.version, parsed.constraint, parsed.build) == (version, constraint, build)


def test_sniff(env_file: Path, assets: Path, tmp_path: Path) -> None:
    assert READER.sniff(env_file)
    assert READER.sniff(assets / "mlflow-model" / "sklearn-model" / "conda.yaml")
    custom = _write(tmp_path, "channels:\n  - conda-forge\ndependencies:\n  - numpy\n", "ml.yml")
    assert READER.sniff(custom)
    assert not CondaLockReader().sniff(custom)
    assert not PixiLockReader().sniff(custom)
    assert not READER.sniff(_write(tmp_path, "jobs:\n  build: {}\n", "ci.yml"))
    assert not READER.sniff(assets / "conda-lock" / "conda-lock.yml")
    assert not READER.sniff(tmp_path)
    assert not READER.sniff(tmp_path / "missing.yml")


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("name: x\ndependencies:\n  - numpy\n  - [oops\n", "invalid YAML", 5),
        ("dependencies: numpy\n", "`dependencies` must be a list", 1),
        ("channels: conda-forge\ndependencies: []\n", "`channels` must be a list", None),
        ("name: x\n", "no `dependencies` list", None),
        ("- numpy\n", "must be a mapping", None),
        ("dependencies:\n  - 3.11\n", "must be a match spec string", 2),
        ("dependencies:\n  - numpy\n  - '>=1.2'\n", "invalid package name", 3),
        ("dependencies:\n  - conda: [x]\n", "must be `pip:` only", 2),
        ("dependencies:\n  - pip: requests\n", "the `pip:` section must be a list", None),
        ("dependencies:\n  - pip:\n    - 'requests>>2'\n", "invalid requirement", 3),
        ("name: [1]\ndependencies: []\n", "`name` must be a string", 1),
    ],
)
def test_malformed(tmp_path: Path, text: str, message: str, line: int | None) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ReaderError) as info:
        READER.read(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)
    assert info.value.line == line


def test_yaml_alias_bomb_is_rejected(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\ndependencies: *c\n"
    with pytest.raises(ReaderError, match="aliases"):
        READER.read(_write(tmp_path, bomb))


def test_empty_latin1_and_deep_files(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match="empty file"):
        READER.read(_write(tmp_path, ""))
    with pytest.raises(ReaderError, match="not valid UTF-8") as info:
        READER.read(_write(tmp_path, "name: caf\xe9\ndependencies: []\n".encode("latin-1")))
    assert info.value.line == 1
    deep = "dependencies: " + "[" * 200 + "]" * 200 + "\n"
    with pytest.raises(ReaderError, match="nested"):
        READER.read(_write(tmp_path, deep))
