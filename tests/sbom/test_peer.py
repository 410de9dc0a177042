"""Peer cross-check: assay and cyclonedx-py on the same installed environment (the .venv)."""

from __future__ import annotations

import json
import subprocess

import pytest
from packaging.utils import canonicalize_name

from assay.cli.app import run
from assay.environments.readers import read_environment
from assay.sbom.check import check_document
from assay.sbom.details import supplier_of
from tests.support import REPO

VENV = REPO / ".venv"
CYCLONEDX_PY = VENV / "bin" / "cyclonedx-py"

pytestmark = pytest.mark.slow


def _components(bom):
    root = bom["metadata"].get("component")
    return [*([root] if root else []), *bom["components"]]


@pytest.fixture(scope="module")
def boms(tmp_path_factory):
    if not CYCLONEDX_PY.exists():
        pytest.fail(f"cyclonedx-py is missing at {CYCLONEDX_PY} (dev dependency cyclonedx-bom)")
    out = tmp_path_factory.mktemp("peer")
    peer = out / "peer.cdx.json"
    subprocess.run(
        [
            str(CYCLONEDX_PY),
            "environment",
            "--no-validate",
            "-o",
            str(peer),
            str(VENV / "bin" / "python"),
        ],
        check=True,
        capture_output=True,
    )
    ours = out / "assay.cdx.json"
    assert run(["sbom", str(VENV), "-o", str(ours), "--author", "assay tests"]) == 0
    return json.loads(peer.read_text()), json.loads(ours.read_text()), peer, ours


def test_same_components_as_cyclonedx_py(boms):
    peer, ours, _, _ = boms
    key = lambda c: (canonicalize_name(c["name"]), c.get("version"))  # noqa: E731
    theirs = {key(c) for c in _components(peer)}
    mine = {key(c) for c in _components(ours)}
    assert mine == theirs
    assert len(mine) > 50


def test_assay_adds_hashes_licenses_and_suppliers(boms):
    peer, ours, _, _ = boms

    def count(bom, field):
        return sum(1 for c in _components(bom) if c.get(field))

    total = len(_components(ours))
    assert count(ours, "hashes") == total > count(peer, "hashes")
    assert count(ours, "licenses") >= count(peer, "licenses")
    # a supplier for every package whose metadata names one (author, maintainer, forge URL)
    known = sum(1 for p in read_environment(VENV).packages if supplier_of(p))
    assert count(ours, "supplier") == known > count(peer, "supplier")
    assert known >= 0.95 * total
    missing_license = {c["name"].lower() for c in _components(peer) if not c.get("licenses")}
    ours_by_name = {c["name"].lower(): c for c in _components(ours)}
    assert all(ours_by_name[n].get("licenses") for n in missing_license if n in ours_by_name)


def test_check_scores_assay_complete_and_names_what_cyclonedx_py_misses(boms, capsys):
    peer, ours, peer_path, ours_path = boms
    without_supplier = {
        canonicalize_name(p.name) for p in read_environment(VENV).packages if not supplier_of(p)
    }
    ours_report = check_document(ours)
    assert ours_report.score("ntia") >= 99.0
    assert {
        canonicalize_name(c.name) for c in ours_report.components if c.missing(("supplier",))
    } == without_supplier
    report = check_document(peer)
    assert "supplier" in report.missing("ntia")
    assert "hash" in report.missing("cisa-2025")
    assert run(["sbom", "check", str(ours_path)]) == (1 if without_supplier else 0)
    assert run(["sbom", "check", str(peer_path)]) == 1
    assert "missing: supplier" in capsys.readouterr().out
