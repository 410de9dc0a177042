"""pdm.lock reader: locks written by PDM 2, cross-checked against `pdm export`."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.environments.model import Hash, HashSource, OriginKind
from assay.environments.ports import ReaderError
from assay.environments.readers.pdm_lock import PdmLockReader

READER = PdmLockReader()


@pytest.fixture
def folder(assets: Path) -> Path:
    return assets / "pdm-lock"


def test_read(folder: Path) -> None:
    env = READER.read(folder / "pdm.lock")
    assert len(env.packages) == 21  # requests and requests[socks] are one package
    assert env.source.kind == "pdm-lock"
    assert env.notes == ()
    assert ("pdm-lock-version", "4.5.1") in env.properties
    assert ("requires-python", ">=3.9") in env.properties
    assert ("pdm-strategy", "inherit_metadata") in env.properties
    assert "dev" in env.by_name("iniconfig")[0].groups
    assert "yaml" in env.by_name("pyyaml")[0].groups
    assert (
        "content-hash",
        "sha256:90d6feb697e1eef36a6b619f3fec85cd63b5f07c5ab374a7ac61dcab2b612935",
    ) in env.properties
    assert all(p.requested is None for p in env.packages)
    assert all(p.installer == "pdm" for p in env.packages)

    (requests,) = env.by_name("requests")
    assert requests.version_raw == "2.32.3"
    assert requests.extras == ("socks",)
    assert requests.dependencies == ("certifi", "charset-normalizer", "idna", "pysocks", "urllib3")
    assert requests.origin.kind is OriginKind.INDEX
    assert requests.hash_source is HashSource.LOCK
    assert set(requests.hashes) == {
        Hash("sha256", "55365417734eb18255590a9ff9eb97e9e1da868d4ccd6402399eaf68af20a760"),
        Hash("sha256", "70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6"),
    }
    (charset,) = env.by_name("charset_normalizer")
    assert len(charset.hashes) == 67
    (colorama,) = env.by_name("colorama")
    assert colorama.markers == 'sys_platform == "win32"'
    (rich,) = env.by_name("rich")
    assert rich.dependencies == ("markdown-it-py", "pygments", "typing-extensions")


def test_sources(folder: Path) -> None:
    env = READER.read(folder / "pdm.lock")
    (git,) = env.by_name("gitdep")
    assert git.origin.kind is OriginKind.VCS
    assert git.origin.vcs == "git"
    assert git.origin.url == "file://localhost/tmp/locks/gitdep"
    assert git.origin.commit == "1f20f9532b802ce1721813a46556f82a1e8bc74b"
    assert git.origin.requested_revision == "v1.2.0"
    assert git.dependencies == ("attrs",)
    (local,) = env.by_name("localdep")
    assert local.origin.kind is OriginKind.DIRECTORY
    assert local.origin.path == "./packages/localdep"
    assert not local.origin.editable
    (devtool,) = env.by_name("devtool")
    assert devtool.origin.editable
    assert devtool.dependencies == ("iniconfig",)
    (six,) = env.by_name("six")
    assert six.origin.kind is OriginKind.URL
    assert six.hashes == (
        Hash("sha256", "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"),
    )


def test_static_urls_lock_holds_the_same_packages(folder: Path) -> None:
    plain = READER.read(folder / "pdm.lock")
    static = READER.read(folder / "pdm.static.lock")
    assert ("pdm-strategy", "inherit_metadata, static_urls") in static.properties
    assert [(p.name, p.version_raw, p.hashes, p.origin) for p in static.packages] == [
        (p.name, p.version_raw, p.hashes, p.origin) for p in plain.packages
    ]


def test_agrees_with_pdm_export(folder: Path) -> None:
    """`pdm export -G :all`: same name==version pins; local, URL and VCS entries by name."""
    pins: set[str] = set()
    direct: set[str] = set()
    for line in (folder / "pdm-export.txt").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        requirement = line.split(";")[0].strip()
        if requirement.startswith("-e "):
            direct.add(requirement.rsplit("#egg=", 1)[1])
        elif " @ " in requirement:
            direct.add(requirement.split(" @ ")[0])
        else:
            pins.add(requirement.replace("[socks]", ""))
    env = READER.read(folder / "pdm.lock")
    assert pins == {
        f"{p.name}=={p.version_raw}" for p in env.packages if p.origin.kind is OriginKind.INDEX
    }
    assert direct == {p.name for p in env.packages if p.origin.kind is not OriginKind.INDEX}


def test_sniff(folder: Path, tmp_path: Path, assets: Path) -> None:
    assert READER.sniff(folder / "pdm.lock")
    assert READER.sniff(folder / "pdm.static.lock")
    assert not READER.sniff(folder / "pyproject.toml")
    assert not READER.sniff(assets / "uv-lock" / "small" / "uv.lock")
    assert not READER.sniff(assets / "pylock" / "pylock.toml")
    assert not READER.sniff(tmp_path / "pdm.lock")
    (tmp_path / "pdm.lock").mkdir()
    assert not READER.sniff(tmp_path / "pdm.lock")
    poetry_like = tmp_path / "poetry.lock"
    poetry_like.write_text('[[package]]\nname = "a"\n\n[metadata]\nlock-version = "2.1"\n')
    assert not READER.sniff(poetry_like)


def _write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "pdm.lock"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


_META = '[metadata]\nlock_version = "4.5.0"\n\n'


@pytest.mark.parametrize(
    ("content", "message", "line"),
    [
        ('[metadata]\nlock_version = "99.0"\n', "unsupported lock_version 99.0", None),
        ('[metadata]\nlock_version = "3.1"\n', "unsupported lock_version 3.1", None),
        ('[metadata]\nlock_version = "x"\n', "is not a version number", None),
        ("[metadata]\nlock_version = 4\n", "lock_version must be a string", None),
        ("[metadata]\n", "no metadata.lock_version", None),
        ('[[package]]\nname = "a"\n', "no [metadata] table", None),
        ("", "no [metadata] table", None),
        ('metadata = "x"\n', "[metadata] must be a table", None),
        (_META + '[[package]]\nversion = "1"\n', "package #1 has no name", 4),
        (_META + "[[package]]\nname = []\n", "name must be a string", 4),
        (_META + '[[package]]\nname = "a"\nversion = 1.0\n', "'a' version must be a string", 4),
        (_META + '[[package]]\nname = "a"\nfiles = [{ file = "a.whl" }]\n', "has no hash", 4),
        (_META + '[[package]]\nname = "a"\nfiles = [{ hash = "sha256:ab" }]\n', "neither", 4),
        (
            _META + '[[package]]\nname = "a"\nfiles = [{ file = "a", hash = "sha256-ab" }]\n',
            "algorithm:hex",
            4,
        ),
        (
            _META + '[[package]]\nname = "a"\ndependencies = ["b >=="]\n',
            "not a valid requirement",
            4,
        ),
        (_META + '[[package]]\nname = "a"\ngit = "https://h/r"\n', "without a revision", 4),
        (_META + '[[package]]\nname = "a"\nurl = "u"\npath = "p"\n', "more than one source", 4),
        (_META + '[[package]]\nname = "a"\npath = "p"\neditable = "y"\n', "true or false", 4),
        ("package = [1]\n" + _META, "package #1 must be a table", None),
    ],
)
def test_bad_structure(tmp_path: Path, content: str, message: str, line: int | None) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(ReaderError) as caught:
        READER.read(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)
    assert caught.value.line == line


def test_truncated_file_names_the_line(tmp_path: Path, folder: Path) -> None:
    text = (folder / "pdm.lock").read_text()
    cut = text.index("hash = ", 2000) + 12
    path = _write(tmp_path, text[:cut])
    with pytest.raises(ReaderError, match="invalid TOML") as caught:
        READER.read(path)
    assert caught.value.line == text[:cut].count("\n") + 1


def test_latin1_bytes(tmp_path: Path) -> None:
    path = _write(tmp_path, _META.encode() + b'[[package]]\nname = "a"\nsummary = "caf\xe9"\n')
    with pytest.raises(ReaderError, match="not valid UTF-8") as caught:
        READER.read(path)
    assert caught.value.line == 6


def test_deeply_nested_inline_tables(tmp_path: Path) -> None:
    nested = "{ a = " * 100 + "1" + " }" * 100
    path = _write(tmp_path, _META + f"[tool]\nx = {nested}\n")
    with pytest.raises(ReaderError, match="nested"):
        READER.read(path)


def test_package_without_version_is_kept_with_a_note(tmp_path: Path) -> None:
    path = _write(tmp_path, _META + '[[package]]\nname = "a"\npath = "./a"\n')
    env = READER.read(path)
    (package,) = env.packages
    assert package.version_raw is None
    assert env.notes == ("1 package has no version in the lock (local or VCS sources)",)
