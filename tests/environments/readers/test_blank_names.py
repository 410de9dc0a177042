"""A blank package name is malformed input (exit 3), never an internal error."""

import json

import pytest

from assay.cli.app import run


@pytest.mark.parametrize("name", ["", "  "])
def test_blank_names_are_reported_with_the_file(tmp_path, capsys, name):
    cdx = tmp_path / "x.cdx.json"
    cdx.write_text(
        json.dumps(
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.6",
                "version": 1,
                "components": [
                    {"type": "library", "name": name, "version": "1.0", "purl": "pkg:pypi/a@1.0"}
                ],
            }
        )
    )
    spdx = tmp_path / "x.spdx.json"
    spdx.write_text(
        json.dumps(
            {
                "spdxVersion": "SPDX-2.3",
                "SPDXID": "SPDXRef-DOCUMENT",
                "name": "doc",
                "packages": [
                    {
                        "SPDXID": "SPDXRef-a",
                        "name": name,
                        "versionInfo": "1.0",
                        "downloadLocation": "NOASSERTION",
                        "externalRefs": [
                            {
                                "referenceCategory": "PACKAGE-MANAGER",
                                "referenceType": "purl",
                                "referenceLocator": "pkg:pypi/a@1.0",
                            }
                        ],
                    }
                ],
            }
        )
    )
    conda = tmp_path / "conda-lock.yml"
    conda.write_text(
        "version: 1\nmetadata:\n  platforms: [linux-64]\n  channels: []\n  sources: []\n"
        "  content_hash: {linux-64: x}\npackage:\n"
        f"- name: '{name}'\n  version: '1.0'\n  manager: conda\n  platform: linux-64\n"
        "  dependencies: {}\n  url: https://conda.example/a-1.0-0.conda\n"
        "  hash: {md5: 0123456789abcdef0123456789abcdef}\n"
    )
    for path in (cdx, spdx, conda):
        assert run(["env", "show", str(path)]) == 3, path
        err = capsys.readouterr().err
        assert err.startswith(f"assay: error: {path}")
        assert err.count("\n") == 1
