"""SPDX reader: documents from sbom4python and spdx-tools' writer, cross-checked with the venv."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from assay.environments.model import Ecosystem, Hash, HashSource, OriginKind
from assay.environments.ports import ReaderError
from assay.environments.readers._files import digest
from assay.environments.readers.spdx import SpdxReader

READER = SpdxReader()


def load(assets: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((assets / "spdx" / name).read_text(encoding="utf-8"))
    return data


def write(tmp_path: Path, data: Any, name: str = "doc.spdx.json") -> Path:
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


def package(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in doc["packages"] if p["name"] == name)


def relate(left: str, kind: str, right: str) -> dict[str, str]:
    return {"spdxElementId": left, "relationshipType": kind, "relatedSpdxElement": right}


# --- spdx-tools document of the fixture venv -----------------------------------------------------


def test_environment_document_matches_pip_list(assets: Path) -> None:
    env = READER.read(assets / "spdx" / "env.spdx.json")
    pip_list = json.loads((assets / "cyclonedx" / "env-pip-list.json").read_text())
    local = {"editdep", "localdep"}  # written without a purl, like cyclonedx-py does
    assert {f"{p.canonical_name}=={p.version_raw}" for p in env.packages} == {
        f"{p['name'].lower()}=={p['version']}" for p in pip_list if p["name"] not in local
    }
    assert len(env.packages) == 13
    assert env.notes == (
        (
            "3 packages skipped: no pypi or conda package URL: demoapp 1.2.0, editdep 0.1.0.dev0, "
            "localdep 0.3.0"
        ),
    )


def test_environment_document_details(assets: Path) -> None:
    path = assets / "spdx" / "env.spdx.json"
    env = READER.read(path)
    assert env.source.kind == "spdx"
    assert env.source.digest == digest(path.read_bytes())
    assert env.name == "demoapp"
    assert ("sbom.format", "SPDX-2.3") in env.properties
    assert ("sbom.tool", "spdx-tools-0.8.5") in env.properties
    (requests,) = env.by_name("requests")
    assert requests.requested is True
    assert requests.dependencies == ("certifi", "charset-normalizer", "idna", "pysocks", "urllib3")
    assert requests.hashes == (
        Hash("sha256", "2a0d60c172f83ac6ab31e4554906c0f3b3588d37b5cb939b1c061f4907e278e0"),
    )
    assert requests.hash_source is HashSource.SBOM
    assert requests.origin.kind is OriginKind.INDEX
    assert requests.license is not None
    assert requests.license.spdx == "Apache-2.0"
    assert requests.license.origin == "sbom"
    (packaging,) = env.by_name("packaging")
    assert packaging.requested is False
    assert packaging.hashes == ()
    assert packaging.license is not None
    assert packaging.license.spdx == "Apache-2.0 OR BSD-2-Clause"
    (pysocks,) = env.by_name("pysocks")
    assert pysocks.license is None  # licenseConcluded and licenseDeclared are NOASSERTION
    (gitdep,) = env.by_name("gitdep")
    assert gitdep.requested is True
    assert gitdep.dependencies == ("packaging",)
    assert gitdep.origin.kind is OriginKind.VCS
    assert gitdep.origin.url == "https://git.example.org/fixtures/gitdep.git"
    assert gitdep.origin.commit == "081b03ed7d349934a10f7a035377e2fdc490373d"
    requested = {p.canonical_name for p in env.packages if p.requested}
    assert requested == {"attrs", "click", "gitdep", "requests"}


def test_checksums_agree_with_uv_export(assets: Path) -> None:
    """The fixture took each wheel's digest from uv export: the reader must return it unchanged."""
    uv = json.loads((assets / "cyclonedx" / "uv-export.cdx.json").read_text())
    wheel_hashes = {
        ref["hashes"][0]["content"]
        for comp in uv["components"]
        for ref in comp.get("externalReferences", [])
        if ref["url"].endswith("-none-any.whl")
    }
    env = READER.read(assets / "spdx" / "env.spdx.json")
    found = {h.value for p in env.packages for h in p.hashes}
    assert len(found) == 8
    assert found <= wheel_hashes


# --- sbom4python ---------------------------------------------------------------------------------


def test_sbom4python_module_document(assets: Path) -> None:
    env = READER.read(assets / "spdx" / "sbom4python-requests.spdx.json")
    assert env.name == "requests"
    assert env.notes == ()
    assert ("sbom.tool", "sbom4python-0.12.6") in env.properties
    assert [f"{p.name}=={p.version_raw}" for p in env.packages] == [
        "certifi==2026.10.19.post1",
        "charset-normalizer==3.5.3",
        "idna==3.20",
        "requests==2.34.2",
        "urllib3==2.8.0",
    ]
    assert all(p.requested is True for p in env.packages)  # the root and its direct deps
    (requests,) = env.by_name("requests")
    assert requests.dependencies == ("certifi", "charset-normalizer", "idna", "urllib3")
    (idna,) = env.by_name("idna")
    assert idna.license is None
    assert idna.dependencies == ()
    (certifi,) = env.by_name("certifi")
    assert certifi.summary == "Python package for providing Mozilla's CA Bundle."
    assert certifi.homepage == "https://github.com/certifi/python-certifi"


def test_sbom4python_requirements_document(assets: Path) -> None:
    env = READER.read(assets / "spdx" / "sbom4python-requirements.spdx.json")
    assert len(env.packages) == 5
    assert all(p.version_raw is None and p.requested is True for p in env.packages)
    assert env.notes == ("5 packages have no version: attrs, click, idna, packaging, six",)
    assert env.name == "Python-reqs/in.txt"  # several described packages: the document's name


# --- shapes the generators above do not write ----------------------------------------------------


def test_spdx_22_dependency_of_and_document_describes(assets: Path, tmp_path: Path) -> None:
    doc = load(assets, "env.spdx.json")
    doc["spdxVersion"] = "SPDX-2.2"
    doc["documentDescribes"] = ["SPDXRef-Package-demoapp"]
    doc["relationships"] = [
        relate("SPDXRef-Package-six", "DEPENDENCY_OF", "SPDXRef-Package-demoapp"),
        relate("SPDXRef-Package-pip", "RUNTIME_DEPENDENCY_OF", "SPDXRef-Package-six"),
        relate("SPDXRef-Package-demoapp", "CONTAINS", "SPDXRef-Package-attrs"),
    ]
    env = READER.read(write(tmp_path, doc))
    assert ("sbom.format", "SPDX-2.2") in env.properties
    (six,) = env.by_name("six")
    assert six.requested is True
    assert six.dependencies == ("pip",)
    (attrs,) = env.by_name("attrs")
    assert attrs.requested is False  # contained, not depended on
    assert env.name == "demoapp"


def test_without_dependencies_from_the_root_requested_is_unknown(
    assets: Path, tmp_path: Path
) -> None:
    doc = load(assets, "env.spdx.json")
    doc["relationships"] = [relate("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Package-demoapp")] + [
        relate("SPDXRef-Package-demoapp", "CONTAINS", p["SPDXID"]) for p in doc["packages"][1:]
    ]
    env = READER.read(write(tmp_path, doc))
    assert all(p.requested is None and p.dependencies == () for p in env.packages)
    del doc["relationships"]
    env = READER.read(write(tmp_path, doc, "bare.spdx.json"))
    assert all(p.requested is None for p in env.packages)
    assert env.name == "demoapp-environment"


def test_conda_npm_licenses_and_locations(assets: Path, tmp_path: Path) -> None:
    doc = load(assets, "env.spdx.json")
    doc["packages"].append(
        {
            "SPDXID": "SPDXRef-numpy",
            "name": "numpy",
            "versionInfo": "1.26.4",
            "downloadLocation": "https://conda.example/conda-forge/linux-64/numpy.conda",
            "licenseConcluded": "BSD-3-Clause",
            "licenseDeclared": "NOASSERTION",
            "checksums": [
                {"algorithm": "SHA256", "checksumValue": "AB" * 32},
                {"algorithm": "SHA1", "checksumValue": "cd" * 20},
                {"algorithm": "BLAKE2b-256", "checksumValue": "ef" * 32},
            ],
            "externalRefs": [
                {
                    "referenceCategory": "SECURITY",
                    "referenceType": "cpe23Type",
                    "referenceLocator": "cpe:2.3:a:numpy:numpy:1.26.4:*:*:*:*:*:*:*",
                },
                {
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": "pkg:conda/numpy@1.26.4?build=py311h64a7726_0"
                    "&channel=conda-forge&subdir=linux-64",
                },
            ],
        }
    )
    doc["packages"].append(
        {
            "SPDXID": "SPDXRef-left-pad",
            "name": "left-pad",
            "versionInfo": "1.3.0",
            "downloadLocation": "NOASSERTION",
            "externalRefs": [
                {
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": "pkg:npm/left-pad@1.3.0",
                }
            ],
        }
    )
    attrs = package(doc, "attrs")
    attrs["licenseConcluded"] = "NONE"
    attrs["licenseDeclared"] = "NONE"
    attrs["downloadLocation"] = "file:///srv/wheels/attrs"
    six = package(doc, "six")
    six["licenseConcluded"] = "Apache-2.0"  # the conclusion wins over the declaration (MIT)
    six["downloadLocation"] = "git+https://git.example.org/six.git@v1.17.0#subdirectory=src"
    env = READER.read(write(tmp_path, doc))
    (numpy,) = env.by_name("numpy")
    assert numpy.ecosystem is Ecosystem.CONDA
    assert (numpy.build, numpy.platform) == ("py311h64a7726_0", "linux-64")
    assert numpy.origin.kind is OriginKind.CHANNEL
    assert numpy.origin.url == "conda-forge"
    assert numpy.requested is False
    assert [str(h) for h in numpy.hashes] == [
        "blake2b-256:" + "ef" * 32,
        "sha1:" + "cd" * 20,
        "sha256:" + "ab" * 32,
    ]
    assert numpy.license is not None
    assert numpy.license.spdx == "BSD-3-Clause"
    assert not env.by_name("left-pad")
    assert "left-pad 1.3.0" in env.notes[-1]
    assert env.notes[-1].startswith("4 packages skipped")
    (attrs_pkg,) = env.by_name("attrs")
    assert attrs_pkg.license is None
    assert attrs_pkg.origin.kind is OriginKind.DIRECTORY
    assert attrs_pkg.origin.path == "/srv/wheels/attrs"
    (six_pkg,) = env.by_name("six")
    assert six_pkg.license is not None
    assert six_pkg.license.spdx == "Apache-2.0"
    assert six_pkg.origin.kind is OriginKind.VCS
    assert six_pkg.origin.requested_revision == "v1.17.0"
    assert six_pkg.origin.subdirectory == "src"


def test_dangling_relationships_are_noted(assets: Path, tmp_path: Path) -> None:
    doc = load(assets, "env.spdx.json")
    doc["relationships"].append(relate("SPDXRef-Package-six", "DEPENDS_ON", "SPDXRef-gone"))
    doc["relationships"].append(
        relate("SPDXRef-Package-six", "DEPENDS_ON", "DocumentRef-other:SPDXRef-x")
    )
    env = READER.read(write(tmp_path, doc))
    assert env.notes[-1] == "1 relationships name no package: SPDXRef-gone"


# --- sniffing ------------------------------------------------------------------------------------


def test_sniff(assets: Path, tmp_path: Path) -> None:
    for name in ("env.spdx.json", "sbom4python-requests.spdx.json"):
        assert READER.sniff(assets / "spdx" / name)
    plain = tmp_path / "sbom.json"
    plain.write_bytes((assets / "spdx" / "env.spdx.json").read_bytes())
    assert READER.sniff(plain)
    v3 = tmp_path / "sbom.jsonld"
    v3.write_text(json.dumps(SPDX3))
    assert READER.sniff(v3)
    assert not READER.sniff(assets / "cyclonedx" / "uv-export.cdx.json")
    assert not READER.sniff(assets / "cyclonedx" / "env-pip-list.json")
    assert not READER.sniff(assets / "spdx")
    assert not READER.sniff(tmp_path / "missing.spdx.json")
    tag = tmp_path / "doc.spdx"
    tag.write_text("SPDXVersion: SPDX-2.3\n")
    assert not READER.sniff(tag)


# --- bad input -----------------------------------------------------------------------------------

SPDX3 = {
    "@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld",
    "@graph": [
        {
            "type": "CreationInfo",
            "@id": "_:creationinfo",
            "createdBy": ["https://example.org/tool"],
            "specVersion": "3.0.1",
            "created": "2026-01-01T00:00:00Z",
        },
        {
            "type": "software_Package",
            "spdxId": "https://example.org/pkg/requests",
            "creationInfo": "_:creationinfo",
            "name": "requests",
            "software_packageVersion": "2.34.2",
            "software_packageUrl": "pkg:pypi/requests@2.34.2",
        },
    ],
}


def test_spdx3_json_ld_is_refused_clearly(tmp_path: Path) -> None:
    fails(write(tmp_path, SPDX3), "SPDX 3 JSON-LD is not supported")
    fails(write(tmp_path, {"spdxVersion": "SPDX-3.0"}, "v3.json"), "SPDX-3.0 is not supported")


@pytest.mark.parametrize("version", ["SPDX-2.1", "2.3", 23])
def test_unknown_spdx_version(assets: Path, tmp_path: Path, version: Any) -> None:
    doc = load(assets, "env.spdx.json")
    doc["spdxVersion"] = version
    pattern = "spdxVersion must be a string" if version == 23 else "unsupported spdxVersion"
    fails(write(tmp_path, doc), pattern)


def test_not_spdx(tmp_path: Path) -> None:
    fails(write(tmp_path, {"bomFormat": "CycloneDX"}), "not an SPDX JSON document")
    fails(write(tmp_path, ["SPDX-2.3"]), "the document must be a mapping")


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        (lambda d: d.update(packages={}), "packages must be a list, found dict"),
        (
            lambda d: d["packages"][2].pop("name"),
            r"packages\[2\] \(SPDXRef-Package-certifi\) has no name",
        ),
        (lambda d: d["packages"][2].pop("SPDXID"), r"packages\[2\]\.SPDXID must be a string"),
        (
            lambda d: d["packages"][2].update(versionInfo=1),
            r"\(certifi\)\.versionInfo must be a string",
        ),
        (
            lambda d: d["packages"][2].update(externalRefs="pkg:pypi/x"),
            "externalRefs must be a list",
        ),
        (
            lambda d: d["packages"][2]["externalRefs"][0].update(referenceLocator="pkg:"),
            r"\(certifi\): invalid package URL",
        ),
        (
            lambda d: d["packages"][2]["checksums"][0].update(checksumValue="zz"),
            "SHA256 digest is not hexadecimal",
        ),
        (lambda d: d["packages"][3].update(SPDXID="SPDXRef-Package-certifi"), "used twice"),
        (
            lambda d: d.update(relationships=[{"spdxElementId": 1}]),
            "spdxElementId must be a string",
        ),
        (lambda d: d.update(creationInfo=[]), "creationInfo must be a mapping"),
    ],
)
def test_malformed_documents(assets: Path, tmp_path: Path, change: Any, pattern: str) -> None:
    doc = copy.deepcopy(load(assets, "env.spdx.json"))
    change(doc)
    fails(write(tmp_path, doc), pattern)


def test_invalid_json_names_the_line(assets: Path, tmp_path: Path) -> None:
    text = (assets / "spdx" / "env.spdx.json").read_text()
    target = tmp_path / "cut.spdx.json"
    target.write_text(text[: len(text) // 3])
    error = fails(target, "invalid JSON")
    assert error.line is not None
    assert str(error).startswith(f"{target}:{error.line}: ")


def test_latin1_empty_missing_and_deep(tmp_path: Path) -> None:
    latin = tmp_path / "latin.spdx.json"
    latin.write_bytes(b'{\n"spdxVersion": "SPDX-2.3",\n\n"name": "caf\xe9"}')
    assert fails(latin, "not valid UTF-8").line == 4
    empty = tmp_path / "empty.spdx.json"
    empty.write_bytes(b"")
    fails(empty, "invalid JSON")
    fails(tmp_path / "missing.spdx.json", "no such file")
    deep: Any = "x"
    for _ in range(80):
        deep = {"a": deep}
    fails(write(tmp_path, {"spdxVersion": "SPDX-2.3", "x": deep}), "nested more than 64 levels")
