"""The ``conda-lock`` reader: conda-lock's unified lock file, format version 1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assay.environments.model import Ecosystem, Environment, Hash, HashSource, OriginKind, Package
from assay.environments.ports import ReaderError
from assay.environments.readers._files import digest
from assay.environments.readers.conda_env import CondaEnvironmentReader
from assay.environments.readers.conda_lock import CondaLockReader
from assay.environments.readers.pixi_lock import PixiLockReader
from tests.support import CONDA_FORGE

READER = CondaLockReader()
FORGE = CONDA_FORGE


@pytest.fixture
def lock(assets: Path) -> Path:
    return assets / "conda-lock" / "conda-lock.yml"


def _on(env: Environment, name: str, platform: str) -> Package:
    (package,) = [p for p in env.by_name(name) if p.platform == platform]
    return package


def test_reads_fixture(lock: Path) -> None:
    env = READER.read(lock)
    assert env.source.kind == "conda-lock"
    assert env.source.digest == digest(lock.read_bytes())
    assert len(env.packages) == 48
    linux = [p for p in env.packages if p.platform == "linux-64"]
    osx = [p for p in env.packages if p.platform == "osx-arm64"]
    assert (len(linux), len(osx)) == (26, 22)
    assert sum(p.ecosystem is Ecosystem.PYPI for p in env.packages) == 18
    assert env.platform is None  # two platforms
    assert ("platforms", "linux-64, osx-arm64") in env.properties
    assert ("channels", "conda-forge") in env.properties
    assert ("sources", "environment.yml, dev-environment.yml") in env.properties
    assert env.python_version == "3.12.2"
    assert all(p.requested is None for p in env.packages)
    assert all(p.pinned for p in env.packages)


def test_conda_entries(lock: Path) -> None:
    env = READER.read(lock)
    python = _on(env, "python", "linux-64")
    assert (python.version_raw, python.build, python.ecosystem) == (
        "3.12.2",
        "hab00c5b_0_cpython",
        Ecosystem.CONDA,
    )
    assert python.origin.kind is OriginKind.CHANNEL
    assert python.origin.url == FORGE
    assert python.hash_source is HashSource.LOCK
    assert python.hashes == (
        Hash("md5", "bca07509b362843095adac9e9a424b2a"),
        Hash("sha256", "01d274871fee50457c28e3505f1fa4e189bcce565acf98c7a209c590218b61ed"),
    )
    # virtual packages (__glibc, __osx) are not dependencies
    assert python.dependencies == ("libgcc-ng", "libzlib", "openssl", "tzdata")
    assert _on(env, "python", "osx-arm64").dependencies == ("libzlib", "openssl", "tzdata")
    assert python.purl == (
        f"pkg:conda/python@3.12.2?build=hab00c5b_0_cpython&channel={FORGE}&subdir=linux-64"
    )
    tzdata = _on(env, "tzdata", "osx-arm64")  # noarch package, listed per platform
    assert (tzdata.version_raw, tzdata.build) == ("2024a", "h0c530f3_0")
    (mutex,) = [p for p in env.packages if p.name == "_libgcc_mutex"]  # linux only
    assert (mutex.platform, mutex.dependencies, mutex.build) == ("linux-64", (), "conda_forge")
    (openmp,) = [p for p in env.packages if p.name == "_openmp_mutex"]
    assert openmp.dependencies == ("_libgcc_mutex", "libgomp")


def test_pip_entries(lock: Path) -> None:
    env = READER.read(lock)
    requests = _on(env, "requests", "osx-arm64")
    assert (requests.ecosystem, requests.version_raw, requests.installer) == (
        Ecosystem.PYPI,
        "2.31.0",
        "pip",
    )
    assert requests.origin.kind is OriginKind.INDEX
    assert requests.dependencies == ("certifi", "charset-normalizer", "idna", "urllib3")
    assert [h.algorithm for h in requests.hashes] == ["sha256"]
    linux_cn = _on(env, "charset-normalizer", "linux-64")
    osx_cn = _on(env, "charset-normalizer", "osx-arm64")
    assert linux_cn.hashes != osx_cn.hashes  # different wheels per platform


def test_vcs_pip_entry_keeps_commit_not_fake_hash(lock: Path) -> None:
    env = READER.read(lock)
    torchmetrics = _on(env, "torchmetrics", "linux-64")
    assert torchmetrics.origin.kind is OriginKind.VCS
    assert torchmetrics.origin.url == "https://github.com/Lightning-AI/torchmetrics.git"
    assert torchmetrics.origin.commit == "6c85b1a5b2c5d1c43f8e0f4e8b2b6a5f4c1c0d7e"
    assert torchmetrics.hashes == ()
    assert torchmetrics.hash_source is None
    assert any("2 VCS pip entries store the commit id" in n for n in env.notes)


def test_optional_categories_are_noted(lock: Path) -> None:
    env = READER.read(lock)
    (note,) = [n for n in env.notes if "optional category 'dev'" in n]
    assert note.startswith("4 package entries")
    assert "pytest@linux-64" in note


def test_single_platform_sets_platform(lock: Path, tmp_path: Path) -> None:
    text = lock.read_text()
    text = text.replace("  - linux-64\n  - osx-arm64\n", "  - linux-64\n")
    path = tmp_path / "conda-lock.yml"
    path.write_text(text)
    env = READER.read(path)
    assert env.platform == "linux-64"  # the metadata names one platform


def test_sniff(lock: Path, assets: Path, tmp_path: Path) -> None:
    assert READER.sniff(lock)
    renamed = tmp_path / "locked.yml"
    renamed.write_bytes(lock.read_bytes())
    assert READER.sniff(renamed)
    assert not CondaEnvironmentReader().sniff(renamed)
    assert not PixiLockReader().sniff(renamed)
    assert not READER.sniff(assets / "conda-environment" / "environment.yml")
    assert not READER.sniff(assets / "pixi-lock" / "pixi.lock")
    assert not READER.sniff(tmp_path)


def _broken(lock: Path, tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    text = lock.read_text()
    assert old in text
    path = tmp_path / "conda-lock.yml"
    path.write_text(text.replace(old, new, count))
    return path


@pytest.mark.parametrize(
    ("edit", "message", "line"),
    [
        (("version: 1\n", "version: 2\n"), "version 2 is not supported", None),
        (("version: 1\n", ""), "no `version`", None),
        (("version: 1\n", "version: '1'\n"), "version '1' is not supported", None),
        (("  manager: conda\n", "  manager: mamba\n"), "unknown manager 'mamba'", 30),
        (("    md5: 8ed61b6f3f3b746e9c604d3a33a82904\n", ""), "has no md5 hash", 30),
        (("8ed61b6f3f3b746e9c604d3a33a82904", "8ed61b6f"), "is not a 32-digit hex digest", 30),
        (("  version: '0.1'\n", "  version: 0.1\n"), "`version` must be a non-empty string", 30),
        (("  dependencies: {}\n", "  dependencies: [a]\n"), "`dependencies` must be a mapping", 30),
        (("- name: _openmp_mutex\n", "- 7\n- name: _openmp_mutex\n"), "must be a mapping", 41),
        (
            ("  platforms:\n  - linux-64\n  - osx-arm64\n", "  platforms: linux-64\n"),
            "must be a list",
            None,
        ),
        (("package:\n", "packages:\n"), "`package` must be a list", None),
    ],
)
def test_malformed(
    lock: Path, tmp_path: Path, edit: tuple[str, str], message: str, line: int | None
) -> None:
    path = _broken(lock, tmp_path, *edit)
    with pytest.raises(ReaderError) as info:
        READER.read(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)
    assert info.value.line == line


def test_duplicate_entry_is_an_error(lock: Path, tmp_path: Path) -> None:
    path = _broken(lock, tmp_path, "platform: osx-arm64", "platform: linux-64")
    with pytest.raises(ReaderError, match="listed twice for platform linux-64"):
        READER.read(path)


def test_bad_files(lock: Path, tmp_path: Path) -> None:
    path = tmp_path / "conda-lock.yml"
    path.write_bytes(lock.read_bytes()[:3000])  # truncated mid-entry
    with pytest.raises(ReaderError, match=re.escape(str(path))):
        READER.read(path)
    path.write_text("")
    with pytest.raises(ReaderError, match="empty file"):
        READER.read(path)
    path.write_bytes("version: 1\nmetadata: {name: caf\xe9}\n".encode("latin-1"))
    with pytest.raises(ReaderError, match="not valid UTF-8"):
        READER.read(path)
    path.write_text("version: 1\nmetadata:\n  platforms: [linux-64\npackage: []\n")
    with pytest.raises(ReaderError, match="invalid YAML") as info:
        READER.read(path)
    assert info.value.line == 4
    path.write_text("a: &a [1, 1]\nb: [*a, *a]\nversion: 1\n")
    with pytest.raises(ReaderError, match="aliases"):
        READER.read(path)
