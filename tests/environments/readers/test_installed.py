"""The ``installed`` reader: venvs, site-packages directories and interpreters."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from assay.environments.model import Environment, HashSource, OriginKind, Package, Party
from assay.environments.ports import ReaderError
from assay.environments.readers.distinfo import parse_headers, read_distribution
from assay.environments.readers.installed import InstalledReader
from assay.environments.readers.pip_json import PipInspectReader

SITE = "lib/python3.11/site-packages"
READER = InstalledReader()


@pytest.fixture
def venv(assets: Path) -> Path:
    return assets / "installed" / "venv"


@pytest.fixture
def copied(venv: Path, tmp_path: Path) -> Path:
    target = tmp_path / "venv"
    shutil.copytree(venv, target)
    return target


def _one(env: Environment, name: str) -> Package:
    (package,) = env.by_name(name)
    return package


def _metadata(site: Path, dirname: str, text: bytes) -> Path:
    meta = site / dirname
    meta.mkdir(parents=True)
    (meta / "METADATA").write_bytes(text)
    return meta


# --- the real venv fixture ---------------------------------------------------------------


def test_reads_venv_fixture(venv: Path) -> None:
    env = READER.read(venv)
    assert len(env.packages) == 11
    assert env.python_version == "3.11.7"
    assert env.platform is None
    assert env.notes == ()
    assert env.source.kind == "installed"
    assert env.source.digest.startswith("sha256:")

    requests = _one(env, "requests")
    assert requests.version_raw == "2.34.2"
    assert requests.installer == "pip"
    assert requests.requested is True
    assert requests.origin.kind is OriginKind.INDEX
    assert requests.hash_source is HashSource.RECORD
    record = (venv / SITE / "requests-2.34.2.dist-info" / "RECORD").read_bytes()
    assert [str(h) for h in requests.hashes] == ["sha256:" + hashlib.sha256(record).hexdigest()]
    assert requests.license is not None
    assert requests.license.spdx == "Apache-2.0"
    assert requests.dependencies == ("certifi", "charset-normalizer", "idna", "urllib3")

    certifi = _one(env, "certifi")
    assert (certifi.version_raw, certifi.requested) == ("2026.10.19.post1", False)
    assert certifi.license is not None
    assert certifi.license.spdx == "MPL-2.0"

    idna = _one(env, "idna")
    assert idna.license is not None
    assert (idna.license.spdx, idna.license.origin) == ("BSD-3-Clause", "license-expression")


def test_direct_url_origins(venv: Path) -> None:
    env = READER.read(venv)
    editable = _one(env, "editproj")
    assert editable.version_raw == "0.1.0.dev0"
    assert editable.origin.kind is OriginKind.DIRECTORY
    assert editable.origin.editable is True
    assert editable.origin.path == "/tmp/instreader/projects/editproj"
    assert editable.requested is True
    assert editable.license is not None
    assert editable.license.spdx == "Apache-2.0 OR MIT"
    assert editable.license.origin == "license-expression"
    # tomli only below 3.11, urllib3 only with the "fast" extra
    assert editable.dependencies == ("requests",)

    git = _one(env, "git-pkg")
    assert git.name == "Git_Pkg"
    assert git.origin.kind is OriginKind.VCS
    assert git.origin.vcs == "git"
    assert git.origin.commit == "dbf5c0a74395c3ee857a58dc1313371cb739b7d4"
    assert git.origin.requested_revision == "v0.2.0"
    assert git.origin.url == "file:///tmp/instreader/projects/gitpkg"
    assert git.purl.startswith("pkg:pypi/git-pkg@0.2.0?vcs_url=git%2Bfile:")
    assert git.license is not None
    assert (git.license.spdx, git.license.origin) == ("MIT", "classifier")
    assert git.dependencies == ("charset-normalizer",)  # colorama is win32 only

    wheel = _one(env, "wheelpkg")
    assert wheel.hash_source is HashSource.REPORT
    assert [str(h) for h in wheel.hashes] == [
        "sha256:bfcd410fa97ed46c5616661c54c649b07ae44c3f113e73ce368c7aea370d1520"
    ]
    assert wheel.origin.kind is OriginKind.DIRECTORY
    assert wheel.origin.path == "/tmp/instreader/dist/wheelpkg-1.0-py3-none-any.whl"
    assert wheel.dependencies == ("idna",)


def test_egg_info(venv: Path) -> None:
    legacy = _one(READER.read(venv), "legacyproj")
    assert legacy.version_raw == "0.3"
    assert legacy.installer is None
    assert legacy.requested is None  # no INSTALLER: the source cannot tell
    assert legacy.origin.kind is OriginKind.UNKNOWN
    assert legacy.hashes == ()
    assert legacy.hash_source is None
    assert legacy.license is not None
    assert legacy.license.spdx == "LicenseRef-Public-Domain"
    # requires.txt: certifi always, urllib3 only for [tls], importlib-metadata only < 3.8
    assert legacy.dependencies == ("certifi",)


def test_core_metadata_details(venv: Path) -> None:
    env = READER.read(venv)
    requests = _one(env, "requests")
    assert requests.summary == "Python HTTP for Humans."
    assert requests.authors == (Party("Kenneth Reitz", "me@kennethreitz.org"),)
    assert requests.maintainers == (
        Party("Ian Stapleton Cordasco", "graffatcolmingov@gmail.com"),
        Party("Nate Prewitt", "nate.prewitt@gmail.com"),
    )
    assert requests.homepage is None
    assert requests.project_urls == (
        ("Documentation", "https://requests.readthedocs.io"),
        ("Source", "https://github.com/psf/requests"),
    )
    setuptools = _one(env, "setuptools")
    assert setuptools.homepage == "https://github.com/pypa/setuptools"
    assert setuptools.authors == (Party("Python Packaging Authority", "distutils-sig@python.org"),)
    assert setuptools.project_urls[0] == ("Documentation", "https://setuptools.pypa.io/")
    assert _one(env, "wheelpkg").authors == ()


def test_details_agree_with_committed_pip_inspect(venv: Path, assets: Path) -> None:
    # pip serialises the same METADATA as JSON: both readers must find the same details
    installed = READER.read(venv)
    inspected = PipInspectReader().read(assets / "installed" / "pip-inspect.json")
    assert len(installed.packages) == len(inspected.packages)
    for package in installed.packages:
        (other,) = inspected.by_name(package.name)
        for field in ("summary", "authors", "maintainers", "homepage", "download_url"):
            assert getattr(package, field) == getattr(other, field), (package.name, field)
        assert package.project_urls == other.project_urls, package.name


def test_agrees_with_committed_pip_inspect(venv: Path, assets: Path) -> None:
    report = json.loads((assets / "installed" / "pip-inspect.json").read_text())
    env = READER.read(venv)
    expected = {
        (canonicalize_name(item["metadata"]["name"]), item["metadata"]["version"])
        for item in report["installed"]
    }
    assert {(p.canonical_name, p.version_raw) for p in env.packages} == expected
    for item in report["installed"]:
        package = _one(env, item["metadata"]["name"])
        assert package.requested == item.get("requested")
        assert package.installer == item.get("installer")
        direct = item.get("direct_url")
        assert (package.origin.url if direct else None) == (direct["url"] if direct else None)
        if direct and "vcs_info" in direct:
            assert package.origin.commit == direct["vcs_info"]["commit_id"]
    assert env.python_version is not None
    assert env.python_version.startswith(report["environment"]["python_version"])


def test_site_packages_directory(venv: Path) -> None:
    whole = READER.read(venv)
    site = READER.read(venv / SITE)
    assert site.packages == whole.packages
    assert site.python_version == "3.11.7"  # from the venv's pyvenv.cfg above it


def test_digest_follows_metadata(copied: Path) -> None:
    before = READER.read(copied).source.digest
    assert READER.read(copied).source.digest == before
    installer = copied / SITE / "idna-3.20.dist-info" / "INSTALLER"
    installer.write_text("uv\n")
    after = READER.read(copied)
    assert after.source.digest != before
    assert _one(after, "idna").installer == "uv"


# --- the real pip and the real interpreter ----------------------------------------------


def _pip_command() -> list[str]:
    """A pip that can run ``inspect``: this interpreter's, else its base interpreter's."""
    candidates = [Path(sys.executable)]
    base = Path(sys.base_prefix) / "bin" / "python3"
    if base.is_file():
        candidates.append(base)
    for python in candidates:
        probe = subprocess.run(
            [str(python), "-m", "pip", "--version"], capture_output=True, check=False
        )
        if probe.returncode == 0:
            return [str(python), "-m", "pip"]
    pytest.skip("no pip available to cross-check against")


def test_agrees_with_real_pip_inspect_on_project_venv() -> None:
    site = Path(sysconfig.get_paths()["purelib"])
    result = subprocess.run(
        [*_pip_command(), "inspect", "--path", str(site)],
        capture_output=True,
        check=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    report = json.loads(result.stdout)
    expected = {
        (canonicalize_name(item["metadata"]["name"]), item["metadata"]["version"])
        for item in report["installed"]
    }
    env = READER.read(site)
    assert len(expected) > 10
    assert {(p.canonical_name, p.version_raw) for p in env.packages} == expected
    assert len(env.packages) == len(report["installed"])


def test_reads_running_interpreter() -> None:
    env = READER.read(Path(sys.executable))
    assert env.python_version == platform.python_version()
    assert env.platform == sysconfig.get_platform()
    site = READER.read(Path(sysconfig.get_paths()["purelib"]))
    assert {(p.canonical_name, p.version_raw) for p in env.packages} == {
        (p.canonical_name, p.version_raw) for p in site.packages
    }
    packaging = _one(env, "packaging")
    assert packaging.installer is not None


# --- sniffing ----------------------------------------------------------------------------


def test_sniff(venv: Path, assets: Path, tmp_path: Path) -> None:
    assert READER.sniff(venv)
    assert READER.sniff(venv / SITE)
    assert READER.sniff(Path(sys.executable))
    assert not READER.sniff(assets / "conda-prefix" / "prefix")  # the conda-prefix reader's
    assert not READER.sniff(assets / "installed" / "pip-inspect.json")
    assert not READER.sniff(tmp_path)
    assert not READER.sniff(tmp_path / "missing")
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\n")
    assert not READER.sniff(fake)  # not executable
    fake.chmod(0o755)
    assert READER.sniff(fake)
    conda_site = tmp_path / "conda"
    (conda_site / "conda-meta").mkdir(parents=True)
    (conda_site / "pyvenv.cfg").write_text("version = 3.11.0\n")
    assert not READER.sniff(conda_site)


# --- layouts -----------------------------------------------------------------------------


def test_lib64_symlink_is_read_once(copied: Path) -> None:
    (copied / "lib64").symlink_to("lib")
    env = READER.read(copied)
    assert len(env.packages) == 11
    assert env.notes == ()


def test_virtualenv_version_info_and_system_site(tmp_path: Path, venv: Path) -> None:
    root = tmp_path / "env"
    shutil.copytree(venv / SITE / "idna-3.20.dist-info", root / SITE / "idna-3.20.dist-info")
    (root / "pyvenv.cfg").write_text(
        "home = /usr/bin\nimplementation = CPython\nversion_info = 3.12.1.final.0\n"
        "virtualenv = 20.25.0\ninclude-system-site-packages = true\n"
    )
    env = READER.read(root)
    assert env.python_version == "3.12.1"
    assert len(env.notes) == 1
    assert "include-system-site-packages" in env.notes[0]


def test_prefix_without_pyvenv_cfg(tmp_path: Path, venv: Path) -> None:
    site = tmp_path / "prefix" / "lib" / "python3.10" / "site-packages"
    shutil.copytree(venv / SITE / "idna-3.20.dist-info", site / "idna-3.20.dist-info")
    env = READER.read(tmp_path / "prefix")
    assert env.python_version == "3.10"
    assert [p.name for p in env.packages] == ["idna"]


def test_windows_layout(tmp_path: Path, venv: Path) -> None:
    site = tmp_path / "winenv" / "Lib" / "site-packages"
    shutil.copytree(venv / SITE / "idna-3.20.dist-info", site / "idna-3.20.dist-info")
    (tmp_path / "winenv" / "pyvenv.cfg").write_text("version = 3.11.9\n")
    env = READER.read(tmp_path / "winenv")
    assert (env.python_version, env.platform) == ("3.11.9", "win32")


def test_duplicate_distributions_are_kept_with_a_note(copied: Path) -> None:
    site = copied / SITE
    shutil.copytree(site / "idna-3.20.dist-info", site / "idna-3.19.dist-info")
    metadata = site / "idna-3.19.dist-info" / "METADATA"
    metadata.write_text(metadata.read_text().replace("Version: 3.20", "Version: 3.19"))
    env = READER.read(copied)
    assert [p.version_raw for p in env.by_name("idna")] == ["3.19", "3.20"]
    assert len(env.notes) == 1
    assert "idna is installed 2 times" in env.notes[0]
    assert "idna-3.19.dist-info" in env.notes[0]


def test_single_file_egg_info(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    site.mkdir()
    (site / "oldpkg-1.2-py3.11.egg-info").write_text(
        "Metadata-Version: 1.0\nName: oldpkg\nVersion: 1.2\nLicense: MIT\n"
    )
    (package,) = READER.read(site).packages
    assert (package.name, package.version_raw, package.requested) == ("oldpkg", "1.2", None)


def test_header_parser_continuations_and_crlf(tmp_path: Path) -> None:
    data = (
        b"Metadata-Version: 2.1\r\nName: demo\r\nVersion: 1.0\r\nLicense: Line one\r\n"
        b"        line two\r\nClassifier: A\r\nClassifier: B\r\nDescription: x\r\n"
        b"Requires-Dist: idna\r\n\r\nBody: not a header\r\n"
    )
    fields = parse_headers(tmp_path / "METADATA", data)
    assert fields["license"] == ["Line one\nline two"]
    assert fields["classifier"] == ["A", "B"]
    assert fields["requires-dist"] == ["idna"]
    assert "body" not in fields


def test_non_pep440_version_is_kept(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    _metadata(site, "weird-1.0-custom.dist-info", b"Name: weird\nVersion: 1.0-custom+x y\n\n")
    (package,) = READER.read(site).packages
    assert package.version_raw == "1.0-custom+x y"
    assert package.version is None


# --- bad input ---------------------------------------------------------------------------


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match="no such file or directory"):
        READER.read(tmp_path / "nope")


def test_directory_that_is_not_an_environment(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match="not a virtual environment"):
        READER.read(tmp_path)


def test_venv_without_site_packages(tmp_path: Path) -> None:
    (tmp_path / "pyvenv.cfg").write_text("version = 3.11.0\n")
    with pytest.raises(ReaderError, match=r"no lib/pythonX\.Y/site-packages"):
        READER.read(tmp_path)


def test_metadata_without_version(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    meta = _metadata(site, "demo-1.0.dist-info", b"Metadata-Version: 2.1\nName: demo\n\nbody\n")
    with pytest.raises(ReaderError, match="has no Version field") as info:
        READER.read(site)
    assert info.value.path == str(meta / "METADATA")


def test_metadata_without_name(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    _metadata(site, "demo-1.0.dist-info", b"Version: 1.0\n")
    with pytest.raises(ReaderError, match=r"METADATA: has no Name field"):
        READER.read(site)


def test_empty_metadata(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    _metadata(site, "demo-1.0.dist-info", b"")
    with pytest.raises(ReaderError, match="has no Name field"):
        READER.read(site)


def test_invalid_name(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    _metadata(site, "demo-1.0.dist-info", b"Name: -bad name-\nVersion: 1\n")
    with pytest.raises(ReaderError, match="not a valid distribution name"):
        READER.read(site)


def test_latin1_metadata(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    meta = _metadata(
        site, "demo-1.0.dist-info", "Name: demo\nVersion: 1.0\nAuthor: José\n".encode("latin-1")
    )
    with pytest.raises(ReaderError, match="not valid UTF-8") as info:
        READER.read(site)
    assert str(info.value).startswith(f"{meta / 'METADATA'}:3:")


def test_missing_metadata_file(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    (site / "demo-1.0.dist-info").mkdir(parents=True)
    with pytest.raises(ReaderError, match="METADATA: no such file"):
        READER.read(site)


def test_broken_direct_url(copied: Path) -> None:
    direct = copied / SITE / "git_pkg-0.2.0.dist-info" / "direct_url.json"
    direct.write_text('{\n  "url": "file:///x",\n  "vcs_info": {\n')
    with pytest.raises(ReaderError, match="invalid JSON") as info:
        READER.read(copied)
    assert info.value.path == str(direct)
    assert info.value.line is not None


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ('{"url": 3, "dir_info": {}}', "url must be a string"),
        ('{"url": "file:///x", "vcs_info": {"vcs": "git"}}', "commit_id must be a string"),
        ('{"url": "file:///x", "dir_info": {"editable": "yes"}}', "editable must be true"),
        ('{"url": "file:///x", "archive_info": {"hash": "nohash"}}', "archive_info.hash"),
        ('{"url": "file:///x"}', "none of vcs_info"),
        ("[1, 2]", "must be a mapping"),
    ],
)
def test_malformed_direct_url(copied: Path, document: str, message: str) -> None:
    direct = copied / SITE / "git_pkg-0.2.0.dist-info" / "direct_url.json"
    direct.write_text(document)
    with pytest.raises(ReaderError, match=message) as info:
        READER.read(copied)
    assert info.value.path == str(direct)


def test_interpreter_not_executable(tmp_path: Path) -> None:
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\necho hi\n")
    fake.chmod(0o644)
    with pytest.raises(ReaderError, match="cannot run interpreter") as info:
        READER.read(fake)
    assert info.value.path == str(fake)


def test_interpreter_that_fails(tmp_path: Path) -> None:
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\necho 'Unknown option: -I' >&2\nexit 2\n")
    fake.chmod(0o755)
    with pytest.raises(ReaderError, match="interpreter query failed: Unknown option: -I"):
        READER.read(fake)


def test_interpreter_that_answers_nonsense(tmp_path: Path) -> None:
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\necho 'not json'\n")
    fake.chmod(0o755)
    with pytest.raises(ReaderError, match="invalid JSON"):
        READER.read(fake)


def test_interpreter_with_missing_site(tmp_path: Path) -> None:
    answer = {
        "purelib": str(tmp_path / "gone"),
        "platlib": str(tmp_path / "gone"),
        "version": "3.11.0",
        "platform": "linux-x86_64",
        "prefix": str(tmp_path),
    }
    fake = tmp_path / "python3"
    fake.write_text(f"#!/bin/sh\necho '{json.dumps(answer)}'\n")
    fake.chmod(0o755)
    with pytest.raises(ReaderError, match="site-packages does not exist"):
        READER.read(fake)


def test_read_distribution_relative_paths(venv: Path) -> None:
    dist = read_distribution(venv / SITE / "wheelpkg-1.0.dist-info", SITE)
    assert sorted(rel for rel, _ in dist.files) == [
        f"{SITE}/wheelpkg-1.0.dist-info/{name}"
        for name in ("INSTALLER", "METADATA", "RECORD", "direct_url.json")
    ]
    assert dist.requires == ("idna",)


def test_direct_url_credentials_are_not_copied(copied: Path) -> None:
    direct = copied / SITE / "wheelpkg-1.0.dist-info" / "direct_url.json"
    direct.write_text(
        '{"url": "https://user:s3cret@files.example.invalid/wheelpkg-1.0-py3-none-any.whl",'
        ' "archive_info": {"hashes": {"sha256": "' + "ab" * 32 + '"}}}'
    )
    wheel = _one(READER.read(copied), "wheelpkg")
    assert wheel.origin.kind is OriginKind.URL
    assert wheel.origin.url is not None
    assert "s3cret" not in wheel.origin.url
    assert [str(h) for h in wheel.hashes] == ["sha256:" + "ab" * 32]
    assert wheel.hash_source is HashSource.REPORT
