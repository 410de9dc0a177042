"""CycloneDX reader: real cyclonedx-py and uv SBOMs, cross-checked against the tools' own lists."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from assay.environments.model import Ecosystem, Hash, HashSource, OriginKind, Party
from assay.environments.ports import ReaderError
from assay.environments.readers._files import digest
from assay.environments.readers.cyclonedx import CycloneDxReader

READER = CycloneDxReader()


def load(assets: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((assets / "cyclonedx" / name).read_text(encoding="utf-8"))
    return data


def write(tmp_path: Path, data: Any, name: str = "sbom.cdx.json") -> Path:
    target = tmp_path / name
    target.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return target


def fails(path: Path, pattern: str) -> ReaderError:
    with pytest.raises(ReaderError) as caught:
        READER.read(path)
    message = str(caught.value)
    assert message.startswith(str(path)), message
    assert re.search(pattern, message), message
    assert "\n" not in message
    return caught.value


def component(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in doc["components"] if c["name"] == name)


# --- the cyclonedx-py environment SBOM -----------------------------------------------------------


def test_environment_sbom_matches_pip_list_of_the_same_venv(assets: Path) -> None:
    env = READER.read(assets / "cyclonedx" / "env-1.6.cdx.json")
    pip_list = json.loads((assets / "cyclonedx" / "env-pip-list.json").read_text())
    assert {f"{p.canonical_name}=={p.version_raw}" for p in env.packages} == {
        f"{p['name'].lower()}=={p['version']}" for p in pip_list
    }
    assert len(env.packages) == 15
    assert all(p.ecosystem is Ecosystem.PYPI for p in env.packages)


def test_environment_sbom_details(assets: Path) -> None:
    path = assets / "cyclonedx" / "env-1.6.cdx.json"
    env = READER.read(path)
    assert env.source.kind == "cyclonedx"
    assert env.source.path == str(path)
    assert env.source.digest == digest(path.read_bytes())
    assert env.name == "demoapp"
    assert ("sbom.format", "CycloneDX 1.6") in env.properties
    assert ("sbom.tool", "cyclonedx-py 7.5.0, cyclonedx-python-lib 11.12.0") in env.properties
    kept = (
        "3 components have no package URL and are kept as local or unpublished Python "
        "packages: editdep 0.1.0.dev0, gitdep 2.0.1, localdep 0.3.0"
    )
    assert env.notes == (kept,)
    (requests,) = env.by_name("requests")
    assert requests.version_raw == "2.34.2"
    assert requests.requested is True
    assert requests.extras == ("socks",)
    assert requests.dependencies == ("certifi", "charset-normalizer", "idna", "pysocks", "urllib3")
    assert requests.license is not None
    assert requests.license.spdx == "Apache-2.0"
    assert requests.license.origin == "sbom"
    assert requests.origin.kind is OriginKind.INDEX
    assert requests.hashes == ()
    assert requests.hash_source is None
    (certifi,) = env.by_name("certifi")
    assert certifi.requested is False
    assert certifi.license is not None
    assert certifi.license.spdx == "MPL-2.0"
    (packaging,) = env.by_name("packaging")
    assert packaging.license is not None
    assert packaging.license.spdx == "Apache-2.0 OR BSD-2-Clause"
    (pysocks,) = env.by_name("pysocks")
    assert pysocks.name == "PySocks"
    assert pysocks.license is None
    (setuptools,) = env.by_name("setuptools")
    assert setuptools.dependencies == ("pip",)
    assert setuptools.requested is False
    requested = {p.canonical_name for p in env.packages if p.requested}
    assert requested == {"attrs", "click", "editdep", "gitdep", "localdep", "requests"}


def test_local_and_vcs_installs_without_purl_keep_their_origin(assets: Path) -> None:
    env = READER.read(assets / "cyclonedx" / "env-1.6.cdx.json")
    (gitdep,) = env.by_name("gitdep")
    assert gitdep.origin.kind is OriginKind.VCS
    assert gitdep.origin.vcs == "git"
    assert gitdep.origin.url == "file:///tmp/sbomhelper/gitdep"
    assert gitdep.origin.commit == "081b03ed7d349934a10f7a035377e2fdc490373d"
    assert gitdep.origin.requested_revision == "v2.0.1"
    assert gitdep.dependencies == ("packaging",)
    assert gitdep.license is not None
    assert gitdep.license.spdx == "BSD-3-Clause"
    (localdep,) = env.by_name("localdep")
    assert localdep.origin.kind is OriginKind.DIRECTORY
    assert localdep.origin.path == "/tmp/sbomhelper/localdep"
    assert localdep.dependencies == ("six",)
    (editdep,) = env.by_name("editdep")
    assert editdep.version_raw == "0.1.0.dev0"
    assert editdep.origin.kind is OriginKind.DIRECTORY


@pytest.mark.parametrize("spec", ["1.4", "1.5", "1.7"])
def test_every_supported_spec_version_reads_the_same(assets: Path, spec: str) -> None:
    reference = READER.read(assets / "cyclonedx" / "env-1.6.cdx.json")
    env = READER.read(assets / "cyclonedx" / f"env-{spec}.cdx.json")
    assert ("sbom.format", f"CycloneDX {spec}") in env.properties
    assert env.packages == reference.packages
    assert env.notes == reference.notes
    assert env.name == "demoapp"


# --- uv export --format cyclonedx1.5 -------------------------------------------------------------


def test_uv_export_agrees_with_uv_requirements_export(assets: Path) -> None:
    env = READER.read(assets / "cyclonedx" / "uv-export.cdx.json")
    exported = (assets / "cyclonedx" / "uv-export.txt").read_text().splitlines()
    pins = {
        line.split(" ;")[0].strip()
        for line in exported
        if line and not line.startswith(("#", " ", "../"))
    }
    assert {f"{p.name}=={p.version_raw}" for p in env.packages if p.name != "localdep"} == pins
    assert any(line == "../localdep" for line in exported)
    assert len(env.packages) == 10
    assert env.name == "uvdemo"
    assert ("sbom.tool", "uv 0.13.9") in env.properties


def test_uv_export_hashes_markers_and_graph(assets: Path) -> None:
    doc = load(assets, "uv-export.cdx.json")
    env = READER.read(assets / "cyclonedx" / "uv-export.cdx.json")
    (certifi,) = env.by_name("certifi")
    assert certifi.hashes == (
        Hash("sha256", "1324c476b4811eff41a8bc2122cd0bbd4d9c7234c725446d99ab1612b3a7fdd2"),
    )
    assert certifi.hash_source is HashSource.SBOM
    assert certifi.requested is False
    (charset,) = env.by_name("charset-normalizer")
    wanted = {
        h["content"]
        for ref in component(doc, "charset-normalizer")["externalReferences"]
        for h in ref["hashes"]
    }
    assert len(wanted) == 140
    assert {h.value for h in charset.hashes} == wanted
    (colorama,) = env.by_name("colorama")
    assert colorama.markers == "sys_platform == 'win32'"
    assert colorama.requested is True
    (localdep,) = env.by_name("localdep")
    assert localdep.requested is True
    assert localdep.dependencies == ("six",)
    assert localdep.origin.kind is OriginKind.UNKNOWN
    assert localdep.hashes == ()
    (requests,) = env.by_name("requests")
    assert requests.dependencies == ("certifi", "charset-normalizer", "idna", "pysocks", "urllib3")
    kept = (
        "1 components have no package URL and are kept as local or unpublished Python "
        "packages: localdep 0.3.0"
    )
    assert env.notes == (kept,)


# --- cyclonedx-py requirements -------------------------------------------------------------------


def test_requirements_sbom_unpinned_and_vcs(assets: Path) -> None:
    env = READER.read(assets / "cyclonedx" / "requirements.cdx.json")
    assert len(env.packages) == 7
    assert env.name is None
    assert all(p.requested is None for p in env.packages)  # no root component: cannot tell
    (pysocks,) = env.by_name("pysocks")
    assert pysocks.version_raw is None
    assert pysocks.specifier == ">=1.7"
    (gitdep,) = env.by_name("gitdep")
    assert gitdep.version_raw is None
    assert gitdep.origin.kind is OriginKind.VCS
    assert gitdep.origin.url == "file:///tmp/sbomhelper/gitdep"
    assert gitdep.origin.requested_revision == "v2.0.1"
    assert gitdep.origin.commit is None
    (attrs,) = env.by_name("attrs")
    assert attrs.hashes == (
        Hash("sha256", "c647aa4a12dfbad9333ca4e71fe62ddc36f4e63b2d260a37a8b83d2f043ac309"),
        Hash("sha256", "d03ceb89cb322a8fd706d4fb91940737b6642aa36998fe130a9bc96c985eff32"),
    )
    assert env.notes == ("2 components have no version: gitdep, pysocks >=1.7",)


# --- shapes the Python generators do not write ---------------------------------------------------


def test_non_python_components_are_skipped_with_a_note(assets: Path, tmp_path: Path) -> None:
    doc = load(assets, "env-1.6.cdx.json")
    doc["components"] += [
        {
            "type": "library",
            "name": "left-pad",
            "version": "1.3.0",
            "purl": "pkg:npm/left-pad@1.3.0",
        },
        {"type": "operating-system", "name": "debian", "version": "12"},
        {"type": "file", "name": "app.bin", "hashes": [{"alg": "SHA-256", "content": "ab" * 32}]},
        {"type": "library", "name": "libssl3", "purl": "pkg:deb/debian/libssl3@3.0.11"},
        {"type": "library", "name": "vendored", "version": "2.0"},
    ]
    doc["metadata"]["tools"] = {"components": [{"name": "syft", "version": "1.0.0"}]}
    env = READER.read(write(tmp_path, doc))
    # the local installs keep cyclonedx-py's PEP 610 marks; the bare "vendored" library has none
    assert len(env.packages) == 15
    assert env.notes[-1] == (
        "5 components skipped: not pypi or conda packages: app.bin, debian 12, left-pad 1.3.0, "
        "libssl3, vendored 2.0"
    )


def test_python_evidence_keeps_a_purl_less_component_from_any_tool(
    assets: Path, tmp_path: Path
) -> None:
    doc = load(assets, "env-1.6.cdx.json")
    del doc["metadata"]["tools"]
    editdep = component(doc, "editdep")
    editdep["properties"] = [{"name": "cdx:python:package:source:local:editable", "value": "true"}]
    env = READER.read(write(tmp_path, doc))
    # gitdep (properties) and localdep/editdep (PackageSource references) carry cyclonedx-py's marks
    assert len(env.packages) == 15
    (edit,) = env.by_name("editdep")
    assert edit.origin.editable is True
    assert edit.origin.path == "/tmp/sbomhelper/editdep"
    del component(doc, "localdep")["externalReferences"]
    env = READER.read(write(tmp_path, doc, "bare.cdx.json"))
    assert not env.by_name("localdep")
    assert "1 components skipped: not pypi or conda packages: localdep 0.3.0" in env.notes
    (six,) = env.by_name("six")
    assert six.requested is False  # the graph still holds for what is kept


def test_conda_purls_nested_components_and_hash_names(assets: Path, tmp_path: Path) -> None:
    doc = load(assets, "env-1.6.cdx.json")
    doc["components"].append(
        {
            "type": "library",
            "bom-ref": "bundle",
            "name": "bundle",
            "purl": "pkg:generic/bundle@1",
            "components": [
                {
                    "type": "library",
                    "bom-ref": "numpy",
                    "name": "numpy",
                    "purl": "pkg:conda/numpy@1.26.4?build=py311h64a7726_0&channel=conda-forge"
                    "&subdir=linux-64&type=conda",
                    "hashes": [
                        {"alg": "SHA-256", "content": "AB" * 32},
                        {"alg": "SHA3-512", "content": "cd" * 64},
                        {"alg": "BLAKE2b-512", "content": "ef" * 64},
                        {"alg": "MD5", "content": "01" * 16},
                    ],
                    "licenses": [{"expression": "BSD-3-Clause AND MIT"}],
                    "components": [
                        {
                            "type": "library",
                            "bom-ref": "deep",
                            "name": "Deep_Pkg",
                            "purl": "pkg:pypi/deep-pkg@0.1?download_url=https://files.example/d.whl",
                        }
                    ],
                }
            ],
        }
    )
    doc["dependencies"].append({"ref": "numpy", "dependsOn": ["deep", "bundle"]})
    env = READER.read(write(tmp_path, doc))
    (numpy,) = env.by_name("numpy")
    assert numpy.ecosystem is Ecosystem.CONDA
    assert numpy.version_raw == "1.26.4"  # no version field: taken from the purl
    assert numpy.build == "py311h64a7726_0"
    assert numpy.platform == "linux-64"
    assert numpy.origin.kind is OriginKind.CHANNEL
    assert numpy.origin.url == "conda-forge"
    assert [str(h) for h in numpy.hashes] == [
        "blake2b:" + "ef" * 64,
        "md5:" + "01" * 16,
        "sha256:" + "ab" * 32,
        "sha3-512:" + "cd" * 64,
    ]
    assert numpy.license is not None
    assert numpy.license.spdx == "BSD-3-Clause AND MIT"
    assert numpy.dependencies == ("deep-pkg",)  # the generic bundle is not a package
    assert numpy.requested is False
    (deep,) = env.by_name("deep-pkg")
    assert deep.origin.kind is OriginKind.URL
    assert deep.origin.url == "https://files.example/d.whl"
    assert "1 components skipped: not pypi or conda packages: bundle" in env.notes


def test_license_names_and_repository_url(assets: Path, tmp_path: Path) -> None:
    doc = load(assets, "env-1.6.cdx.json")
    six = component(doc, "six")
    six["licenses"] = [{"license": {"name": "Some Custom License"}}]
    six["purl"] = "pkg:pypi/six@1.17.0?repository_url=https://mirror.example/simple"
    click = component(doc, "click")
    click["licenses"] = [
        {"license": {"name": "License :: OSI Approved :: MIT License"}},
        {"license": {"name": "License :: OSI Approved :: ISC License (ISCL)"}},
    ]
    env = READER.read(write(tmp_path, doc))
    (six_pkg,) = env.by_name("six")
    assert six_pkg.license is not None
    assert (six_pkg.license.raw, six_pkg.license.spdx) == ("Some Custom License", None)
    assert six_pkg.origin.kind is OriginKind.INDEX
    assert six_pkg.origin.url == "https://mirror.example/simple"
    (click_pkg,) = env.by_name("click")
    assert click_pkg.license is not None
    assert click_pkg.license.spdx == "ISC OR MIT"


def test_summary_authors_and_home_page(assets: Path, tmp_path: Path) -> None:
    doc = load(assets, "env-1.6.cdx.json")
    six = component(doc, "six")
    six["authors"] = [{"name": "Benjamin Peterson", "email": "benjamin@python.org"}, {}]
    six["author"] = "Someone Else"
    env = READER.read(write(tmp_path, doc))
    (six_pkg,) = env.by_name("six")
    assert six_pkg.summary == "Python 2 and 3 compatibility utilities"
    assert six_pkg.authors == (
        Party("Benjamin Peterson", "benjamin@python.org"),
        Party("Someone Else", None),
    )
    (certifi,) = env.by_name("certifi")
    assert certifi.homepage == "https://github.com/certifi/python-certifi"


def test_without_graph_or_root_requested_is_unknown(assets: Path, tmp_path: Path) -> None:
    doc = load(assets, "env-1.6.cdx.json")
    del doc["dependencies"]
    env = READER.read(write(tmp_path, doc, "no-graph.cdx.json"))
    assert all(p.requested is None and p.dependencies == () for p in env.packages)
    doc = load(assets, "env-1.6.cdx.json")
    del doc["metadata"]["component"]
    env = READER.read(write(tmp_path, doc, "no-root.cdx.json"))
    assert env.name is None
    assert all(p.requested is None for p in env.packages)
    (requests,) = env.by_name("requests")
    assert len(requests.dependencies) == 5
    assert any(n.startswith("1 dependency references name no component") for n in env.notes)


def test_root_component_with_a_pypi_purl_is_a_requested_package(
    assets: Path, tmp_path: Path
) -> None:
    doc = load(assets, "env-1.6.cdx.json")
    doc["metadata"]["component"]["purl"] = "pkg:pypi/demoapp@1.2.0"
    env = READER.read(write(tmp_path, doc))
    (root,) = env.by_name("demoapp")
    assert root.requested is True
    assert root.dependencies == ("attrs", "click", "editdep", "gitdep", "localdep", "requests")


# --- sniffing ------------------------------------------------------------------------------------


def test_sniff_positive(assets: Path, tmp_path: Path) -> None:
    for name in ("env-1.4.cdx.json", "uv-export.cdx.json", "requirements.cdx.json"):
        assert READER.sniff(assets / "cyclonedx" / name)
    # cyclonedx-py sorts keys (bomFormat last): recognised by its bom-ref keys
    plain = tmp_path / "sbom.json"
    plain.write_bytes((assets / "cyclonedx" / "env-1.6.cdx.json").read_bytes())
    assert READER.sniff(plain)
    # uv writes bomFormat first
    uv = tmp_path / "export.json"
    uv.write_bytes((assets / "cyclonedx" / "uv-export.cdx.json").read_bytes())
    assert READER.sniff(uv)
    named = tmp_path / "bom.json"
    named.write_text("{}")
    assert READER.sniff(named)


def test_sniff_negative(assets: Path, tmp_path: Path) -> None:
    assert not READER.sniff(assets / "cyclonedx" / "env-pip-list.json")
    assert not READER.sniff(assets / "spdx" / "env.spdx.json")
    assert not READER.sniff(assets / "cyclonedx" / "requirements.txt")
    assert not READER.sniff(assets / "cyclonedx")
    assert not READER.sniff(tmp_path / "missing.cdx.json")
    empty = tmp_path / "empty.json"
    empty.write_text("")
    assert not READER.sniff(empty)
    other = tmp_path / "package.json"
    other.write_text('{"name": "x", "version": "1.0.0"}')
    assert not READER.sniff(other)


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["1.3", "2.0", 1.6, None])
def test_unknown_spec_version(assets: Path, tmp_path: Path, spec: Any) -> None:
    doc = load(assets, "env-1.6.cdx.json")
    doc["specVersion"] = spec
    fails(write(tmp_path, doc), r"unsupported CycloneDX specVersion .* \(supported: 1\.4, 1\.5")


def test_not_cyclonedx(assets: Path, tmp_path: Path) -> None:
    fails(write(tmp_path, {"spdxVersion": "SPDX-2.3"}), "not a CycloneDX document")
    fails(write(tmp_path, [1, 2]), "the document must be a mapping, found list")
    xml = tmp_path / "bom.xml"
    xml.write_text('<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.6"/>')
    fails(xml, "CycloneDX XML is not supported")


def test_components_not_a_list(assets: Path, tmp_path: Path) -> None:
    doc = load(assets, "env-1.6.cdx.json")
    doc["components"] = {"name": "requests"}
    fails(write(tmp_path, doc), "components must be a list, found dict")


def test_component_missing_name(assets: Path, tmp_path: Path) -> None:
    doc = load(assets, "env-1.6.cdx.json")
    del doc["components"][3]["name"]
    fails(write(tmp_path, doc), r"components\[3\] has no name")


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        (lambda c: c.update(version=2), r"\(requests\)\.version must be a string, found int"),
        (lambda c: c.update(purl="pkg:"), r"\(requests\): invalid package URL 'pkg:'"),
        (lambda c: c.update(hashes=[{"alg": "SHA-256", "content": "xyz"}]), "not hexadecimal"),
        (lambda c: c.update(licenses={"license": {}}), "licenses must be a list"),
        (lambda c: c.update(licenses=[{"license": "MIT"}]), "license must be a mapping"),
        (lambda c: c.update(properties=[{"value": "x"}]), "properties name must be a string"),
        (lambda c: c.update(externalReferences=[{"type": "vcs"}]), "url must be a string"),
        (lambda c: c.update(components="none"), r"\.components must be a list"),
    ],
)
def test_wrong_types_inside_a_component(
    assets: Path, tmp_path: Path, change: Any, pattern: str
) -> None:
    doc = load(assets, "env-1.6.cdx.json")
    change(component(doc, "requests"))
    fails(write(tmp_path, doc), pattern)


def test_bad_dependencies(assets: Path, tmp_path: Path) -> None:
    doc = load(assets, "env-1.6.cdx.json")
    bad = copy.deepcopy(doc)
    bad["dependencies"] = {"ref": "x"}
    fails(write(tmp_path, bad), "dependencies must be a list")
    bad = copy.deepcopy(doc)
    bad["dependencies"][0]["dependsOn"] = "six==1.17.0"
    fails(write(tmp_path, bad), r"dependencies\[0\]\.dependsOn must be a list")
    bad = copy.deepcopy(doc)
    bad["components"][1]["bom-ref"] = bad["components"][0]["bom-ref"]
    fails(write(tmp_path, bad), "bom-ref 'PySocks==1.7.1' is used twice")


def test_invalid_json_names_the_line(assets: Path, tmp_path: Path) -> None:
    text = (assets / "cyclonedx" / "env-1.6.cdx.json").read_text()
    target = tmp_path / "truncated.cdx.json"
    target.write_text(text[: len(text) // 2])
    error = fails(target, "invalid JSON")
    assert error.line is not None
    assert error.line > 300
    assert str(error).startswith(f"{target}:{error.line}: ")


def test_latin1_bytes_empty_and_missing(tmp_path: Path) -> None:
    latin = tmp_path / "latin.cdx.json"
    latin.write_bytes(
        b'{\n"bomFormat": "CycloneDX",\n"metadata": {"component": {"name": "caf\xe9"}}}'
    )
    error = fails(latin, "not valid UTF-8")
    assert error.line == 3
    empty = tmp_path / "empty.cdx.json"
    empty.write_text("")
    fails(empty, "invalid JSON")
    fails(tmp_path / "missing.cdx.json", "no such file")


def _nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "library", "name": f"n{depth}", "purl": f"pkg:pypi/n{depth}@1"}
    for level in range(depth - 1, 0, -1):
        node = {"type": "library", "name": f"n{level}", "components": [node]}
    return node


def test_deeply_nested_components(assets: Path, tmp_path: Path) -> None:
    doc = load(assets, "env-1.6.cdx.json")
    doc["components"].append(_nested(12))
    env = READER.read(write(tmp_path, doc, "ok.cdx.json"))
    assert env.by_name("n12")
    doc = load(assets, "env-1.6.cdx.json")
    doc["components"].append(_nested(20))
    fails(write(tmp_path, doc, "deep.cdx.json"), "components nested more than 16 deep")
    doc["components"][-1] = _nested(40)
    fails(write(tmp_path, doc, "deeper.cdx.json"), "nested more than 64 levels deep")
