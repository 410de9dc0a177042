"""The Pipfile.lock reader against a real lock written by pipenv."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name

from assay.environments.model import Environment, HashSource, OriginKind, Package
from assay.environments.ports import ReaderError
from assay.environments.readers import detect
from assay.environments.readers._files import digest, digest_files
from assay.environments.readers.pipfile_lock import PipfileLockReader
from tests.support import FIXTURE_INDEX

READER = PipfileLockReader()
PINNED = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)(?:\[[^\]]*\])?==(?P<version>[^;\s]+)")


def _folder(assets: Path) -> Path:
    return assets / "pipfile-lock"


def _read(assets: Path) -> Environment:
    return READER.read(_folder(assets) / "Pipfile.lock")


def _one(env: Environment, name: str) -> Package:
    found = env.by_name(name)
    assert len(found) == 1, found
    return found[0]


def test_agrees_with_pipenv_requirements(assets: Path) -> None:
    env = _read(assets)
    lines = (_folder(assets) / "pipenv-requirements.txt").read_text().splitlines()
    exported: dict[tuple[str, str], set[str]] = {}
    others = []
    for line in lines[1:]:  # the first line is the index option
        match = PINNED.match(line)
        if match is None:
            others.append(line)
            continue
        key = (canonicalize_name(match["name"]), match["version"])
        exported[key] = set(re.findall(r"--hash=(\S+)", line))
    assert lines[0] == "-i " + FIXTURE_INDEX
    pinned = {
        (p.canonical_name, p.version_raw): {str(h) for h in p.hashes}
        for p in env.packages
        if p.origin.kind is OriginKind.INDEX and p.pinned
    }
    assert pinned == exported
    six, local, tomli = _one(env, "six"), _one(env, "localpkg"), _one(env, "tomli")
    assert others == [f"-e {local.origin.path}", six.origin.url, f"tomli; {tomli.markers}"]
    assert len(env.packages) == len(exported) + len(others) == 16


def test_packages_in_detail(assets: Path) -> None:
    env = _read(assets)
    folder = _folder(assets)
    assert env.source.kind == "pipfile-lock"
    assert env.source.digest == digest_files(
        [
            ("Pipfile.lock", (folder / "Pipfile.lock").read_bytes()),
            ("Pipfile", (folder / "Pipfile").read_bytes()),
        ]
    )
    assert env.python_version == "3.11"
    assert ("pipfile-spec", "6") in env.properties
    assert ("source:pypi", FIXTURE_INDEX) in env.properties
    assert (
        "pipfile-hash",
        "sha256:be2848181fc41a18b533eba3d762425ae4d646ce910672fb7f84fc9cf14beaad",
    ) in env.properties

    requests = _one(env, "requests")
    assert requests.version_raw == "2.34.2"
    assert [h.value[:8] for h in requests.hashes] == ["2a0d60c1", "f288924c"]
    assert requests.hash_source is HashSource.LOCK
    assert requests.extras == ("socks",)
    assert requests.markers == "python_version >= '3.10'"
    assert requests.requested is True
    assert requests.installer == "pipenv"
    assert requests.origin.kind is OriginKind.INDEX
    assert requests.origin.url is None  # the lock names no index for it

    click = _one(env, "click")
    assert (click.origin.kind, click.origin.url) == (OriginKind.INDEX, FIXTURE_INDEX)
    urllib3 = _one(env, "urllib3")
    assert urllib3.requested is False

    # packaging is in both default and develop: kept once, in both groups.
    packaging_ = _one(env, "packaging")
    assert packaging_.version_raw == "26.4"
    assert len(packaging_.hashes) == 2
    assert "default" in env.by_name("packaging")[0].groups
    assert "develop" in env.by_name("packaging")[0].groups
    assert "packaging is listed in default and develop (kept once)" in env.notes
    assert "develop" in env.by_name("pytest")[0].groups
    assert "default" not in env.by_name("pytest")[0].groups
    assert _one(env, "pytest").requested is True
    assert _one(env, "pluggy").requested is False
    assert "docs" in env.by_name("mdurl")[0].groups
    assert _one(env, "mdurl").requested is True

    six = _one(env, "six")
    assert six.origin.kind is OriginKind.URL
    assert six.version_raw == "1.16.0"
    assert [h.value[:8] for h in six.hashes] == ["1e61c374", "8abb2f1d"]
    assert "version read from the archive file name of a direct reference: six 1.16.0" in env.notes

    local = _one(env, "localpkg")
    assert local.version_raw is None
    assert (local.origin.kind, local.origin.path, local.origin.editable) == (
        OriginKind.DIRECTORY,
        "./localpkg",
        True,
    )
    tomli = _one(env, "tomli")
    assert (tomli.version_raw, tomli.specifier, tomli.hashes) == (None, None, ())
    assert (
        "2 package(s) have no locked version: localpkg (editable ./localpkg), tomli (any version)"
        in env.notes
    )
    assert all(p.dependencies == () for p in env.packages)
    assert "Pipfile.lock records no dependency graph: dependencies are empty" in env.notes


def test_without_pipfile_requested_is_unknown(assets: Path, tmp_path: Path) -> None:
    lock = tmp_path / "Pipfile.lock"
    shutil.copy(_folder(assets) / "Pipfile.lock", lock)
    env = READER.read(lock)
    assert {p.requested for p in env.packages} == {None}
    assert env.source.digest == digest(lock.read_bytes())
    assert any("no Pipfile sits beside it" in note for note in env.notes)
    (tmp_path / "Pipfile").write_text("[packages\n")
    env = READER.read(lock)
    assert {p.requested for p in env.packages} == {None}
    assert any("Pipfile beside the lock is unusable" in note for note in env.notes)


def _document(assets: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((_folder(assets) / "Pipfile.lock").read_text())
    return data


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "Pipfile.lock"
    path.write_text(json.dumps(data, indent=4))
    return path


def test_vcs_entries_and_differing_pins(assets: Path, tmp_path: Path) -> None:
    data = _document(assets)
    data["default"]["attrs"] = {
        "git": "git+https://git.example.invalid/attrs.git",
        "ref": "0123456789abcdef0123456789abcdef01234567",
        "subdirectory": "src",
    }
    data["develop"]["cattrs"] = {"hg": "https://hg.example.invalid/cattrs", "ref": "stable"}
    data["develop"]["urllib3"] = dict(data["default"]["urllib3"], version="==2.7.0")
    env = READER.read(_write(tmp_path, data))
    attrs = _one(env, "attrs")
    assert attrs.origin.kind is OriginKind.VCS
    assert (attrs.origin.vcs, attrs.origin.url, attrs.origin.subdirectory) == (
        "git",
        "https://git.example.invalid/attrs.git",
        "src",
    )
    assert attrs.origin.commit == "0123456789abcdef0123456789abcdef01234567"
    cattrs = _one(env, "cattrs")
    assert (cattrs.origin.vcs, cattrs.origin.commit, cattrs.origin.requested_revision) == (
        "hg",
        None,
        "stable",
    )
    assert [p.version_raw for p in env.by_name("urllib3")] == ["2.7.0", "2.8.0"]
    assert (
        "urllib3 is listed in default and develop (with 2 different pins, each kept)" in env.notes
    )


def test_sniff(assets: Path, tmp_path: Path) -> None:
    lock = _folder(assets) / "Pipfile.lock"
    assert READER.sniff(lock)
    assert detect(lock).format_name == "pipfile-lock"
    renamed = tmp_path / "locked.json"
    shutil.copy(lock, renamed)
    assert READER.sniff(renamed)
    assert not READER.sniff(_folder(assets) / "Pipfile")
    assert not READER.sniff(assets / "poetry-lock" / "v2" / "poetry.lock")
    assert not READER.sniff(_folder(assets))
    assert not READER.sniff(tmp_path / "missing.json")
    other = tmp_path / "other.json"
    other.write_text('{"_meta": {"version": 1}}')
    assert not READER.sniff(other)


def _error(path: Path) -> ReaderError:
    with pytest.raises(ReaderError) as caught:
        READER.read(path)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)
    return caught.value


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (5, "unsupported pipfile-spec 5"),
        ("6", "unsupported pipfile-spec '6'"),
        (True, "unsupported pipfile-spec True"),
        (None, "no pipfile-spec"),
    ],
)
def test_wrong_pipfile_spec(assets: Path, tmp_path: Path, spec: Any, message: str) -> None:
    data = _document(assets)
    data["_meta"]["pipfile-spec"] = spec
    if spec is None:
        del data["_meta"]["pipfile-spec"]
    error = _error(_write(tmp_path, data))
    assert message in str(error)
    assert error.line == 2


def test_invalid_json_names_the_line(assets: Path, tmp_path: Path) -> None:
    text = (_folder(assets) / "Pipfile.lock").read_text()
    cut = text.index('"develop"')
    path = tmp_path / "Pipfile.lock"
    path.write_text(text[:cut])
    error = _error(path)
    assert "invalid JSON" in str(error)
    assert error.line == text[:cut].count("\n") + 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["default"].update(click=3), "default entry 'click' must be a mapping"),
        (lambda d: d["default"]["click"].update(version=8), "click version must be a string"),
        (lambda d: d["default"]["click"].update(hashes="x"), "click hashes must be a list"),
        (lambda d: d["default"]["click"].update(hashes=["md5"]), "not of the form algorithm:hex"),
        (lambda d: d["default"]["click"].update(index="corp"), "names index 'corp'"),
        (lambda d: d["default"]["click"].update(extras="x"), "extras must be a list of strings"),
        (lambda d: d["default"]["click"].update(editable=1), "editable must be true or false"),
        (lambda d: d["default"]["click"].update(markers=[]), "click markers must be a string"),
        (lambda d: d.update(develop=[]), "section 'develop' must be a mapping"),
        (lambda d: d["_meta"].update(sources={}), "_meta.sources must be a list"),
        (lambda d: d["_meta"]["sources"][0].pop("url"), "lacks its name or url"),
        (lambda d: d.pop("_meta"), "no _meta table"),
    ],
)
def test_wrong_types(assets: Path, tmp_path: Path, change: Any, message: str) -> None:
    data = _document(assets)
    change(data)
    error = _error(_write(tmp_path, data))
    assert message in str(error)
    assert (error.line is None) == (message == "no _meta table")


def test_wrong_type_names_the_entry_line(assets: Path, tmp_path: Path) -> None:
    data = _document(assets)
    data["develop"]["pytest"]["version"] = 9
    path = _write(tmp_path, data)
    error = _error(path)
    assert error.line is not None
    lines = path.read_text().splitlines()
    assert lines[error.line - 1].strip() == '"pytest": {'
    assert lines.index('    "develop": {') < error.line


def test_latin1_empty_top_level_and_nesting(tmp_path: Path) -> None:
    path = tmp_path / "Pipfile.lock"
    path.write_bytes('{\n"_meta": {"x": "caf\xe9"}}'.encode("latin-1"))
    error = _error(path)
    assert "not valid UTF-8" in str(error)
    assert error.line == 2
    path.write_text("")
    assert "invalid JSON" in str(_error(path))
    path.write_text("[]")
    assert "top level must be a mapping" in str(_error(path))
    path.write_text("[" * 200 + "]" * 200)
    assert "nested" in str(_error(path))
    assert "no such file" in str(_error(tmp_path / "absent" / "Pipfile.lock"))
