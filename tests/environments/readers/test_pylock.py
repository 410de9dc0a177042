"""pylock.toml (PEP 751) reader: files written by uv, pdm and pip, and the spec's keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.environments.model import Hash, HashSource, OriginKind, Package
from assay.environments.ports import ReaderError
from assay.environments.readers.pylock import PylockReader
from assay.environments.readers.uv_lock import UvLockReader
from tests.support import FIXTURE_INDEX

READER = PylockReader()


@pytest.fixture
def folder(assets: Path) -> Path:
    return assets / "pylock"


def test_uv_export(folder: Path) -> None:
    env = READER.read(folder / "pylock.toml")
    assert len(env.packages) == 22
    assert env.source.kind == "pylock"
    assert ("created-by", "uv") in env.properties
    assert ("lock-version", "1.0") in env.properties
    assert ("requires-python", ">=3.9") in env.properties
    assert env.notes == (
        "2 packages have no version in the lock (source trees carry no fixed version)",
    )
    assert all(p.requested is None for p in env.packages)

    (rich,) = env.by_name("rich")
    assert rich.version_raw == "14.0.0"
    assert rich.origin.kind is OriginKind.INDEX
    assert rich.origin.url == FIXTURE_INDEX
    assert rich.hash_source is HashSource.LOCK
    assert set(rich.hashes) == {
        Hash("sha256", "82f1bc23a6a21ebca4ae0c45af9bdbc492ed20231dcb63f297d6d1021a9d5725"),
        Hash("sha256", "1c9491e1951aac09caffd42f448ee3d04e58923ffe14993f6e83068dc395d7e0"),
    }

    (project,) = env.by_name("demo-app")
    assert project.version_raw is None
    assert project.origin.kind is OriginKind.DIRECTORY
    assert project.origin.editable
    assert project.origin.path == "."

    (git,) = env.by_name("gitdep")
    assert git.origin.kind is OriginKind.VCS
    assert git.origin.url == "file:///tmp/locks/gitdep"
    assert git.origin.commit == "1f20f9532b802ce1721813a46556f82a1e8bc74b"
    assert git.origin.requested_revision == "v1.2.0"

    (six,) = env.by_name("six")
    assert six.origin.kind is OriginKind.URL
    assert six.hashes == (
        Hash("sha256", "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"),
    )
    idna = {p.version_raw: p.markers for p in env.by_name("idna")}
    assert idna == {
        "2.10": "python_full_version < '3.10'",
        "3.10": "python_full_version >= '3.10'",
    }
    (pyyaml,) = env.by_name("pyyaml")
    assert len(pyyaml.hashes) == 46  # sdist + 45 wheels


def test_uv_export_matches_the_uv_lock_it_came_from(folder: Path, assets: Path) -> None:
    exported = READER.read(folder / "pylock.toml")
    locked = UvLockReader().read(assets / "uv-lock" / "small" / "uv.lock")

    def view(packages: tuple[Package, ...]) -> set[tuple[object, ...]]:
        return {(p.canonical_name, p.hashes, p.origin.kind, p.markers) for p in packages}

    assert view(exported.packages) == view(locked.packages)


def test_pdm_export(folder: Path) -> None:
    env = READER.read(folder / "pylock.pdm.toml")
    assert len(env.packages) == 21
    assert ("created-by", "pdm") in env.properties
    assert ("environment", 'python_version >= "3.9"') in env.properties
    assert env.notes == ()
    (rich,) = env.by_name("rich")
    # pdm keeps the graph in its tool table.
    assert rich.dependencies == ("markdown-it-py", "pygments", "typing-extensions")
    assert rich.origin.kind is OriginKind.INDEX
    assert rich.origin.url is None
    (devtool,) = env.by_name("devtool")
    assert devtool.version_raw == "0.0.1"
    assert devtool.origin.editable
    (localdep,) = env.by_name("localdep")
    assert localdep.origin.kind is OriginKind.DIRECTORY
    assert not localdep.origin.editable
    (git,) = env.by_name("gitdep")
    assert git.origin.url == "file://localhost/tmp/locks/gitdep"
    (tomli,) = env.by_name("tomli")
    assert tomli.markers == 'python_version < "3.11"'


def test_pip_lock(folder: Path) -> None:
    env = READER.read(folder / "pylock.pip.toml")
    assert sorted((p.name, p.version_raw) for p in env.packages) == [
        ("certifi", "2025.4.26"),
        ("charset-normalizer", "3.4.2"),
        ("idna", "3.10"),
        ("markdown-it-py", "4.3.0"),
        ("mdurl", "0.1.2"),
        ("pygments", "2.19.1"),
        ("pysocks", "1.7.1"),
        ("requests", "2.32.3"),
        ("rich", "14.0.0"),
        ("urllib3", "2.4.0"),
    ]
    assert all(len(p.hashes) == 1 for p in env.packages)
    assert ("created-by", "pip") in env.properties


def test_spec_features(folder: Path) -> None:
    env = READER.read(folder / "pylock.spec-features.toml")
    assert len(env.packages) == 6
    for prop in [
        ("extra", "speedups"),
        ("dependency-group", "test"),
        ("default-group", "default"),
        ("environment", "sys_platform == 'linux', sys_platform == 'win32'"),
        ("requires-python", ">=3.12"),
        ("created-by", "hand-written"),
    ]:
        assert prop in env.properties
    numpy = env.by_name("numpy")
    assert {p.markers for p in numpy} == {"sys_platform == 'linux'", "sys_platform == 'win32'"}
    assert len({p.hashes for p in numpy}) == 2
    (cattrs,) = env.by_name("cattrs")
    assert cattrs.dependencies == ("attrs",)
    assert {h.algorithm for h in cattrs.hashes} == {"sha256", "blake2b-256"}
    (ext,) = env.by_name("speedup-ext")
    assert ext.name == "Speedup_Ext"
    assert ext.origin.kind is OriginKind.DIRECTORY
    assert ext.origin.path == "vendor/speedup_ext-0.4.tar.gz"
    assert ext.origin.subdirectory == "python"
    assert ext.dependencies == ("numpy",)
    (testkit,) = env.by_name("testkit")
    assert testkit.origin.kind is OriginKind.VCS
    assert testkit.origin.path == "../testkit"
    assert testkit.origin.url is None
    assert testkit.origin.subdirectory == "src"
    assert testkit.version_raw is None
    (attrs,) = env.by_name("attrs")
    assert attrs.origin.url == FIXTURE_INDEX + "/"


def test_sniff(folder: Path, tmp_path: Path, assets: Path) -> None:
    assert READER.sniff(folder / "pylock.toml")
    assert READER.sniff(folder / "pylock.pdm.toml")
    assert READER.sniff(folder / "pylock.spec-features.toml")
    odd = tmp_path / "locked.toml"
    odd.write_bytes((folder / "pylock.pip.toml").read_bytes())
    assert READER.sniff(odd)
    assert not READER.sniff(folder / "pyproject.toml")
    assert not READER.sniff(folder / "README.md")
    assert not READER.sniff(assets / "uv-lock" / "small" / "uv.lock")
    assert not READER.sniff(assets / "pdm-lock" / "pdm.lock")
    assert not READER.sniff(tmp_path / "pylock.toml")  # missing
    (tmp_path / "pylock.dir.toml").mkdir()
    assert not READER.sniff(tmp_path / "pylock.dir.toml")
    poetry_like = tmp_path / "other.toml"
    poetry_like.write_text('[[package]]\nname = "a"\n\n[metadata]\nlock-version = "2.1"\n')
    assert not READER.sniff(poetry_like)


def _write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "pylock.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


_HEAD = 'lock-version = "1.0"\ncreated-by = "t"\n'
_WHEEL = 'wheels = [{ url = "https://x/a-1-py3-none-any.whl", hashes = { sha256 = "ab12" } }]\n'


@pytest.mark.parametrize(
    ("content", "message", "line"),
    [
        (
            'lock-version = "99.0"\n[[packages]]\nname = "a"\n',
            "unsupported lock-version 99.0",
            None,
        ),
        ('lock-version = "2.0"\n', "unsupported lock-version 2.0", None),
        ('lock-version = "one"\n', "not of the form major.minor", None),
        ("lock-version = 1.0\n", "lock-version must be a string", None),
        ('created-by = "x"\n', "no lock-version", None),
        ("", "no lock-version", None),
        (_HEAD, "no [[packages]] array", None),
        (_HEAD + 'packages = "a"\n', "packages must be an array", None),
        (_HEAD + '\n[[packages]]\nversion = "1"\n', "package #1 has no name", 4),
        (_HEAD + "[[packages]]\nname = 3\n", "name must be a string", 3),
        (_HEAD + '[[packages]]\nname = "a"\nversion = 1\n', "'a' version must be a string", 3),
        (_HEAD + '[[packages]]\nname = "a"\nwheels = [{ url = "u" }]\n', "has no hashes", 3),
        (
            _HEAD + '[[packages]]\nname = "a"\nwheels = [{ url = "u", hashes = {} }]\n',
            "at least one hash",
            3,
        ),
        (
            _HEAD
            + '[[packages]]\nname = "a"\nwheels = [{ url = "u", hashes = { sha256 = "zz" } }]\n',
            "algorithm and hex",
            3,
        ),
        (
            _HEAD + '[[packages]]\nname = "a"\n' + _WHEEL + 'directory = { path = "." }\n',
            "more than one source",
            3,
        ),
        (_HEAD + '[[packages]]\nname = "a"\nvcs = { type = "git", url = "u" }\n', "commit-id", 3),
        (_HEAD + '[[packages]]\nname = "a"\nvcs = { type = "git", commit-id = "ab" }\n', "url", 3),
        (_HEAD + '[[packages]]\nname = "a"\ndirectory = { editable = true }\n', "path", 3),
        (
            _HEAD + '[[packages]]\nname = "a"\ndirectory = { path = ".", editable = "yes" }\n',
            "true or false",
            3,
        ),
        (_HEAD + '[[packages]]\nname = "a"\ndependencies = [{ version = "1" }]\n', "name", 3),
        (
            _HEAD + 'environments = "linux"\n[[packages]]\nname = "a"\n',
            "environments must be",
            None,
        ),
    ],
)
def test_bad_structure(tmp_path: Path, content: str, message: str, line: int | None) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(ReaderError) as caught:
        READER.read(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)
    assert caught.value.line == line


def test_newer_minor_version_is_read_with_a_note(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        'lock-version = "1.3"\ncreated-by = "t"\n[[packages]]\nname = "a"\n'
        'version = "1"\n' + _WHEEL,
    )
    env = READER.read(path)
    assert [p.name for p in env.packages] == ["a"]
    assert any("1.3 is newer" in note for note in env.notes)


def test_package_without_source_is_kept_with_a_note(tmp_path: Path) -> None:
    path = _write(tmp_path, 'lock-version = "1.0"\n[[packages]]\nname = "a"\nversion = "1"\n')
    env = READER.read(path)
    (package,) = env.packages
    assert package.origin.kind is OriginKind.UNKNOWN
    assert any("no source" in note and "a" in note for note in env.notes)
    assert any("created-by" in note for note in env.notes)


def test_truncated_file_names_the_line(tmp_path: Path, folder: Path) -> None:
    text = (folder / "pylock.toml").read_text()
    cut = text.index("hashes = {", 3000) + 15
    path = _write(tmp_path, text[:cut] + "\n[[packages]]\n")
    with pytest.raises(ReaderError, match="invalid TOML") as caught:
        READER.read(path)
    assert caught.value.line == text[:cut].count("\n") + 1


def test_latin1_bytes(tmp_path: Path) -> None:
    path = _write(tmp_path, _HEAD.encode() + b'[[packages]]\nname = "caf\xe9"\n')
    with pytest.raises(ReaderError, match="not valid UTF-8") as caught:
        READER.read(path)
    assert caught.value.line == 4


def test_deeply_nested_inline_tables(tmp_path: Path) -> None:
    nested = "{ a = " * 100 + "1" + " }" * 100
    path = _write(tmp_path, _HEAD + f'[[packages]]\nname = "a"\n[packages.tool]\nx = {nested}\n')
    with pytest.raises(ReaderError, match="nested"):
        READER.read(path)
