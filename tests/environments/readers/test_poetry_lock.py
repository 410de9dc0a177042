"""The poetry.lock reader against real locks from Poetry 1.2, 1.8 and 2.5."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from assay.environments.model import Environment, HashSource, OriginKind, Package
from assay.environments.ports import ReaderError
from assay.environments.readers import detect
from assay.environments.readers._files import digest, digest_files
from assay.environments.readers.poetry_lock import PoetryLockReader
from tests.support import FIXTURE_INDEX

READER = PoetryLockReader()
LAYOUTS = ("v1", "v2.0", "v2")
COUNTS = {"v1": 24, "v2.0": 28, "v2": 29}
EXPORT_LINE = re.compile(
    r"^(?P<name>[A-Za-z0-9._-]+)(?:\[[^\]]*\])?(?P<rest>==| @ )(?P<target>[^ ;]+)"
)


def _read(assets: Path, layout: str) -> Environment:
    return READER.read(assets / "poetry-lock" / layout / "poetry.lock")


def _one(env: Environment, name: str, version: str | None = None) -> Package:
    found = [p for p in env.by_name(name) if version is None or p.version_raw == version]
    assert len(found) == 1, found
    return found[0]


def _export(path: Path) -> dict[tuple[str, str], set[str]]:
    """``poetry export`` lines as {(name, version or URL): hashes}."""
    entries: dict[tuple[str, str], set[str]] = {}
    current: set[str] | None = None
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("--hash="):
            assert current is not None
            current.add(stripped.removeprefix("--hash=").rstrip(" \\"))
            continue
        if not stripped or stripped.startswith("--index-url"):
            continue
        text = stripped.removeprefix("-e ")
        if text.startswith("file:"):
            text = f"localpkg @ {text}"
        match = EXPORT_LINE.match(text)
        assert match, line
        key = (canonicalize_name(match["name"]), match["target"])
        current = entries.setdefault(key, set())
    return entries


def _file_versions(assets: Path, hashed: str) -> str:
    """The file name the v1 lock gives ``hashed``, without dots."""
    text = (assets / "poetry-lock" / "v1" / "poetry.lock").read_text()
    line = next(line for line in text.splitlines() if hashed in line)
    return line.replace(".", "")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_agrees_with_poetry_export(assets: Path, layout: str) -> None:
    env = _read(assets, layout)
    exported = _export(assets / "poetry-lock" / layout / "poetry-export.txt")
    assert len(env.packages) == COUNTS[layout] == len(exported)
    pinned = {
        (p.canonical_name, p.version_raw): {str(h) for h in p.hashes}
        for p in env.packages
        if p.origin.kind is OriginKind.INDEX
    }
    expected = {key: hashes for key, hashes in exported.items() if "/" not in key[1]}
    assert set(pinned) == set(expected)
    for key, hashes in expected.items():
        if layout == "v1" and key[0] == "python-dateutil":
            # Poetry 1.x exports every hash under the shared [metadata.files] key for each
            # version; the reader keeps only the files whose names carry that version.
            assert pinned[key] < hashes
            assert all(key[1].replace(".", "") in _file_versions(assets, h) for h in pinned[key])
        else:
            assert pinned[key] == hashes, key
    direct = {key for key in exported if "/" in key[1]}
    six, local = _one(env, "six"), _one(env, "localpkg")
    assert direct == {
        ("six", six.origin.url),
        ("localpkg", next(t for n, t in direct if n == "localpkg")),
    }
    assert next(t for n, t in direct if n == "localpkg").endswith(f"/{local.origin.path}")


def test_v1_packages_in_detail(assets: Path) -> None:
    env = _read(assets, "v1")
    folder = assets / "poetry-lock" / "v1"
    lock = (folder / "poetry.lock").read_bytes()
    manifest = (folder / "pyproject.toml").read_bytes()
    assert env.source.kind == "poetry-lock"
    assert env.source.digest == digest_files([("poetry.lock", lock), ("pyproject.toml", manifest)])
    assert ("poetry-lock-version", "1.1") in env.properties
    assert ("python-versions", "^3.9") in env.properties
    assert ("source:pypi-simple", FIXTURE_INDEX) in env.properties

    requests = _one(env, "requests")
    assert requests.version_raw == "2.32.5"
    assert [str(h) for h in requests.hashes] == [
        "sha256:2462f94637a34fd532264295e186976db0f5d453d1cdd31473c85a6a161affb6",
        "sha256:dbba0bac56e100853db0ea71b82b4dfd5fe2bf6d3754a8893c3af500cec7d7cf",
    ]
    assert requests.hash_source is HashSource.LOCK
    assert requests.origin.kind is OriginKind.INDEX
    assert requests.origin.url == FIXTURE_INDEX
    assert requests.requested is True
    assert requests.installer == "poetry"
    assert requests.extras == ("socks",)
    assert requests.dependencies == ("certifi", "charset-normalizer", "idna", "pysocks", "urllib3")

    # Two versions share one [metadata.files] key; hashes are split by file name.
    old = _one(env, "python-dateutil", "3.0.0")
    new = _one(env, "python-dateutil", "4.0.0")
    assert [h.value[:8] for h in old.hashes] == ["3c796302", "7ebcb3c2"]
    assert [h.value[:8] for h in new.hashes] == ["a5e246f7", "d7295ff1"]
    assert old.dependencies == ("six", "tzdata")
    assert old.requested is new.requested is True

    six = _one(env, "six")
    assert six.origin.kind is OriginKind.URL
    assert six.origin.url is not None
    assert six.origin.url.endswith("six-1.16.0-py2.py3-none-any.whl")
    assert six.hashes == ()
    assert six.hash_source is None
    assert six.purl.startswith("pkg:pypi/six@1.16.0?download_url=")

    local = _one(env, "localpkg")
    assert (local.origin.kind, local.origin.path, local.origin.editable) == (
        OriginKind.DIRECTORY,
        "localpkg",
        True,
    )
    assert local.dependencies == ("idna",)

    assert _one(env, "colorama").requested is False
    assert _one(env, "pytest").requested is True
    assert "dev" in env.by_name("pytest")[0].groups
    assert "main" not in env.by_name("pytest")[0].groups
    assert "optional" in env.by_name("rich")[0].groups
    assert _one(env, "rich").dependencies == ("markdown-it-py", "pygments", "typing-extensions")
    assert env.notes == (
        "python-dateutil is locked at 2 versions for different environments: 3.0.0, 4.0.0",
    )


def test_v2_groups_markers_and_forks(assets: Path) -> None:
    env = _read(assets, "v2")
    assert ("poetry-lock-version", "2.1") in env.properties
    colorama = _one(env, "colorama")
    assert colorama.markers == '(platform_system == "Windows") or (sys_platform == "win32")'
    assert "main" in env.by_name("colorama")[0].groups
    assert "dev" in env.by_name("colorama")[0].groups
    assert _one(env, "tomli").markers == 'python_version < "3.11"'
    assert _one(env, "requests").markers is None
    numpy = env.by_name("numpy")
    assert [(p.version_raw, p.markers, len(p.hashes)) for p in numpy] == [
        ("2.0.2", 'python_version < "3.11"', 45),
        ("2.4.6", 'python_version == "3.11"', 72),
        ("2.5.5", 'python_version >= "3.12"', 66),
    ]
    assert all(p.requested is False for p in numpy)
    pandas = _one(env, "pandas")
    assert pandas.requested is True
    assert pandas.dependencies == ("numpy", "python-dateutil", "pytz", "tzdata")
    rich = _one(env, "rich")
    assert rich.requested is True  # [project.optional-dependencies]
    assert rich.markers == 'extra == "fancy"'
    six = _one(env, "six")
    assert [h.value[:8] for h in six.hashes] == ["8abb2f1d"]
    assert "numpy is locked at 3 versions for different environments: 2.0.2, 2.4.6, 2.5.5" in (
        env.notes
    )


def test_v2_0_has_files_per_package_and_no_groups(assets: Path) -> None:
    env = _read(assets, "v2.0")
    assert ("poetry-lock-version", "2.0") in env.properties
    assert not [p for p in env.packages if set(p.groups) - {"optional"}]
    assert len(_one(env, "charset-normalizer").hashes) == 172
    assert _one(env, "click").requested is True
    assert _one(env, "click").dependencies == ("colorama",)


def test_without_pyproject_requested_is_unknown(assets: Path, tmp_path: Path) -> None:
    lock = tmp_path / "poetry.lock"
    shutil.copy(assets / "poetry-lock" / "v2" / "poetry.lock", lock)
    env = READER.read(lock)
    assert {p.requested for p in env.packages} == {None}
    assert env.source.digest == digest(lock.read_bytes())
    assert any("no pyproject.toml sits beside it" in note for note in env.notes)
    # Without the project's extras, an optional dependency in the lock still counts.
    assert "pysocks" in _one(env, "requests").dependencies


def test_unusable_pyproject_is_noted(assets: Path, tmp_path: Path) -> None:
    shutil.copy(assets / "poetry-lock" / "v1" / "poetry.lock", tmp_path / "poetry.lock")
    (tmp_path / "pyproject.toml").write_text('[tool.poetry]\ndependencies = "x"\n')
    env = READER.read(tmp_path / "poetry.lock")
    assert {p.requested for p in env.packages} == {None}
    assert any("pyproject.toml beside the lock is unusable" in note for note in env.notes)


def test_stale_pyproject_is_noted(assets: Path, tmp_path: Path) -> None:
    shutil.copy(assets / "poetry-lock" / "v2" / "poetry.lock", tmp_path / "poetry.lock")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["requests", "flask>=3"]\n'
    )
    env = READER.read(tmp_path / "poetry.lock")
    assert _one(env, "requests").requested is True
    assert _one(env, "click").requested is False
    assert any(note.endswith("out of date): flask") for note in env.notes)


HAND_WRITTEN = """\
[[package]]
name = "attrs"
version = "25.1.0"
description = "Classes Without Boilerplate"
optional = false
python-versions = ">=3.8"
groups = ["main"]
files = []
develop = false

[package.dependencies]
plugin = [
    {version = ">=1", markers = "python_version < \\"3.11\\""},
    {version = ">=2", markers = "python_version >= \\"3.11\\""},
]

[package.source]
type = "git"
url = "https://git.example.invalid/attrs.git"
reference = "main"
resolved_reference = "0123456789abcdef0123456789abcdef01234567"
subdirectory = "src"

[[package]]
name = "plugin"
version = "1.0"
description = ""
optional = false
python-versions = "*"
groups = ["main"]
files = [
    {file = "plugin-1.0.tar.gz", hash = "sha256:AB12"},
]

[[package]]
name = "wheelhouse"
version = "2.0"
description = ""
optional = false
python-versions = "*"
groups = ["main"]
files = []

[package.source]
type = "file"
url = "wheels/wheelhouse-2.0-py3-none-any.whl"

[metadata]
lock-version = "2.1"
python-versions = ">=3.9"
content-hash = "00"
"""


def test_git_file_and_default_index_sources(tmp_path: Path) -> None:
    lock = tmp_path / "poetry.lock"
    lock.write_text(HAND_WRITTEN)
    env = READER.read(lock)
    attrs = _one(env, "attrs")
    assert attrs.origin.kind is OriginKind.VCS
    assert attrs.origin.vcs == "git"
    assert attrs.origin.url == "https://git.example.invalid/attrs.git"
    assert attrs.origin.commit == "0123456789abcdef0123456789abcdef01234567"
    assert attrs.origin.requested_revision == "main"
    assert attrs.origin.subdirectory == "src"
    assert attrs.dependencies == ("plugin",)
    plugin = _one(env, "plugin")
    assert (plugin.origin.kind, plugin.origin.url) == (OriginKind.INDEX, None)
    assert [str(h) for h in plugin.hashes] == ["sha256:ab12"]
    wheel = _one(env, "wheelhouse")
    assert (wheel.origin.kind, wheel.origin.path) == (
        OriginKind.DIRECTORY,
        "wheels/wheelhouse-2.0-py3-none-any.whl",
    )


def test_sniff(assets: Path, tmp_path: Path) -> None:
    for layout in LAYOUTS:
        path = assets / "poetry-lock" / layout / "poetry.lock"
        assert READER.sniff(path)
        assert detect(path).format_name == "poetry-lock"
        renamed = tmp_path / f"{layout}.lock.toml"
        shutil.copy(path, renamed)
        assert READER.sniff(renamed), layout
    assert not READER.sniff(assets / "pipfile-lock" / "Pipfile.lock")
    assert not READER.sniff(assets / "poetry-lock" / "v2" / "pyproject.toml")
    assert not READER.sniff(assets / "poetry-lock")
    assert not READER.sniff(tmp_path / "missing.lock")
    other = tmp_path / "other.lock"
    other.write_text('version = 1\nrequires-python = ">=3.9"\n\n[[package]]\nname = "a"\n')
    assert not READER.sniff(other)
    other.write_bytes(b"\x00\xff" * 100)
    assert not READER.sniff(other)


def _lock(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "poetry.lock"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def _error(path: Path) -> ReaderError:
    with pytest.raises(ReaderError) as caught:
        READER.read(path)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)
    return caught.value


def test_truncated_toml_names_the_line(assets: Path, tmp_path: Path) -> None:
    text = (assets / "poetry-lock" / "v2" / "poetry.lock").read_text()
    cut = text.index('{file = "requests-2.32.5.tar.gz"') + 20
    error = _error(_lock(tmp_path, text[:cut]))
    assert error.line == text[:cut].count("\n") + 1
    assert "invalid TOML" in str(error)


def test_unknown_lock_version(tmp_path: Path) -> None:
    error = _error(
        _lock(tmp_path, HAND_WRITTEN.replace('lock-version = "2.1"', 'lock-version = "9.0"'))
    )
    assert "unsupported lock-version 9.0" in str(error)
    assert "not a version" in str(
        _error(_lock(tmp_path, HAND_WRITTEN.replace('lock-version = "2.1"', 'lock-version = "x"')))
    )


def test_package_without_version_names_its_line(tmp_path: Path) -> None:
    error = _error(_lock(tmp_path, HAND_WRITTEN.replace('version = "1.0"\n', "")))
    assert "package 'plugin' has no version" in str(error)
    assert error.line == HAND_WRITTEN.splitlines().index("[[package]]", 1) + 1


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('version = "1.0"', "version = 1.0", "version must be a string"),
        ('name = "plugin"', "name = 3", "name must be a string"),
        (
            'groups = ["main"]\nfiles = [\n',
            'groups = "main"\nfiles = [\n',
            "groups must be an array",
        ),
        ('hash = "sha256:AB12"', 'hash = "sha256:zz"', "not an algorithm and hex digest"),
        ('hash = "sha256:AB12"', 'hash = "AB12"', "not of the form algorithm:hex"),
        ('type = "git"', 'type = "svn"', "unknown source type 'svn'"),
        ("develop = false", 'develop = "no"', "develop must be true or false"),
        ('content-hash = "00"', 'content-hash = "00"\nfiles = "x"', "[metadata.files] must be"),
        ('content-hash = "00"', "content-hash = 0", "content-hash must be a string"),
    ],
)
def test_wrong_types(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in HAND_WRITTEN
    error = _error(_lock(tmp_path, HAND_WRITTEN.replace(old, new, 1)))
    assert message in str(error)


def test_dependency_and_extra_shapes(tmp_path: Path) -> None:
    text = HAND_WRITTEN.replace(
        '[package.source]\ntype = "git"',
        '[package.extras]\nall = 3\n\n[package.source]\ntype = "git"',
    )
    assert "extra 'all' must be an array" in str(_error(_lock(tmp_path, text)))
    text = HAND_WRITTEN.replace("plugin = [", "plugin = 4\nunused = [")
    assert "dependency 'plugin' must be a table" in str(_error(_lock(tmp_path, text)))
    text = HAND_WRITTEN.replace(
        'groups = ["main"]\nfiles = []\ndevelop',
        'groups = ["main"]\nmarkers = 1\nfiles = []\ndevelop',
    )
    assert "markers must be a table" in str(_error(_lock(tmp_path, text)))


def test_latin1_empty_nested_and_no_metadata(tmp_path: Path) -> None:
    text = HAND_WRITTEN.replace('description = ""', 'description = "caf\xe9"', 1)
    error = _error(_lock(tmp_path, text.encode("latin-1")))
    assert "not valid UTF-8" in str(error)
    assert error.line == text.splitlines().index('description = "caf\xe9"') + 1
    assert "no [metadata] table" in str(_error(_lock(tmp_path, "")))
    nested = "x = " + "[" * 100 + "]" * 100 + "\n"
    assert "nested" in str(_error(_lock(tmp_path, nested)))
    error = _error(_lock(tmp_path, 'package = 3\n[metadata]\nlock-version = "2.1"\n'))
    assert "package must be an array" in str(error)
    assert "[metadata] must be a table" in str(_error(_lock(tmp_path, "metadata = 1\n")))


def test_missing_file(tmp_path: Path) -> None:
    assert "no such file" in str(_error(tmp_path / "poetry.lock"))
