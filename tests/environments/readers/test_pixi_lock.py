"""The ``pixi-lock`` reader: pixi.lock formats 5 and 6, the ``default`` environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assay.environments.model import Ecosystem, Environment, HashSource, OriginKind, Package
from assay.environments.ports import ReaderError
from assay.environments.readers._files import digest
from assay.environments.readers.conda_env import CondaEnvironmentReader
from assay.environments.readers.conda_lock import CondaLockReader
from assay.environments.readers.pixi_lock import PixiLockReader
from tests.support import CONDA_FORGE, FIXTURE_INDEX

READER = PixiLockReader()
FORGE = CONDA_FORGE


@pytest.fixture
def lock(assets: Path) -> Path:
    return assets / "pixi-lock" / "pixi.lock"


@pytest.fixture
def lock5(assets: Path) -> Path:
    return assets / "pixi-lock" / "pixi-v5.lock"


def _on(env: Environment, name: str, platform: str) -> Package:
    (package,) = [p for p in env.by_name(name) if p.platform == platform]
    return package


def test_reads_v6_default_environment(lock: Path) -> None:
    env = READER.read(lock)
    assert env.source.kind == "pixi-lock"
    assert env.source.digest == digest(lock.read_bytes())
    assert env.name == "default"
    assert len(env.packages) == 50
    linux = [p for p in env.packages if p.platform == "linux-64"]
    osx = [p for p in env.packages if p.platform == "osx-arm64"]
    assert (len(linux), len(osx)) == (27, 23)
    assert sum(p.ecosystem is Ecosystem.PYPI for p in linux) == 12
    assert env.platform is None
    assert env.python_version == "3.12.2"
    assert ("platforms", "linux-64, osx-arm64") in env.properties
    assert ("environments", "default, test") in env.properties
    assert ("indexes", FIXTURE_INDEX) in env.properties
    assert ("lock_version", "6") in env.properties
    # pytest and colorama are only in the `test` environment
    assert not env.by_name("pytest")
    assert not env.by_name("colorama")
    assert env.notes == ("only the `default` environment is read; also locked: test",)
    assert all(p.requested is None and p.installer == "pixi" for p in env.packages)


def test_conda_fields_from_the_url(lock: Path) -> None:
    env = READER.read(lock)
    numpy = _on(env, "numpy", "osx-arm64")
    assert (numpy.ecosystem, numpy.version_raw, numpy.build) == (
        Ecosystem.CONDA,
        "1.26.4",
        "py312h8442bc7_0",
    )
    assert numpy.origin.kind is OriginKind.CHANNEL
    assert numpy.origin.url == FORGE
    assert numpy.license is not None
    assert numpy.license.spdx == "BSD-3-Clause"
    assert numpy.dependencies == ("libopenblas", "python", "python_abi")
    assert [h.algorithm for h in numpy.hashes] == ["md5", "sha256"]
    assert numpy.hash_source is HashSource.LOCK
    python = _on(env, "python", "osx-arm64")
    assert python.dependencies == ("libzlib", "openssl", "tzdata")  # __osx left out
    assert python.license is not None
    assert python.license.spdx == "Python-2.0"
    pip = _on(env, "pip", "linux-64")  # a noarch package, listed for each platform
    assert pip.build == "pyhd8ed1ab_0"
    assert pip.platform == "linux-64"
    libgcc = _on(env, "libgcc-ng", "linux-64")
    assert libgcc.license is not None
    assert libgcc.license.spdx == "GPL-3.0-only WITH GCC-exception-3.1"


def test_pypi_packages(lock: Path) -> None:
    env = READER.read(lock)
    requests = _on(env, "requests", "linux-64")
    assert (requests.ecosystem, requests.version_raw) == (Ecosystem.PYPI, "2.31.0")
    assert requests.origin.kind is OriginKind.INDEX
    assert requests.origin.url == FIXTURE_INDEX
    assert requests.extras == ("socks",)
    # the socks extra is selected, so pysocks is a dependency
    assert requests.dependencies == ("certifi", "charset-normalizer", "idna", "pysocks", "urllib3")
    # tqdm needs colorama only on Windows
    assert _on(env, "tqdm", "osx-arm64").dependencies == ()
    urllib3 = _on(env, "urllib3", "linux-64")
    assert urllib3.dependencies == ()  # every requirement is behind an extra


def test_vcs_and_editable_pypi_packages(lock: Path) -> None:
    env = READER.read(lock)
    torchmetrics = _on(env, "torchmetrics", "linux-64")
    assert torchmetrics.origin.kind is OriginKind.VCS
    assert torchmetrics.origin.url == "https://github.com/Lightning-AI/torchmetrics.git"
    assert torchmetrics.origin.commit == "6c85b1a5b2c5d1c43f8e0f4e8b2b6a5f4c1c0d7e"
    assert torchmetrics.origin.requested_revision == "v1.3.1"
    assert torchmetrics.hashes == ()
    # typing-extensions only for Python < 3.9
    assert torchmetrics.dependencies == ("lightning-utilities", "numpy", "packaging")
    local = _on(env, "churn-features", "osx-arm64")
    assert local.origin.kind is OriginKind.DIRECTORY
    assert local.origin.editable
    assert local.origin.path == "./packages/churn-features"
    assert local.dependencies == ("numpy", "requests", "tqdm")


def test_reads_v5(lock5: Path) -> None:
    env = READER.read(lock5)
    assert len(env.packages) == 10
    assert env.platform == "linux-64"
    assert env.python_version == "3.11.8"
    assert ("lock_version", "5") in env.properties
    assert ("find-links", "./wheels") in env.properties
    # with find-links in play the index of a wheel is not known
    assert _on(env, "idna", "linux-64").origin.url is None
    python = _on(env, "python", "linux-64")
    assert (python.build, python.dependencies) == ("hab00c5b_0_cpython", ("bzip2", "libgcc-ng"))
    bzip2 = _on(env, "bzip2", "linux-64")
    assert bzip2.license is not None
    assert bzip2.license.spdx == "bzip2-1.0.6"
    local = _on(env, "scoring-utils", "linux-64")
    assert local.origin.kind is OriginKind.DIRECTORY
    assert not local.origin.editable
    assert local.origin.path == "./wheels/scoring_utils-0.3.0-py3-none-any.whl"
    assert local.dependencies == ("idna",)


def test_sniff(lock: Path, lock5: Path, assets: Path, tmp_path: Path) -> None:
    assert READER.sniff(lock)
    renamed = tmp_path / "env.lock"
    renamed.write_bytes(lock5.read_bytes())
    assert READER.sniff(renamed)
    assert not CondaLockReader().sniff(lock)
    assert not CondaEnvironmentReader().sniff(lock)
    assert not READER.sniff(assets / "conda-lock" / "conda-lock.yml")
    assert not READER.sniff(assets / "conda-environment" / "environment.yml")
    assert not READER.sniff(tmp_path)


def _broken(source: Path, tmp_path: Path, old: str, new: str) -> Path:
    text = source.read_text()
    assert old in text
    path = tmp_path / "pixi.lock"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("version: 6\n", "version: 99\n", "format version 99 is not supported"),
        ("version: 6\n", "version: 7\n", "format version 7 is not supported"),
        ("version: 6\n", "", "no `version`"),
        ("  default:\n", "  main:\n", "no `default` environment (found: main, test)"),
        (
            f"- conda: {FORGE}/linux-64/numpy",
            "- conda: x",
            "x-1.26.4",
        ),
        ("  md5: ", "  md5: 12", "is not a 32-digit hex digest"),
        ("  name: requests\n", "  name: [requests]\n", "`name` must be a non-empty string"),
        (
            "  requires_dist:\n  - numpy>=1.26\n  - requests[socks]>=2.31\n  - tqdm>=4.66\n",
            "  requires_dist: 3\n",
            "`requires_dist` must be a list",
        ),
        ("        extras:\n        - socks\n", "        extras: socks\n", "must be a list of"),
        ("      - pypi: ./packages", "      - wheel: ./packages", "neither a conda nor a pypi"),
    ],
)
def test_malformed(lock: Path, tmp_path: Path, old: str, new: str, message: str) -> None:
    path = _broken(lock, tmp_path, old, new)
    with pytest.raises(ReaderError) as info:
        READER.read(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_missing_package_names_its_line(lock: Path, tmp_path: Path) -> None:
    old = f"- conda: {FORGE}/linux-64/numpy-1.26.4-py312heda63a1_0.conda\n"
    path = _broken(lock, tmp_path, old, f"- conda: {FORGE.rsplit('/', 1)[0]}/x/numpy.conda\n")
    with pytest.raises(ReaderError, match="not in `packages`") as info:
        READER.read(path)
    assert info.value.line == 17  # the selector in the environment


def test_bad_package_record_names_its_line(lock: Path, tmp_path: Path) -> None:
    path = _broken(lock, tmp_path, "  sha256: ", "  sha256: zz")
    with pytest.raises(ReaderError, match="sha256 'zz") as info:
        READER.read(path)
    assert info.value.line is not None
    assert path.read_text().splitlines()[info.value.line - 1].startswith("- conda: ")


def test_duplicate_package_for_a_platform(lock: Path, tmp_path: Path) -> None:
    line = f"      - conda: {FORGE}/linux-64/numpy-1.26.4-py312heda63a1_0.conda\n"
    path = _broken(lock, tmp_path, line, line + line)
    with pytest.raises(ReaderError, match="numpy is locked twice for platform linux-64"):
        READER.read(path)


def test_bad_files(lock: Path, tmp_path: Path) -> None:
    path = tmp_path / "pixi.lock"
    path.write_text("")
    with pytest.raises(ReaderError, match="empty file"):
        READER.read(path)
    path.write_bytes(lock.read_bytes()[:2500])  # truncated inside the environments
    with pytest.raises(ReaderError, match=re.escape(str(path))):
        READER.read(path)
    path.write_bytes(b"version: 6\nenvironments: {}\n# caf\xe9\n")
    with pytest.raises(ReaderError, match="not valid UTF-8") as info:
        READER.read(path)
    assert info.value.line == 3
    path.write_text("version: 6\nenvironments:\n  default: {channels: [}\n")
    with pytest.raises(ReaderError, match="invalid YAML") as info:
        READER.read(path)
    assert info.value.line == 3
    path.write_text("version: 6\nx: &x [1, 1]\nenvironments: [*x, *x]\n")
    with pytest.raises(ReaderError, match="aliases"):
        READER.read(path)
    path.write_text("- 1\n")
    with pytest.raises(ReaderError, match="must be a mapping"):
        READER.read(path)
