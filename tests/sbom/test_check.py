"""NTIA and CISA 2025 minimum elements on hand-written documents of each format."""

from __future__ import annotations

from typing import Any

import pytest

from assay.sbom.check import UnsupportedDocumentError, check_document


def _cdx(**overrides):
    component = {
        "bom-ref": "pkg:pypi/flask@2.3.2",
        "type": "library",
        "name": "flask",
        "version": "2.3.2",
        "purl": "pkg:pypi/flask@2.3.2",
        "supplier": {"name": "Pallets"},
        "hashes": [{"alg": "SHA-256", "content": "ab" * 32}],
        "licenses": [{"license": {"id": "BSD-3-Clause"}}],
    }
    component.update(overrides)
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "metadata": {
            "timestamp": "2026-01-02T03:04:05Z",
            "authors": [{"name": "Jane"}],
            "tools": {"components": [{"type": "application", "name": "assay"}]},
            "lifecycles": [{"phase": "operations"}],
        },
        "components": [component],
        "dependencies": [{"ref": "pkg:pypi/flask@2.3.2"}],
    }


def test_complete_cyclonedx_scores_100():
    report = check_document(_cdx())
    assert report.score("ntia") == report.score("cisa-2025") == 100.0
    assert report.complete("ntia")
    assert report.complete("cisa-2025")


def test_missing_supplier_is_reported_per_component():
    data = _cdx(supplier=None)
    data["components"].append({"bom-ref": "b", "name": "b", "version": "1", "purl": "pkg:pypi/b@1"})
    report = check_document(data)
    assert report.missing("ntia") == ("supplier", "dependencies")
    assert [c.name for c in report.components if c.missing(["supplier"])] == ["flask", "b"]
    assert report.coverage("dependencies") == 0.5
    # NTIA: supplier 0, dependencies 0.5, five others 1 -> 5.5 / 7
    assert report.score("ntia") == pytest.approx(78.6)


def test_authors_or_manufacturer_count_as_supplier():
    report = check_document(_cdx(supplier=None, authors=[{"name": "Armin"}]))
    assert "supplier" not in report.missing("ntia")


@pytest.mark.parametrize(
    ("change", "element"),
    [
        (lambda d: d["metadata"].pop("timestamp"), "timestamp"),
        (lambda d: d["metadata"].update(timestamp="1970-01-01T00:00:00Z"), "timestamp"),
        (lambda d: d["metadata"].pop("authors"), "author"),
        (lambda d: d["metadata"].pop("tools"), "tool"),
        (lambda d: d["metadata"].pop("lifecycles"), "generation-context"),
        (lambda d: d["components"][0].pop("hashes"), "hash"),
        (lambda d: d["components"][0].pop("licenses"), "license"),
        (lambda d: d["components"][0].pop("purl"), "identifier"),
        (lambda d: d["components"][0].pop("version"), "version"),
        (lambda d: d.pop("dependencies"), "dependencies"),
    ],
)
def test_each_missing_element_is_found(change, element):
    data = _cdx()
    change(data)
    assert element in check_document(data).missing("cisa-2025")


def test_nested_components_and_root_are_checked():
    data = _cdx()
    data["metadata"]["component"] = {"bom-ref": "root", "name": "app", "type": "application"}
    data["components"][0]["components"] = [{"name": "inner", "version": "1"}]
    report = check_document(data)
    assert [c.name for c in report.components] == ["app", "flask", "inner"]


def _spdx2(**overrides):
    package = {
        "SPDXID": "SPDXRef-flask",
        "name": "flask",
        "versionInfo": "2.3.2",
        "supplier": "Organization: Pallets",
        "downloadLocation": "NOASSERTION",
        "checksums": [{"algorithm": "SHA256", "checksumValue": "ab" * 32}],
        "licenseDeclared": "BSD-3-Clause",
        "externalRefs": [
            {
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": "pkg:pypi/flask@2.3.2",
            }
        ],
    }
    package.update(overrides)
    return {
        "spdxVersion": "SPDX-2.3",
        "SPDXID": "SPDXRef-DOCUMENT",
        "creationInfo": {
            "created": "2026-01-02T03:04:05Z",
            "creators": ["Person: Jane", "Tool: assay-0.1.0"],
        },
        "packages": [package],
        "relationships": [
            {
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relationshipType": "DESCRIBES",
                "relatedSpdxElement": "SPDXRef-flask",
            }
        ],
    }


def test_spdx2_complete_for_ntia_but_has_no_generation_context():
    report = check_document(_spdx2())
    assert report.complete("ntia")
    assert report.missing("cisa-2025") == ("generation-context",)


def test_spdx2_noassertion_is_missing():
    report = check_document(_spdx2(supplier="NOASSERTION", licenseDeclared="NOASSERTION"))
    assert set(report.missing("cisa-2025")) >= {"supplier", "license"}
    tools_only = _spdx2()
    tools_only["creationInfo"]["creators"] = ["Tool: x"]
    assert "author" in check_document(tools_only).missing("ntia")


def test_spdx3_document():
    graph: list[dict[str, Any]] = [
        {"type": "CreationInfo", "@id": "_:c", "created": "2026-01-02T03:04:05Z",
         "createdBy": ["urn:x#jane"], "createdUsing": ["urn:x#tool"]},
        {"type": "Person", "spdxId": "urn:x#jane", "name": "Jane"},
        {"type": "Tool", "spdxId": "urn:x#tool", "name": "assay"},
        {"type": "Organization", "spdxId": "urn:x#pallets", "name": "Pallets"},
        {"type": "software_Package", "spdxId": "urn:x#flask", "name": "flask",
         "software_packageVersion": "2.3.2", "software_packageUrl": "pkg:pypi/flask@2.3.2",
         "suppliedBy": "urn:x#pallets",
         "verifiedUsing": [{"type": "Hash", "algorithm": "sha256", "hashValue": "ab" * 32}]},
        {"type": "simplelicensing_LicenseExpression", "spdxId": "urn:x#lic",
         "simplelicensing_licenseExpression": "BSD-3-Clause"},
        {"type": "Relationship", "spdxId": "urn:x#r1", "from": "urn:x#flask",
         "relationshipType": "hasDeclaredLicense", "to": ["urn:x#lic"]},
        {"type": "software_Sbom", "spdxId": "urn:x#sbom", "rootElement": ["urn:x#flask"],
         "software_sbomType": ["deployed"]},
    ]  # fmt: skip
    report = check_document(
        {"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": graph}
    )
    assert report.complete("ntia")
    assert report.complete("cisa-2025")
    graph[4].pop("suppliedBy")
    assert check_document({"@context": "spdx", "@graph": graph}).missing("ntia") == ("supplier",)


@pytest.mark.parametrize("data", [[], {"hello": 1}, {"bomFormat": "SWID"}])
def test_unsupported_documents(data):
    with pytest.raises(UnsupportedDocumentError):
        check_document(data)


def test_malformed_fields_do_not_crash():
    data = _cdx()
    data["components"].append("not a component")
    data["metadata"]["tools"] = "assay"
    data["dependencies"] = [{"ref": 3, "dependsOn": "x"}]
    report = check_document(data)
    assert len(report.components) == 2
    assert "tool" in report.missing("cisa-2025")


def test_malformed_spdx_does_not_crash():
    graph = [
        {"type": "software_Package", "spdxId": ["x"], "suppliedBy": {"a": 1}},
        {"type": "CreationInfo", "createdBy": [["x"]], "createdUsing": "x"},
        "junk",
        {"type": "Relationship", "from": ["x"], "relationshipType": "dependsOn", "to": "y"},
    ]
    report = check_document({"@context": "spdx", "@graph": graph})
    assert len(report.components) == 1
    spdx2 = {"spdxVersion": "SPDX-2.3", "packages": ["x", {"supplier": 3}], "relationships": [1]}
    assert len(check_document(spdx2).components) == 2
