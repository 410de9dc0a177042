"""pip-inspect and pip-report readers: real JSON written by pip 26.3."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assay.environments.model import Hash, HashSource, OriginKind, Party
from assay.environments.ports import ReaderError
from assay.environments.readers._files import digest
from assay.environments.readers.pip_json import PipInspectReader, PipReportReader

INSPECT = PipInspectReader()
REPORT = PipReportReader()


@pytest.fixture
def inspect_path(assets: Path) -> Path:
    return assets / "pip-inspect" / "inspect.json"


@pytest.fixture
def report_path(assets: Path) -> Path:
    return assets / "pip-report" / "report.json"


def _document(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _dump(tmp_path: Path, document: object, name: str = "x.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


def test_inspect(inspect_path: Path) -> None:
    env = INSPECT.read(inspect_path)
    assert [(p.name, p.version_raw) for p in env.packages] == [
        ("attrs", "24.2.0"),
        ("idna", "3.20"),
        ("packaging", "26.4"),
        ("pip", "26.3"),
        ("plainpkg", "0.1.0"),
        ("setuptools", "65.5.0"),
        ("six", "1.16.0"),
        ("tinylib", "0.3.0"),
        ("wheelpkg", "0.2.0"),
    ]
    assert env.source.kind == "pip-inspect"
    assert env.source.digest == digest(inspect_path.read_bytes())
    assert env.python_version == "3.11.7"
    assert env.platform == "linux-x86_64"
    assert env.properties == (("pip-version", "26.3"),)
    assert env.notes == ()
    assert all(p.installer == "pip" for p in env.packages)

    (idna,) = env.by_name("idna")
    assert idna.requested is False
    assert idna.origin.kind is OriginKind.INDEX  # installed by pip without direct_url.json
    assert idna.license is not None
    assert idna.license.spdx == "BSD-3-Clause"

    (packaging,) = env.by_name("packaging")
    assert packaging.license is not None
    assert packaging.license.spdx == "Apache-2.0 OR BSD-2-Clause"
    assert packaging.license.origin == "license-expression"
    (setuptools,) = env.by_name("setuptools")
    assert setuptools.license is not None
    assert (setuptools.license.spdx, setuptools.license.origin) == ("MIT", "classifier")
    assert setuptools.dependencies == ()  # every requirement is behind an extra

    (six,) = env.by_name("six")
    assert six.origin.kind is OriginKind.URL
    assert six.hashes == (
        Hash("sha256", "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"),
    )
    assert six.hash_source is HashSource.REPORT

    (plainpkg,) = env.by_name("plainpkg")
    assert plainpkg.origin.editable
    assert plainpkg.origin.path == "/tmp/pipreaders/plainpkg"
    assert plainpkg.dependencies == ("six",)
    assert plainpkg.license is None

    (tinylib,) = env.by_name("tinylib")
    assert tinylib.dependencies == ("idna",)
    (wheel,) = env.by_name("wheelpkg")
    assert wheel.dependencies == ("attrs",)
    assert wheel.origin.kind is OriginKind.DIRECTORY
    assert wheel.origin.path == "/tmp/pipreaders/dist/wheelpkg-0.2.0-py3-none-any.whl"
    assert wheel.hash_source is HashSource.REPORT


def test_inspect_core_metadata_details(inspect_path: Path) -> None:
    env = INSPECT.read(inspect_path)
    (attrs,) = env.by_name("attrs")
    assert attrs.summary == "Classes Without Boilerplate"
    assert attrs.authors == (Party("Hynek Schlawack", "hs@ox.cx"),)
    assert attrs.maintainers == ()
    assert attrs.project_urls[2] == ("GitHub", "https://github.com/python-attrs/attrs")
    (setuptools,) = env.by_name("setuptools")
    assert setuptools.homepage == "https://github.com/pypa/setuptools"
    assert setuptools.authors == (Party("Python Packaging Authority", "distutils-sig@python.org"),)
    assert setuptools.project_urls == (
        ("Documentation", "https://setuptools.pypa.io/"),
        ("Changelog", "https://setuptools.pypa.io/en/stable/history.html"),
    )


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("author", ["A"], "installed[0].metadata.author must be a string"),
        ("project_url", "Source, https://x.example", "installed[0].metadata.project_url must be"),
    ],
)
def test_bad_core_metadata_details(
    tmp_path: Path, inspect_path: Path, key: str, value: object, message: str
) -> None:
    document = _document(inspect_path)
    document["installed"][0]["metadata"][key] = value
    with pytest.raises(ReaderError, match=message.replace("[", r"\[").replace("]", r"\]")):
        INSPECT.read(_dump(tmp_path, document))


def test_report_core_metadata_details(report_path: Path) -> None:
    env = REPORT.read(report_path)
    (certifi,) = env.by_name("certifi")
    assert certifi.summary == "Python package for providing Mozilla's CA Bundle."
    assert certifi.authors == (Party("Kenneth Reitz", "me@kennethreitz.com"),)
    assert certifi.homepage == "https://github.com/certifi/python-certifi"
    (charset,) = env.by_name("charset-normalizer")
    assert charset.maintainers == (Party("Ahmed R. TAHRI", "tahri.ahmed@proton.me"),)


def test_report(report_path: Path) -> None:
    env = REPORT.read(report_path)
    assert len(env.packages) == 11
    assert env.source.kind == "pip-report"
    assert env.python_version == "3.11.7"
    assert env.platform == "linux-x86_64"

    (requests,) = env.by_name("requests")
    assert requests.version_raw == "2.34.2"
    assert requests.requested is True
    assert requests.extras == ("socks",)
    assert requests.dependencies == ("certifi", "charset-normalizer", "idna", "pysocks", "urllib3")
    assert requests.origin.kind is OriginKind.INDEX
    assert requests.hashes == (
        Hash("sha256", "2a0d60c172f83ac6ab31e4554906c0f3b3588d37b5cb939b1c061f4907e278e0"),
    )
    assert requests.hash_source is HashSource.REPORT
    assert requests.installer == "pip"

    (pysocks,) = env.by_name("pysocks")
    assert (pysocks.name, pysocks.requested) == ("PySocks", False)
    assert pysocks.license is not None
    assert (pysocks.license.raw, pysocks.license.spdx) == ("BSD", None)

    (urllib3,) = env.by_name("urllib3")
    assert urllib3.dependencies == ()  # its socks extra is not asked for by requests[socks]

    (tinylib,) = env.by_name("tinylib")
    assert tinylib.origin.kind is OriginKind.VCS
    assert tinylib.origin.vcs == "git"
    assert tinylib.origin.commit == "a748842d3cdd66eee021e5608cc439c10eec920e"
    assert tinylib.hashes == ()
    assert tinylib.dependencies == ("idna",)

    (wheel,) = env.by_name("wheelpkg")
    assert wheel.origin.kind is OriginKind.DIRECTORY
    assert not wheel.origin.editable
    assert wheel.origin.path == "/tmp/pipreaders/wheelpkg"
    assert wheel.dependencies == ("attrs",)

    (six,) = env.by_name("six")
    assert six.origin.kind is OriginKind.URL
    assert six.requested is True


def test_transitive_extras_propagate(tmp_path: Path, report_path: Path) -> None:
    document = _document(report_path)
    for item in document["install"]:
        if item["metadata"]["name"] == "requests":
            item["requested_extras"] = None
        if item["metadata"]["name"] == "click":  # click now asks for requests[socks]
            item["metadata"]["requires_dist"] = ["requests[socks]>=2"]
    env = REPORT.read(_dump(tmp_path, document))
    (requests,) = env.by_name("requests")
    assert requests.extras == ("socks",)
    assert "pysocks" in requests.dependencies
    (click,) = env.by_name("click")
    assert click.dependencies == ("requests",)


def test_yanked_is_noted(tmp_path: Path, report_path: Path) -> None:
    document = _document(report_path)
    document["install"][0]["is_yanked"] = True
    env = REPORT.read(_dump(tmp_path, document))
    assert env.notes == ("pip would install yanked release(s): six 1.16.0",)


def test_non_pip_installer_has_unknown_origin(tmp_path: Path, inspect_path: Path) -> None:
    document = _document(inspect_path)
    for item in document["installed"]:
        item["installer"] = "conda"
    env = INSPECT.read(_dump(tmp_path, document))
    (idna,) = env.by_name("idna")
    assert (idna.origin.kind, idna.installer) == (OriginKind.UNKNOWN, "conda")


def _mutate_inspect(document: dict[str, Any], case: str) -> None:
    first = document["installed"][0]
    if case == "version-2":
        document["version"] = "2"
    elif case == "version-int":
        document["version"] = 1
    elif case == "no-name":
        del first["metadata"]["name"]
    elif case == "no-metadata":
        del first["metadata"]
    elif case == "installed-dict":
        document["installed"] = {}
    elif case == "requested-str":
        first["requested"] = "yes"
    elif case == "requires-str":
        first["metadata"]["requires_dist"] = "six"
    elif case == "direct-url-empty":
        first["direct_url"] = {"url": "https://x.example/a.whl"}
    elif case == "bad-hash":
        first["direct_url"] = {"url": "https://x.example/a.whl", "archive_info": {"hash": "zz"}}
    elif case == "no-environment":
        del document["environment"]
    elif case == "environment-int":
        document["environment"]["python_version"] = 3


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("version-2", "unsupported pip inspect format version '2'"),
        ("version-int", "unsupported pip inspect format version 1"),
        ("no-name", "installed[0].metadata.name must be a string"),
        ("no-metadata", "installed[0].metadata must be a mapping"),
        ("installed-dict", "installed must be a list"),
        ("requested-str", "installed[0].requested must be true or false"),
        ("requires-str", "installed[0].metadata.requires_dist must be a list"),
        ("direct-url-empty", "has none of vcs_info, archive_info, dir_info"),
        ("bad-hash", "archive_info.hash must look like"),
        ("no-environment", "environment must be a mapping"),
        ("environment-int", "environment.python_version must be a string"),
    ],
)
def test_bad_inspect(tmp_path: Path, inspect_path: Path, case: str, message: str) -> None:
    document = _document(inspect_path)
    _mutate_inspect(document, case)
    path = _dump(tmp_path, document)
    with pytest.raises(ReaderError) as info:
        INSPECT.read(path)
    assert info.value.path == str(path)
    assert message in str(info.value)


def test_bad_report(tmp_path: Path, report_path: Path) -> None:
    document = _document(report_path)
    del document["install"][2]["download_info"]
    with pytest.raises(ReaderError, match=r"install\[2\]\.download_info must be a mapping"):
        REPORT.read(_dump(tmp_path, document))
    document = _document(report_path)
    document["install"][1]["download_info"]["vcs_info"]["commit_id"] = None
    with pytest.raises(ReaderError, match=r"vcs_info\.commit_id must be a string"):
        REPORT.read(_dump(tmp_path, document))


def test_truncated_json_names_the_line(tmp_path: Path, inspect_path: Path) -> None:
    lines = inspect_path.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "inspect.json"
    path.write_text("".join(lines[:40]).rstrip("\n"), encoding="utf-8")
    with pytest.raises(ReaderError) as info:
        INSPECT.read(path)
    assert info.value.line == 40
    assert "invalid JSON" in str(info.value)


def test_encoding_empty_and_nesting(tmp_path: Path) -> None:
    path = tmp_path / "inspect.json"
    path.write_bytes(b'{"version": "1",\n "installed": [], "x": "caf\xe9"}')
    with pytest.raises(ReaderError, match=r"inspect\.json:2: not valid UTF-8"):
        INSPECT.read(path)
    path.write_bytes(b"")
    with pytest.raises(ReaderError, match="invalid JSON"):
        INSPECT.read(path)
    path.write_text('{"version": "1", "installed": ' + "[" * 100 + "]" * 100 + "}")
    with pytest.raises(ReaderError, match="nested"):
        INSPECT.read(path)
    path.write_text("[]")
    with pytest.raises(ReaderError, match="the document must be a mapping"):
        INSPECT.read(path)


def test_sniff(tmp_path: Path, inspect_path: Path, report_path: Path, assets: Path) -> None:
    assert INSPECT.sniff(inspect_path)
    assert not REPORT.sniff(inspect_path)
    assert REPORT.sniff(report_path)
    assert not INSPECT.sniff(report_path)
    compact = tmp_path / "compact.json"
    compact.write_text('{"version":"1","pip_version":"24.0","install":[],"environment":{}}')
    assert REPORT.sniff(compact)
    spaced = tmp_path / "spaced.json"
    spaced.write_text('{\n  "version" :\t"1",\n  "installed" : [ ]\n}')
    assert INSPECT.sniff(spaced)
    other = tmp_path / "other.json"
    other.write_text('{"version": "2", "installed": []}')
    assert not INSPECT.sniff(other)
    renamed = tmp_path / "inspect.txt"
    renamed.write_bytes(inspect_path.read_bytes())
    assert not INSPECT.sniff(renamed)
    assert not INSPECT.sniff(assets / "pip-freeze" / "freeze.txt")
    assert not INSPECT.sniff(tmp_path)
    assert not REPORT.sniff(tmp_path / "absent.json")
