"""The SQLite advisory database: opening, refusing foreign files, lookups, the write rule."""

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from assay.advisories.model import Advisory
from assay.advisories.osv import OsvRecordError, parse_record
from assay.advisories.ports import AdvisoryError, AdvisorySource
from assay.advisories.store import (
    AdvisoryDatabase,
    ImportCounts,
    Outcome,
    Problem,
    normalise_timestamp,
    record_digest,
)
from tests.support import ADVISORY_ASSETS, PYPA_RECORDS


def _record(name: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((ADVISORY_ASSETS / "osv" / name).read_text())
    return record


def _get(database: AdvisoryDatabase, advisory_id: str) -> Advisory:
    advisory = database.get(advisory_id)
    assert advisory is not None, advisory_id
    return advisory


def _put(
    database: AdvisoryDatabase, *records: dict[str, Any], source: str = "test"
) -> list[Outcome]:
    with database.importing() as tx:
        return [tx.put(parse_record(r), source, f"{r['id']}.json") for r in records]


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[AdvisoryDatabase]:
    database = AdvisoryDatabase.open_for_write(tmp_path / "deep" / "dir" / "db.sqlite3")
    yield database
    database.close()


def test_is_an_advisory_source(empty):
    assert isinstance(empty, AdvisorySource)


def test_open_for_write_creates_the_file_and_its_directory(empty, tmp_path):
    assert (tmp_path / "deep" / "dir" / "db.sqlite3").is_file()
    status = empty.status()
    assert (status.records, status.packages, status.newest_modified) == (0, 0, None)
    assert status.sources == ()
    # sha256 of nothing: the digest of an empty database is well defined
    assert status.digest == (
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_missing_database_says_how_to_build_it(tmp_path):
    with pytest.raises(AdvisoryError) as caught:
        AdvisoryDatabase(tmp_path / "nope.sqlite3")
    assert caught.value.exit_code == 4
    assert "no advisory database at" in caught.value.message
    assert "assay db import <path>" in caught.value.message
    assert "\n" not in caught.value.message
    assert not (tmp_path / "nope.sqlite3").exists()


def test_empty_file_is_a_missing_database(tmp_path):
    (tmp_path / "db").write_bytes(b"")
    with pytest.raises(AdvisoryError, match="no advisory database"):
        AdvisoryDatabase(tmp_path / "db")


@pytest.mark.parametrize("opener", [AdvisoryDatabase, AdvisoryDatabase.open_for_write])
def test_corrupt_file_is_refused_and_left_alone(tmp_path, opener):
    path = tmp_path / "db.sqlite3"
    garbage = os.urandom(8192)
    path.write_bytes(garbage)
    with pytest.raises(AdvisoryError) as caught:
        opener(path)
    assert caught.value.exit_code == 4
    assert "not a usable assay advisory database" in caught.value.message
    assert "assay db import <path>" in caught.value.message
    assert path.read_bytes() == garbage


@pytest.mark.parametrize("opener", [AdvisoryDatabase, AdvisoryDatabase.open_for_write])
def test_another_applications_sqlite_file_is_refused(tmp_path, opener):
    path = tmp_path / "other.sqlite3"
    with closing(sqlite3.connect(path)) as other:
        other.execute("CREATE TABLE notes (text TEXT)")
        other.commit()
    with pytest.raises(AdvisoryError, match="SQLite file of another application"):
        opener(path)


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "db.sqlite3"
    AdvisoryDatabase.open_for_write(path).close()
    with closing(sqlite3.connect(path)) as raw:
        raw.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
        raw.commit()
    with pytest.raises(AdvisoryError, match="schema version 99"):
        AdvisoryDatabase(path)


def _open_and_count(path: Path) -> int:
    with AdvisoryDatabase(path) as database:
        return database.status().records


def test_truncated_database_fails_with_one_line(shared_advisory_db, tmp_path):
    path = tmp_path / "truncated.sqlite3"
    path.write_bytes(shared_advisory_db.read_bytes()[: 64 * 1024])
    with pytest.raises(AdvisoryError, match="not a usable assay advisory database"):
        _open_and_count(path)


def test_put_follows_the_incremental_rule(empty):
    record = _record("PYSEC-2014-13.json")
    assert _put(empty, record) == [Outcome.ADDED]
    assert _put(empty, record) == [Outcome.UNCHANGED]
    newer = {**record, "modified": "2030-01-01T00:00:00Z", "summary": "newer"}
    assert _put(empty, newer) == [Outcome.UPDATED]
    assert _put(empty, record) == [Outcome.OLDER]  # older modified: the newer one is kept
    assert empty.get("PYSEC-2014-13").summary == "newer"
    same_time = {**newer, "summary": "same time, other content"}
    assert _put(empty, same_time) == [Outcome.UPDATED]  # equal modified, new digest: replaced
    assert empty.get("PYSEC-2014-13").summary == "same time, other content"


def test_modified_is_compared_as_a_time_not_as_text(empty):
    record = _record("PYSEC-2014-13.json")
    _put(empty, {**record, "modified": "2021-07-05T00:01:25Z"})
    # lexically "25.5Z" < "25Z", but it is half a second later
    assert _put(empty, {**record, "modified": "2021-07-05T00:01:25.5Z", "summary": "x"}) == [
        Outcome.UPDATED
    ]
    assert _put(empty, {**record, "modified": "2021-07-05T02:01:25+02:00"}) == [Outcome.OLDER]


def test_invalid_modified_is_a_record_error(empty):
    with pytest.raises(OsvRecordError, match="not an RFC 3339 time"):
        _put(empty, {**_record("PYSEC-2014-13.json"), "modified": "yesterday"})
    assert normalise_timestamp("2024-01-31T12:00:00Z") == "2024-01-31T12:00:00.000000Z"


def test_query_get_and_aliases(empty):
    _put(empty, *(_record(p.name) for p in sorted((ADVISORY_ASSETS / "osv").iterdir())))
    assert [a.id for a in empty.query("requests")] == ["PYSEC-2014-13", "PYSEC-2023-74"]
    assert [a.id for a in empty.query("Requests")] == ["PYSEC-2014-13", "PYSEC-2023-74"]
    assert empty.query("numpy") == ()
    assert empty.get("CVE-2014-1829").id == "PYSEC-2014-13"
    assert empty.get("GHSA-cfj3-7x9c-4p3h").id == "PYSEC-2014-13"
    assert empty.get("PYSEC-2024-60").aliases == ("CVE-2024-3651", "GHSA-jjg7-2v4v-x38h")
    assert empty.get("CVE-0000-0000") is None
    # withdrawn: never returned by query, still available by id
    assert empty.query("py") == ()
    assert empty.get("PYSEC-2022-42969").withdrawn == "2026-06-09T10:43:00Z"


def test_document_is_the_original_record(empty):
    record = _record("PYSEC-2024-60.json")
    _put(empty, record)
    assert json.loads(empty.get("PYSEC-2024-60").document) == record


def test_get_prefers_the_record_with_that_id_over_an_alias(empty):
    first = {**_record("PYSEC-2014-13.json"), "id": "GHSA-cfj3-7x9c-4p3h", "aliases": []}
    _put(empty, first, _record("PYSEC-2014-13.json"))
    assert empty.get("GHSA-cfj3-7x9c-4p3h").id == "GHSA-cfj3-7x9c-4p3h"
    assert [a.id for a in empty.find("GHSA-cfj3-7x9c-4p3h")] == [
        "GHSA-cfj3-7x9c-4p3h",
        "PYSEC-2014-13",
    ]


def test_an_update_replaces_names_and_aliases(empty):
    record = _record("PYSEC-2014-13.json")
    _put(empty, record)
    moved = {
        **record,
        "modified": "2030-01-01T00:00:00Z",
        "aliases": ["CVE-2099-0001"],
        "affected": [{**record["affected"][0], "package": {"ecosystem": "PyPI", "name": "Req_X"}}],
    }
    _put(empty, moved)
    assert empty.query("requests") == ()
    assert [a.id for a in empty.query("req-x")] == ["PYSEC-2014-13"]
    assert empty.get("CVE-2014-1829") is None
    assert empty.get("CVE-2099-0001").id == "PYSEC-2014-13"


def test_a_failed_import_leaves_the_database_as_it_was(empty):
    _put(empty, _record("PYSEC-2014-13.json"))
    before = empty.status()

    def failing_import() -> None:
        with empty.importing() as tx:
            tx.put(parse_record(_record("PYSEC-2023-74.json")), "test", "x")
            tx.problem(Problem("test", "x", "y"))
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        failing_import()
    assert empty.status() == before
    assert empty.problems() == ()
    assert [a.id for a in empty.query("requests")] == ["PYSEC-2014-13"]


def test_digest_depends_on_content_not_on_import_order(tmp_path):
    records = [_record(p.name) for p in sorted((ADVISORY_ASSETS / "osv").iterdir())]
    with AdvisoryDatabase.open_for_write(tmp_path / "a") as a:
        _put(a, *records)
        forward = a.digest()
    with AdvisoryDatabase.open_for_write(tmp_path / "b") as b:
        _put(b, *reversed(records))
        assert b.digest() == forward
        _put(b, {**records[0], "modified": "2030-01-01T00:00:00Z"})
        assert b.digest() != forward


def test_record_digest_is_sha256_of_the_canonical_json():
    advisory = parse_record(_record("PYSEC-2014-13.json"))
    assert record_digest(advisory).startswith("sha256:")
    assert record_digest(advisory) == record_digest(parse_record(_record("PYSEC-2014-13.json")))


def test_sources_and_problems_are_recorded(empty):
    with empty.importing() as tx:
        tx.put(parse_record(_record("PYSEC-2014-13.json")), "src", "a.json")
        tx.problem(Problem("src", "b.json:3", "invalid JSON"))
        tx.record_source("src", "osv-directory", ImportCounts(added=1, skipped=1))
    (info,) = empty.sources()
    assert (info.source, info.kind, info.counts.records, info.counts.skipped) == (
        "src",
        "osv-directory",
        1,
        1,
    )
    assert empty.problems() == (Problem("src", "b.json:3", "invalid JSON"),)
    with empty.importing() as tx:
        tx.clear_problems("src")
    assert empty.problems() == ()


def test_a_reader_sees_another_connections_import(tmp_path):
    path = tmp_path / "db"
    with AdvisoryDatabase.open_for_write(path) as writer, AdvisoryDatabase(path) as reader:
        _put(writer, _record("PYSEC-2014-13.json"))
        assert _get(reader, "PYSEC-2014-13").summary is None
        changed = {**_record("PYSEC-2014-13.json"), "summary": "changed"}
        _put(writer, {**changed, "modified": "2030-01-01T00:00:00Z"})
        assert _get(reader, "PYSEC-2014-13").summary == "changed"  # the cache follows the digest


def test_shared_database_lookups(shared_advisory_db, pypa_database):
    with AdvisoryDatabase(shared_advisory_db) as database:
        status = database.status()
        assert status.records == PYPA_RECORDS
        expected = set()
        for path in (pypa_database / "vulns" / "requests").glob("*.yaml"):
            if "\nwithdrawn:" not in path.read_text():
                expected.add(path.stem)
        assert {a.id for a in database.query("requests")} == expected
        assert "PYSEC-2014-13" in expected
        assert _get(database, "CVE-2014-1829").id == "PYSEC-2014-13"
        assert _get(database, "PYSEC-2022-42969").withdrawn is not None


def test_database_path_is_a_path(empty):
    assert isinstance(empty.path, Path)
