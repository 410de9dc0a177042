import json

import pytest

from assay.advisories.osv import OsvRecordError, parse_record


def record(**overrides):
    base = {
        "id": "PYSEC-0000-1",
        "modified": "2026-01-01T00:00:00Z",
        "aliases": ["CVE-0000-1", "PYSEC-0000-1"],
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "Demo_Pkg"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": 0}, {"fixed": "1.0"}]}],
                "versions": ["0.5"],
            },
            {"package": {"ecosystem": "npm", "name": "demo"}, "versions": ["1.0.0"]},
        ],
        "database_specific": {"severity": "HIGH"},
    }
    base.update(overrides)
    return base


def test_keeps_pypi_entries_and_normalises():
    advisory = parse_record(record())
    assert [a.name for a in advisory.affected] == ["demo-pkg"]
    assert advisory.aliases == ("CVE-0000-1",)  # its own id is not an alias
    assert advisory.ids == ("PYSEC-0000-1", "CVE-0000-1")
    assert advisory.affected[0].ranges[0].events[0].version == "0"  # YAML integer 0
    assert advisory.database_severity == "HIGH"
    assert json.loads(advisory.document)["id"] == "PYSEC-0000-1"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": None}, "missing 'id'"),
        ({"modified": 5}, "'modified' must be a string"),
        ({"affected": {}}, "'affected' must be a list"),
        ({"aliases": [1]}, "'aliases' must be a list of strings"),
        (
            {"affected": [{"package": {"ecosystem": "PyPI", "name": "x"}, "versions": [1.10]}]},
            "unquoted number 1.1",
        ),
        (
            {
                "affected": [
                    {
                        "package": {"ecosystem": "PyPI", "name": "x"},
                        "ranges": [
                            {"type": "ECOSYSTEM", "events": [{"fixed": "1", "introduced": "0"}]}
                        ],
                    }
                ]
            },
            "exactly one of",
        ),
    ],
)
def test_malformed_records(change, message):
    with pytest.raises(OsvRecordError, match=message):
        parse_record(record(**change))


def test_not_an_object():
    with pytest.raises(OsvRecordError, match="must be an object"):
        parse_record(["x"])
