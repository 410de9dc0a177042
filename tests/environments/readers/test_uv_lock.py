"""uv.lock reader: real locks written by uv, cross-checked against `uv export`."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.environments.model import Hash, HashSource, OriginKind
from assay.environments.ports import ReaderError
from assay.environments.readers.uv_lock import UvLockReader
from tests.support import FIXTURE_INDEX

READER = UvLockReader()


def _export(path: Path) -> dict[str, str | None]:
    """`uv export` lines as {'name==version' or 'name @ url': marker}, editables left out."""
    found: dict[str, str | None] = {}
    for line in path.read_text().splitlines():
        if not line or line.startswith(("#", " ", "-e ")):
            continue
        requirement, _, marker = line.partition(" ; ")
        found[requirement] = marker or None
    return found


@pytest.fixture
def small(assets: Path) -> Path:
    return assets / "uv-lock" / "small" / "uv.lock"


@pytest.fixture
def large(assets: Path) -> Path:
    return assets / "uv-lock" / "large" / "uv.lock"


def test_small_lock_packages(small: Path) -> None:
    env = READER.read(small)
    assert len(env.packages) == 22
    assert env.name == "demo-app"
    assert env.source.kind == "uv-lock"
    assert env.source.digest.startswith("sha256:")
    assert env.python_version is None
    assert ("requires-python", ">=3.9") in env.properties
    assert ("root-package", "demo-app") in env.properties
    assert ("uv-lock-revision", "5") in env.properties
    assert env.notes == ()

    (root,) = env.by_name("demo-app")
    assert root.requested is None
    assert root.origin.kind is OriginKind.DIRECTORY
    assert root.origin.editable
    assert root.origin.path == "."
    # The root's graph covers its extras (yaml) and groups (dev) too.
    assert root.dependencies == (
        "colorama", "gitdep", "idna", "iniconfig", "localdep", "pyyaml", "requests", "rich",
        "six", "tomli",
    )  # fmt: skip

    (requests,) = env.by_name("requests")
    assert requests.version_raw == "2.32.3"
    assert requests.requested is True
    assert requests.extras == ("socks",)
    assert requests.dependencies == ("certifi", "charset-normalizer", "idna", "pysocks", "urllib3")
    assert requests.hash_source is HashSource.LOCK
    assert requests.installer == "uv"
    assert (
        Hash("sha256", "55365417734eb18255590a9ff9eb97e9e1da868d4ccd6402399eaf68af20a760")
        in requests.hashes
    )  # the sdist
    assert (
        Hash("sha256", "70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6")
        in requests.hashes
    )  # the wheel
    assert requests.origin.kind is OriginKind.INDEX
    assert requests.origin.url == FIXTURE_INDEX

    (pysocks,) = env.by_name("PySocks")
    assert pysocks.requested is False

    (pyyaml,) = env.by_name("pyyaml")
    assert pyyaml.requested is True  # asked for through the project's extra
    assert len(pyyaml.hashes) == 46


def test_small_lock_sources(small: Path) -> None:
    env = READER.read(small)
    (git,) = env.by_name("gitdep")
    assert git.origin.kind is OriginKind.VCS
    assert git.origin.vcs == "git"
    assert git.origin.url == "file:///tmp/locks/gitdep"
    assert git.origin.commit == "1f20f9532b802ce1721813a46556f82a1e8bc74b"
    assert git.origin.requested_revision == "v1.2.0"
    assert git.hashes == ()
    assert git.hash_source is None
    assert git.dependencies == ("attrs",)
    assert "vcs_url=git%2Bfile" in git.purl

    (local,) = env.by_name("localdep")
    assert local.origin.kind is OriginKind.DIRECTORY
    assert local.origin.path == "packages/localdep"
    assert local.origin.editable
    assert local.requested is True
    assert local.dependencies == ("packaging",)

    (six,) = env.by_name("six")
    assert six.origin.kind is OriginKind.URL
    assert six.origin.url is not None
    assert six.origin.url.endswith("six-1.16.0-py2.py3-none-any.whl")
    assert six.hashes == (
        Hash("sha256", "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"),
    )


def test_forks_are_all_kept_with_their_markers(small: Path) -> None:
    env = READER.read(small)
    idna = {p.version_raw: p for p in env.by_name("idna")}
    assert set(idna) == {"2.10", "3.10"}
    assert idna["2.10"].markers == "python_full_version < '3.10'"
    assert idna["3.10"].markers == "python_full_version >= '3.10'"
    assert all(p.requested for p in idna.values())
    (colorama,) = env.by_name("colorama")
    assert colorama.markers == "sys_platform == 'win32'"
    (typing_extensions,) = env.by_name("typing-extensions")
    assert typing_extensions.markers == "python_full_version < '3.11'"
    assert typing_extensions.requested is False


def test_small_lock_agrees_with_uv_export(small: Path) -> None:
    """`uv export --all-extras --all-groups`: same pins and markers; URL/VCS/editable by name."""
    exported = _export(small.parent / "uv-export.txt")
    env = READER.read(small)
    mine: dict[str, str | None] = {}
    for package in env.packages:
        if package.requested is None:
            continue  # the project itself is `-e .`
        if package.origin.kind is OriginKind.INDEX:
            mine[f"{package.name}=={package.version_raw}"] = package.markers
    by_url = {key for key in exported if " @ " in key}
    assert {key.split(" @ ")[0] for key in by_url} == {"gitdep", "six"}
    assert {key: value for key, value in exported.items() if key not in by_url} == mine


def test_large_lock_agrees_with_uv_export_exactly(large: Path) -> None:
    """123 locked packages; with every extra and group, `uv export` lists all but the root.

    uv export keeps platform-specific packages (pywin32, appnope, ...) with their
    markers; the reader derives the same markers by walking the lock graph.
    """
    env = READER.read(large)
    assert len(env.packages) == 123
    assert env.name == "ds-notebooks"
    exported = _export(large.parent / "uv-export-all.txt")
    mine = {
        f"{p.name}=={p.version_raw}": p.markers for p in env.packages if p.requested is not None
    }
    assert len(exported) == 122
    assert mine == exported


def test_large_lock_default_export_is_the_reachable_part(large: Path) -> None:
    """Without --all-extras, uv export leaves out the `plot` extra's closure."""
    env = READER.read(large)
    (root,) = env.by_name("ds-notebooks")
    graph = {p.canonical_name: set(p.dependencies) for p in env.packages}
    pending = set(root.dependencies) - {"matplotlib"}  # the only dependency via the extra
    reachable: set[str] = set()
    while pending:
        name = pending.pop()
        if name not in reachable:
            reachable.add(name)
            pending |= graph[name]
    exported = _export(large.parent / "uv-export-default.txt")
    expected = {
        f"{p.name}=={p.version_raw}"
        for p in env.packages
        if p.canonical_name in reachable and p.requested is not None
    }
    assert set(exported) == expected
    assert len(expected) == 115
    ipython = {p.version_raw: p.markers for p in env.by_name("ipython")}
    assert ipython == {
        "8.37.0": "python_full_version < '3.11'",
        "9.3.0": "python_full_version >= '3.11'",
    }
    (pywin32,) = env.by_name("pywin32")
    assert pywin32.markers == (
        "platform_python_implementation != 'PyPy' and sys_platform == 'win32'"
    )


def test_sniff(small: Path, tmp_path: Path, assets: Path) -> None:
    assert READER.sniff(small)
    renamed = tmp_path / "project.lock"
    renamed.write_bytes(small.read_bytes())
    assert READER.sniff(renamed)
    assert not READER.sniff(assets / "uv-lock" / "small" / "pyproject.toml")
    assert not READER.sniff(assets / "pdm-lock" / "pdm.static.lock")
    assert not READER.sniff(assets / "pylock" / "pylock.toml")
    assert not READER.sniff(tmp_path)
    assert not READER.sniff(tmp_path / "missing.lock")
    (tmp_path / "uv.lock").mkdir()
    assert not READER.sniff(tmp_path / "uv.lock")


def _write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "uv.lock"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


_PACKAGE = '[[package]]\nname = "a"\nversion = "1.0"\nsource = { registry = "https://x/simple" }\n'


@pytest.mark.parametrize(
    ("content", "message", "line"),
    [
        ("version = 99\n" + _PACKAGE, "unsupported uv.lock version 99", None),
        ('version = "1"\n' + _PACKAGE, "unsupported uv.lock version '1'", None),
        (_PACKAGE, "no lock version", None),
        ("", "no lock version", None),
        ('version = 1\n\n[[package]]\nversion = "1.0"\n', "package #1 has no name", 3),
        ("version = 1\n" + _PACKAGE + "\n[[package]]\nname = 5\n", "name must be a string", 7),
        ('version = 1\n[[package]]\nname = "a"\n', "package 'a' has no source", 2),
        (
            'version = 1\n[[package]]\nname = "a"\nsource = { registry = 1 }\n',
            "source.registry must be a string",
            2,
        ),
        (
            'version = 1\n[[package]]\nname = "a"\nsource = { cloud = "x" }\n',
            "source must name exactly one of",
            2,
        ),
        (
            'version = 1\n[[package]]\nname = "a"\nsource = { git = "https://h/r?rev=main" }\n',
            "has no #<commit>",
            2,
        ),
        ("version = 1\n" + _PACKAGE + 'dependencies = [{ name = "b" }]\n', "not locked", 2),
        ("version = 1\n" + _PACKAGE + 'sdist = { hash = "md5" }\n', "algorithm:hex", 2),
        ("version = 1\n" + _PACKAGE + "wheels = 3\n", "wheels must be an array", 2),
        ("version = 1\npackage = 3\n", "package must be an array", None),
        ('version = 1\nrevision = "x"\n', "revision must be an integer", None),
    ],
)
def test_bad_structure(tmp_path: Path, content: str, message: str, line: int | None) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(ReaderError) as caught:
        READER.read(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)
    assert caught.value.line == line


def test_truncated_file_names_the_line(tmp_path: Path, small: Path) -> None:
    text = small.read_text()
    cut = text.index("hash = ", 5000) + 10  # inside an inline table
    path = _write(tmp_path, text[:cut])
    with pytest.raises(ReaderError, match="invalid TOML") as caught:
        READER.read(path)
    assert caught.value.line == text[:cut].count("\n") + 1


def test_latin1_bytes(tmp_path: Path) -> None:
    path = _write(tmp_path, b"version = 1\n# caf\xe9\n" + _PACKAGE.encode())
    with pytest.raises(ReaderError, match="not valid UTF-8") as caught:
        READER.read(path)
    assert caught.value.line == 2


def test_deeply_nested_inline_tables(tmp_path: Path) -> None:
    nested = "{ a = " * 200 + "1" + " }" * 200
    path = _write(tmp_path, f"version = 1\nx = {nested}\n")
    with pytest.raises(ReaderError, match="nested"):
        READER.read(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match="no such file"):
        READER.read(tmp_path / "uv.lock")


def test_script_lock_uses_manifest_requirements(tmp_path: Path) -> None:
    """`uv lock --script` writes no project package; the manifest names the requirements."""
    path = _write(
        tmp_path,
        'version = 1\nrevision = 3\nrequires-python = ">=3.12"\n\n'
        '[manifest]\nrequirements = [{ name = "a" }]\n\n'
        + _PACKAGE
        + 'dependencies = [{ name = "b", marker = "os_name == \'nt\'" }]\n\n'
        '[[package]]\nname = "b"\nversion = "2"\nsource = { registry = "https://x/simple" }\n',
    )
    env = READER.read(path)
    assert env.name is None
    packages = {p.name: p for p in env.packages}
    assert packages["a"].requested is True
    assert packages["b"].requested is False
    assert packages["b"].markers == "os_name == 'nt'"
    assert packages["a"].dependencies == ("b",)
