"""SBOMs written by assay read back through assay's own SBOM readers to the same packages."""

from __future__ import annotations

import pytest

from assay.environments.readers import read_environment
from assay.sbom.context import SbomOptions
from assay.sbom.details import homepage_of
from assay.sbom.generate import generate

READERS = {"cyclonedx-json": ("bom.cdx.json", "cyclonedx"), "spdx-json": ("bom.spdx.json", "spdx")}


def _index(env):
    return {(p.canonical_name, p.version_raw): p for p in env.packages}


@pytest.mark.parametrize("format_name", sorted(READERS))
@pytest.mark.parametrize("source", ["churn_env", "installed_env"])
def test_round_trip_keeps_packages_hashes_and_licenses(request, tmp_path, format_name, source):
    env = request.getfixturevalue(source)
    name, reader = READERS[format_name]
    path = tmp_path / name
    path.write_text(generate(env, format_name, SbomOptions()))
    back = read_environment(path, reader)
    before, after = _index(env), _index(back)
    assert set(after) == set(before)
    for key, package in before.items():
        assert after[key].hashes == package.hashes, key
        if package.license is not None and package.license.spdx:
            assert after[key].license is not None
            assert after[key].license.spdx == package.license.spdx
        assert after[key].dependencies == package.dependencies, key
    assert not [n for n in back.notes if "no package URL" in n or "skipped" in n]


def test_round_trip_keeps_the_vcs_origin(installed_env, tmp_path):
    path = tmp_path / "bom.cdx.json"
    path.write_text(generate(installed_env, "cyclonedx-json", SbomOptions()))
    back = read_environment(path)
    original = next(p for p in installed_env.packages if p.canonical_name == "git-pkg")
    again = next(p for p in back.packages if p.canonical_name == "git-pkg")
    assert (again.origin.kind, again.origin.commit) == (
        original.origin.kind,
        original.origin.commit,
    )


@pytest.mark.parametrize("format_name", sorted(READERS))
def test_round_trip_keeps_summaries_and_home_pages(installed_env, tmp_path, format_name):
    name, reader = READERS[format_name]
    path = tmp_path / name
    path.write_text(generate(installed_env, format_name, SbomOptions()))
    after = _index(read_environment(path, reader))
    for key, package in _index(installed_env).items():
        assert after[key].summary == package.summary, key
        assert after[key].homepage == homepage_of(package), key
        if format_name == "cyclonedx-json":  # SPDX 2.3 has a supplier, no authors
            assert after[key].authors == package.authors, key
    assert after[("requests", "2.34.2")].summary == "Python HTTP for Humans."
