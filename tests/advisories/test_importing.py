"""Importing OSV sources: PyPA checkouts, JSON directories, all.zip archives, single files."""

import io
import json
import shutil
import zipfile

import pytest

from assay.advisories.importing import (
    SourceError,
    ZipLimits,
    detect,
    import_source,
    import_sources,
    source_label,
)
from assay.advisories.store import AdvisoryDatabase
from tests.support import ADVISORY_ASSETS, PYPA_RECORDS, copy_database

OSV = ADVISORY_ASSETS / "osv"
MALFORMED = ADVISORY_ASSETS / "malformed"


@pytest.fixture
def database(tmp_path):
    database = AdvisoryDatabase.open_for_write(tmp_path / "db.sqlite3")
    yield database
    database.close()


@pytest.fixture
def shared_copy(shared_advisory_db, tmp_path):
    database = AdvisoryDatabase.open_for_write(copy_database(shared_advisory_db, tmp_path))
    yield database
    database.close()


def build_zip(path, members, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return path


def osv_members():
    return [(p.name, p.read_bytes()) for p in sorted(OSV.glob("*.json"))]


def test_detect_kinds(pypa_database, tmp_path):
    assert detect(pypa_database) == "pypa-advisory-database"
    assert detect(OSV) == "osv-directory"
    assert detect(OSV / "PYSEC-2014-13.json") == "osv-record"
    assert detect(build_zip(tmp_path / "all.zip", osv_members())) == "osv-archive"
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(SourceError, match="not an OSV source"):
        detect(tmp_path / "notes.txt")
    with pytest.raises(SourceError, match="no such file or directory") as caught:
        detect(tmp_path / "missing")
    assert caught.value.exit_code == 3


def test_whole_shared_database(shared_advisory_db, pypa_database):
    with AdvisoryDatabase(shared_advisory_db) as database:
        status = database.status()
        assert status.records == PYPA_RECORDS
        assert status.withdrawn == 263
        assert status.packages == len(list((pypa_database / "vulns").iterdir()))
        assert status.problems == 0
        (info,) = status.sources
        assert info.source == str(pypa_database)
        assert info.kind == "pypa-advisory-database"
        assert info.counts.added == PYPA_RECORDS
        advisory = database.get("PYSEC-2014-13")
        assert advisory is not None
        record = json.loads(advisory.document)
    assert record["affected"][0]["package"]["name"] == "requests"


def test_reimport_is_all_unchanged(shared_copy, pypa_database):
    before = shared_copy.digest()
    summary = import_source(shared_copy, pypa_database)
    assert summary.counts.unchanged == PYPA_RECORDS
    assert (summary.counts.added, summary.counts.updated, summary.counts.skipped) == (0, 0, 0)
    assert shared_copy.digest() == before


def test_incremental_update_of_one_record(shared_copy, pypa_database, tmp_path):
    original = pypa_database / "vulns" / "requests" / "PYSEC-2014-13.yaml"
    changed = tmp_path / "PYSEC-2014-13.yaml"
    text = original.read_text()
    assert 'modified: "2021-07-05T00:01:25.632991Z"' in text
    changed.write_text(
        text.replace('modified: "2021-07-05T00:01:25.632991Z"', 'modified: "2030-01-01T00:00:00Z"')
        + "summary: netrc password leaked on redirect\n"
    )
    before = shared_copy.digest()
    summary = import_source(shared_copy, changed)
    assert (summary.counts.updated, summary.counts.added, summary.counts.records) == (1, 0, 1)
    assert shared_copy.get("CVE-2014-1829").summary == "netrc password leaked on redirect"
    assert shared_copy.digest() != before
    # the checkout's older copy no longer replaces it: one 'older', the rest unchanged
    again = import_source(shared_copy, pypa_database)
    assert (again.counts.older, again.counts.unchanged) == (1, PYPA_RECORDS - 1)
    assert shared_copy.get("PYSEC-2014-13").modified == "2030-01-01T00:00:00Z"


def test_json_copies_of_yaml_records_have_the_same_digest(shared_copy):
    summary = import_source(shared_copy, OSV)
    assert summary.counts.unchanged == 5, summary.counts


def test_osv_json_directory(database):
    summary = import_source(database, OSV)
    assert (summary.kind, summary.counts.added, summary.counts.skipped) == ("osv-directory", 5, 0)
    assert [a.id for a in database.query("requests")] == ["PYSEC-2014-13", "PYSEC-2023-74"]
    assert summary.source == source_label(OSV)


def test_directory_walk_skips_hidden_directories_and_other_files(database, tmp_path):
    shutil.copytree(OSV, tmp_path / "records" / "nested")
    (tmp_path / "records" / ".git").mkdir()
    (tmp_path / "records" / ".git" / "bad.json").write_text("{")
    (tmp_path / "records" / "README.md").write_text("# not a record")
    summary = import_source(database, tmp_path / "records")
    assert (summary.counts.added, summary.counts.skipped) == (5, 0)


def test_malformed_records_are_skipped_counted_and_listed(database):
    summary = import_source(database, MALFORMED)
    assert (summary.counts.added, summary.counts.skipped) == (1, 5)
    problems = {p.location: p.message for p in database.problems()}
    assert problems == {p.location: p.message for p in summary.problems}
    assert problems["affected-not-list.json"] == (
        "PYSEC-0000-affected-object: 'affected' must be a list"
    )
    assert problems["bad-json.json:5"].startswith("invalid JSON")
    assert problems["bad-modified.json"] == "'modified' is not an RFC 3339 time: 'last tuesday'"
    assert "unquoted number 1.1" in problems["float-version.yaml"]
    assert problems["missing-id.json"] == "record: missing 'id'"
    assert database.status().problems == 5
    # importing the same source again replaces its problem list, it does not grow
    import_source(database, MALFORMED)
    assert len(database.problems()) == 5


def test_single_json_and_yaml_files(database, pypa_database):
    summary = import_source(database, OSV / "PYSEC-2024-60.json")
    assert (summary.kind, summary.counts.added) == ("osv-record", 1)
    yaml_record = pypa_database / "vulns" / "requests" / "PYSEC-2023-74.yaml"
    assert import_source(database, yaml_record).counts.added == 1
    assert database.get("CVE-2024-3651").id == "PYSEC-2024-60"


def test_a_single_malformed_file_is_a_problem_not_an_abort(database):
    summary = import_source(database, MALFORMED / "bad-json.json")
    assert (summary.counts.records, summary.counts.skipped) == (0, 1)


def test_all_zip(database, tmp_path):
    archive = build_zip(tmp_path / "all.zip", [*osv_members(), ("NOTES.txt", b"ignored")])
    summary = import_source(database, archive)
    assert (summary.kind, summary.counts.added, summary.counts.skipped) == ("osv-archive", 5, 0)
    assert database.get("PYSEC-2021-108").affected[0].name == "urllib3"
    record = database.find("PYSEC-2021-108")
    assert len(record) == 1


def test_malformed_member_of_an_archive_is_a_problem(database, tmp_path):
    archive = build_zip(
        tmp_path / "all.zip", [*osv_members(), ("broken.json", b'{"id": "X", "modified": 3}')]
    )
    summary = import_source(database, archive)
    assert (summary.counts.added, summary.counts.skipped) == (5, 1)
    assert summary.problems[0].location == "broken.json"
    assert summary.problems[0].message == "X: 'modified' must be a string"


@pytest.mark.parametrize(
    "name", ["../evil.json", "records/../../evil.json", "/etc/evil.json", "C:/evil.json"]
)
def test_zip_slip_member_refuses_the_whole_archive(database, tmp_path, name):
    archive = build_zip(tmp_path / "all.zip", [*osv_members(), (name, b"{}")])
    with pytest.raises(SourceError, match="points outside the archive") as caught:
        import_source(database, archive)
    assert caught.value.exit_code == 3
    assert database.status().records == 0


def test_oversized_member_refuses_the_whole_archive(database, tmp_path):
    archive = build_zip(tmp_path / "all.zip", [*osv_members(), ("big.json", b" " * 5000)])
    limits = ZipLimits(max_entry_bytes=4096)
    with pytest.raises(SourceError, match="larger than the 4096 byte limit"):
        import_source(database, archive, limits=limits)
    assert database.status().records == 0


def test_archive_limits(database, tmp_path):
    archive = build_zip(tmp_path / "all.zip", osv_members())
    with pytest.raises(SourceError, match="more than 3 archive members"):
        import_source(database, archive, limits=ZipLimits(max_entries=3))
    with pytest.raises(SourceError, match="expands beyond the 1000 byte limit"):
        import_source(database, archive, limits=ZipLimits(max_total_bytes=1000))
    bomb = build_zip(tmp_path / "bomb.zip", [("bomb.json", b"0" * 2_000_000)])
    with pytest.raises(SourceError, match="likely zip bomb"):
        import_source(database, bomb)
    assert database.status().records == 0


def test_member_larger_than_it_declares_is_refused(database, tmp_path):
    archive = build_zip(tmp_path / "all.zip", [("a.json", b" " * 3000)], zipfile.ZIP_STORED)
    data = bytearray(archive.read_bytes())
    # shrink the declared size in the central directory (offset 24 of its header)
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (100).to_bytes(4, "little")
    archive.write_bytes(bytes(data))
    with pytest.raises(SourceError, match=r"a\.json"):
        import_source(database, archive, limits=ZipLimits(max_entry_bytes=1000))


def test_not_a_zip_and_truncated_zip(database, tmp_path):
    fake = tmp_path / "all.zip"
    fake.write_bytes(b"this is not an archive")
    with pytest.raises(SourceError, match="not a readable zip archive"):
        import_source(database, fake)
    good = build_zip(tmp_path / "good.zip", osv_members())
    cut = tmp_path / "cut.zip"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(SourceError):
        import_source(database, cut)


def test_corrupt_member_refuses_the_archive(database, tmp_path):
    archive = build_zip(tmp_path / "all.zip", osv_members(), zipfile.ZIP_STORED)
    data = bytearray(archive.read_bytes())
    position = data.find(b"PYSEC-2014-13", 200)
    data[position] ^= 0xFF  # bad CRC
    archive.write_bytes(bytes(data))
    with pytest.raises(SourceError, match="unreadable"):
        import_source(database, archive)
    assert database.status().records == 0


def test_empty_sources_are_refused(database, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="no OSV records found"):
        import_source(database, tmp_path / "empty")
    with pytest.raises(SourceError, match="no OSV records found"):
        import_source(database, build_zip(tmp_path / "all.zip", [("README", b"x")]))


def test_several_sources_are_one_transaction(database, tmp_path):
    bad = build_zip(tmp_path / "all.zip", [("../x.json", b"{}")])
    with pytest.raises(SourceError):
        import_sources(database, [OSV, bad])
    assert database.status().records == 0
    summaries = import_sources(database, [OSV, MALFORMED])
    assert [s.counts.added for s in summaries] == [5, 0]
    assert summaries[1].counts.unchanged == 1  # valid.json is a copy of an OSV record
    assert len(database.sources()) == 2


def test_unreadable_record_file_is_a_problem(database, tmp_path):
    records = tmp_path / "records"
    shutil.copytree(OSV, records)
    (records / "dangling.json").symlink_to(tmp_path / "gone.json")
    summary = import_source(database, records)
    assert (summary.counts.added, summary.counts.skipped) == (5, 1)
    assert (summary.problems[0].location, summary.problems[0].message) == (
        "dangling.json",
        "no such file",
    )


def test_labels_name_the_source(database, tmp_path):
    archive = build_zip(tmp_path / "all.zip", osv_members())
    summary = import_source(database, archive, label="https://mirror.example/all.zip")
    assert summary.source == "https://mirror.example/all.zip"
    assert database.sources()[0].source == "https://mirror.example/all.zip"
    assert database.get("PYSEC-2014-13") is not None


def test_in_memory_archive_helper_roundtrip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.json", "{}")
    assert zipfile.is_zipfile(io.BytesIO(buffer.getvalue()))
