"""Every output format on the example project: golden files, validation, reproducibility."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest

from assay.environments.model import Environment, Package, Party, Source
from assay.sbom.check import check_document
from assay.sbom.context import SbomOptions
from assay.sbom.generate import FORMATS, generate
from tests.sbom.conftest import GOLDEN
from tests.sbom.support import assert_valid_cyclonedx, assert_valid_spdx2, load_spdx3

GOLDEN_NAMES = {
    "cyclonedx-json": "churn-model.cdx.json",
    "cyclonedx-xml": "churn-model.cdx.xml",
    "spdx-json": "churn-model.spdx.json",
    "spdx3-jsonld": "churn-model.spdx3.jsonld",
}
REPRODUCIBLE = SbomOptions(reproducible=True)


@pytest.mark.parametrize("format_name", FORMATS)
def test_golden(churn_env, format_name):
    text = generate(churn_env, format_name, REPRODUCIBLE)
    golden = GOLDEN / GOLDEN_NAMES[format_name]
    if os.environ.get("ASSAY_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("spec", ["1.5", "1.6", "1.7"])
@pytest.mark.parametrize("xml", [False, True])
def test_cyclonedx_validates_with_the_library_validator(churn_env, spec, xml):
    format_name = "cyclonedx-xml" if xml else "cyclonedx-json"
    text = generate(churn_env, format_name, SbomOptions(author="Jane Doe"), spec=spec)
    assert_valid_cyclonedx(text, spec, xml=xml)
    if not xml:
        assert json.loads(text)["specVersion"] == spec


def test_installed_env_validates_in_every_format(installed_env, tmp_path):
    for format_name in FORMATS:
        text = generate(installed_env, format_name, SbomOptions(author="Jane Doe"))
        if format_name.startswith("cyclonedx"):
            assert_valid_cyclonedx(text, xml=format_name.endswith("xml"))
        elif format_name == "spdx-json":
            path = tmp_path / "bom.spdx.json"
            path.write_text(text)
            assert_valid_spdx2(path)
        else:
            load_spdx3(text)


def test_spdx2_golden_parses_and_validates_with_spdx_tools():
    document = assert_valid_spdx2(GOLDEN / GOLDEN_NAMES["spdx-json"])
    assert len(document.packages) == 59
    assert document.creation_info.spdx_version == "SPDX-2.3"


def test_spdx3_golden_loads_through_the_bindings():
    objset = load_spdx3((GOLDEN / GOLDEN_NAMES["spdx3-jsonld"]).read_text())
    packages = list(objset.foreach_type("software_Package"))
    assert len(packages) == 59
    assert all(p.software_packageUrl.startswith("pkg:pypi/") for p in packages)


@pytest.mark.parametrize("format_name", FORMATS)
def test_reproducible_output_has_no_clock_and_is_stable(churn_env, format_name):
    first = generate(churn_env, format_name, REPRODUCIBLE)
    assert first == generate(churn_env, format_name, REPRODUCIBLE)
    assert str(datetime.now(UTC).year) not in first.split("created", 1)[-1][:40]


def test_serial_number_follows_content(churn_env):
    first = json.loads(generate(churn_env, "cyclonedx-json", REPRODUCIBLE))
    other = json.loads(generate(churn_env, "cyclonedx-json", SbomOptions(author="Jane Doe")))
    assert "timestamp" not in first["metadata"]
    assert first["serialNumber"] != other["serialNumber"]
    assert first["serialNumber"].startswith("urn:uuid:")


def test_cyclonedx_content(churn_env):
    options = SbomOptions(author="Jane Doe", timestamp=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    bom = json.loads(generate(churn_env, "cyclonedx-json", options))
    metadata = bom["metadata"]
    assert metadata["timestamp"].startswith("2026-01-02T03:04:05")
    assert metadata["authors"] == [{"name": "Jane Doe"}]
    assert metadata["lifecycles"] == [{"phase": "pre-build"}]
    assert metadata["tools"]["components"][0]["name"] == "assay"
    props = {p["name"]: p["value"] for p in metadata["properties"]}
    assert props["assay:source:digest"] == churn_env.source.digest
    assert props["assay:source:kind"] == "uv-lock"
    root = metadata["component"]
    assert (root["name"], root["type"]) == ("churn-model", "application")
    components = {c["name"]: c for c in bom["components"]}
    assert len(components) == 58  # 59 packages, the project itself is the root
    flask = components["flask"]
    assert flask["bom-ref"] == flask["purl"] == "pkg:pypi/flask@2.3.2"
    assert {h["alg"] for h in flask["hashes"]} == {"SHA-256"}
    assert {"name": "assay:hash:source", "value": "lock"} in flask["properties"]
    assert flask["externalReferences"][0]["type"] == "distribution"
    graph = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}
    assert "pkg:pypi/flask@2.3.2" in graph[root["bom-ref"]]
    assert set(graph) == {c["bom-ref"] for c in bom["components"]} | {root["bom-ref"]}


def test_installed_env_is_operations_phase_with_licenses_and_suppliers(installed_env):
    bom = json.loads(generate(installed_env, "cyclonedx-json", SbomOptions()))
    assert bom["metadata"]["lifecycles"] == [{"phase": "operations"}]
    components = {c["name"]: c for c in bom["components"]}
    assert components["editproj"]["licenses"] == [
        {"acknowledgement": "declared", "expression": "Apache-2.0 OR MIT"}
    ]
    assert components["requests"]["licenses"][0]["license"]["id"] == "Apache-2.0"
    assert components["requests"]["supplier"]["name"]
    git = components["Git_Pkg"]
    vcs = [r for r in git["externalReferences"] if r["type"] == "vcs"]
    assert vcs
    assert vcs[0]["url"].startswith("git+file://")
    assert "commit" in vcs[0]["comment"]
    assert {"name": "assay:hash:source", "value": "record"} in components["requests"]["properties"]


@pytest.mark.parametrize("format_name", ["cyclonedx-json", "spdx-json", "spdx3-jsonld"])
def test_every_package_is_in_the_graph(installed_env, format_name):
    text = generate(installed_env, format_name, SbomOptions(author="J"))
    report = check_document(json.loads(text))
    assert len(report.components) == len(installed_env.packages)
    assert report.coverage("dependencies") == 1.0
    assert report.coverage("identifier") == 1.0


@pytest.mark.parametrize("format_name", ["cyclonedx-json", "spdx-json", "spdx3-jsonld"])
def test_details_come_from_the_package(format_name):
    package = Package(
        "demo",
        "1.0",
        summary="A demo.",
        maintainers=(Party("Jane Doe", "jane@x.org"),),
        project_urls=(("Homepage", "https://demo.example.org/"),),
    )
    env = Environment(source=Source("pip-inspect", "x.json", "sha256:00"), packages=(package,))
    text = generate(env, format_name, REPRODUCIBLE)
    assert "A demo." in text
    assert "Jane Doe" in text
    assert "https://demo.example.org/" in text  # SPDX: the home page even without Home-page
    assert check_document(json.loads(text)).coverage("supplier") == 1.0
