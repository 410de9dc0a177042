"""pip-freeze reader: real `pip freeze` output, cross-checked against `pip inspect`."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.environments.model import Hash, HashSource, OriginKind
from assay.environments.ports import ReaderError
from assay.environments.readers._files import digest
from assay.environments.readers.freeze import PipFreezeReader
from assay.environments.readers.pip_json import PipInspectReader

READER = PipFreezeReader()


@pytest.fixture
def freeze(assets: Path) -> Path:
    return assets / "pip-freeze" / "freeze.txt"


def test_freeze_packages(freeze: Path) -> None:
    env = READER.read(freeze)
    assert [(p.name, p.version_raw) for p in env.packages] == [
        ("attrs", "24.2.0"),
        ("idna", "3.20"),
        ("packaging", "26.4"),
        ("plainpkg", "0.1.0"),
        ("six", "1.16.0"),
        ("tinylib", None),
        ("wheelpkg", "0.2.0"),
    ]
    assert env.source.kind == "pip-freeze"
    assert env.source.digest == digest(freeze.read_bytes())
    assert all(p.requested is None for p in env.packages)
    assert all(p.dependencies == () for p in env.packages)
    assert env.notes == (
        "1 direct reference(s) without a version number: tinylib (git@a748842d3cdd)",
    )

    (attrs,) = env.by_name("attrs")
    assert attrs.origin.kind is OriginKind.UNKNOWN  # freeze cannot tell index from elsewhere
    assert attrs.hashes == ()

    (plainpkg,) = env.by_name("plainpkg")  # named by "# Editable install with no version control"
    assert plainpkg.origin.kind is OriginKind.DIRECTORY
    assert plainpkg.origin.editable
    assert plainpkg.origin.path == "/tmp/pipreaders/plainpkg"

    (tinylib,) = env.by_name("tinylib")
    assert tinylib.origin.kind is OriginKind.VCS
    assert tinylib.origin.editable
    assert tinylib.origin.commit == "a748842d3cdd66eee021e5608cc439c10eec920e"

    (six,) = env.by_name("six")
    assert six.origin.kind is OriginKind.URL
    assert six.hashes == (
        Hash("sha256", "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"),
    )
    assert six.hash_source is HashSource.REPORT  # copied from direct_url.json by pip freeze

    (wheel,) = env.by_name("wheelpkg")
    assert wheel.origin.kind is OriginKind.DIRECTORY
    assert wheel.origin.path == "/tmp/pipreaders/dist/wheelpkg-0.2.0-py3-none-any.whl"
    assert wheel.hash_source is HashSource.REPORT


def test_freeze_agrees_with_inspect(freeze: Path, assets: Path) -> None:
    frozen = READER.read(freeze)
    inspected = PipInspectReader().read(assets / "pip-inspect" / "inspect.json")
    listed = {p.canonical_name: p.version_raw for p in inspected.packages}
    del listed["pip"], listed["setuptools"]  # pip freeze leaves these out by default
    assert {p.canonical_name for p in frozen.packages} == set(listed)
    for package in frozen.packages:
        if package.version_raw is not None:
            assert listed[package.canonical_name] == package.version_raw
    assert listed["tinylib"] == "0.3.0"  # freeze shows no version for a VCS editable


def test_editable_comment_variants(tmp_path: Path) -> None:
    path = tmp_path / "freeze.txt"
    path.write_text(
        "# Editable Git install with no remote (gitpkg==1.2.3)\n-e /src/gitpkg\n"
        "# Editable git install (odd===1.0-x) with either a deleted local remote or invalid URI:\n"
        "# 'file:///gone'\n-e /src/odd\n",
        encoding="utf-8",
    )
    env = READER.read(path)
    assert [(p.name, p.version_raw, p.origin.path) for p in env.packages] == [
        ("gitpkg", "1.2.3", "/src/gitpkg"),
        ("odd", "1.0-x", "/src/odd"),
    ]


def test_echoed_includes_are_not_followed(tmp_path: Path) -> None:
    path = tmp_path / "pip-freeze.txt"
    path.write_text(
        "-r requirements.txt\nsix==1.16.0\n"
        "## The following requirements were added by pip freeze:\nidna==3.20\n",
        encoding="utf-8",
    )
    env = READER.read(path)  # requirements.txt does not exist: it is not read
    assert [p.name for p in env.packages] == ["idna", "six"]
    assert env.notes == (
        "include option(s) echoed in the file were not followed: -r requirements.txt",
    )


def test_editable_without_name(tmp_path: Path) -> None:
    path = tmp_path / "freeze.txt"
    path.write_text("six==1.16.0\n## !! Could not determine repository location\n-e /src/x\n")
    with pytest.raises(ReaderError) as info:
        READER.read(path)
    assert (info.value.path, info.value.line) == (str(path), 3)


def test_latin1_and_truncated(tmp_path: Path) -> None:
    path = tmp_path / "freeze.txt"
    path.write_bytes(b"six==1.16.0\nna\xefve==1.0\n")
    with pytest.raises(ReaderError, match=r"freeze\.txt:2: not valid UTF-8"):
        READER.read(path)
    path.write_bytes(b"six==1.16.0\nidna==\n")
    with pytest.raises(ReaderError, match=r"freeze\.txt:2: invalid requirement"):
        READER.read(path)


def test_sniff(freeze: Path, tmp_path: Path, assets: Path) -> None:
    assert READER.sniff(freeze)
    assert not READER.sniff(assets / "requirements" / "uv-requirements.txt")
    assert not READER.sniff(assets / "pip-inspect" / "inspect.json")
    json_freeze = tmp_path / "freeze.json"
    json_freeze.write_text("{}")
    assert not READER.sniff(json_freeze)
    prose = tmp_path / "how-to-freeze.txt"
    prose.write_text("Put the food in the freezer.\n")
    assert not READER.sniff(prose)
    assert not READER.sniff(tmp_path / "missing-freeze.txt")
