"""The archive reader's limits: bombs, sizes, counts and nesting, in bounded memory."""

from __future__ import annotations

import random
import tarfile
import tracemalloc
import zipfile

import pytest

from assay.vetting.archive_model import LIMIT_EXCEEDED, NESTED_TOO_DEEP, ArchiveLimits
from assay.vetting.archives import ArchiveReading, read_archive
from tests.vetting import archive_builders as build

MiB = 1024 * 1024
NOISE = random.Random(5).randbytes(2 * MiB)  # incompressible
SMALL = ArchiveLimits(max_member_bytes=MiB, max_total_bytes=4 * MiB, ratio_floor=64 * 1024)


def kinds(report):
    return {p.kind for p in report.problems}


def test_zip_bomb_is_stopped_by_the_ratio_limit():
    data = build.deflate_zeros_zip(8 * MiB)  # ~8 KiB that expand 1000:1
    members, report = read_archive(data, "bomb.whl", SMALL)
    assert members == []
    [problem] = report.problems
    assert problem.kind == LIMIT_EXCEEDED
    assert "ratio" in problem.detail
    assert not report.complete


def test_tar_gz_bomb_is_stopped_while_inflating():
    data = build.gzip_zeros_tar(64 * MiB)
    limits = ArchiveLimits(max_member_bytes=128 * MiB, max_total_bytes=256 * MiB)
    members, report = read_archive(data, "bomb.tar.gz", limits)
    assert members == []
    assert "ratio" in report.problems[0].detail
    assert not report.complete


def test_a_bomb_is_read_in_bounded_memory():
    data = build.gzip_zeros_tar(256 * MiB)  # ~250 KiB compressed
    limits = ArchiveLimits(max_member_bytes=MiB, max_total_bytes=2 * MiB, max_ratio=10_000)
    tracemalloc.start()
    try:
        _, report = read_archive(data, "bomb.tar.gz", limits)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not report.complete
    assert kinds(report) == {LIMIT_EXCEEDED}
    assert peak < 8 * MiB  # the limits, buffers and the compressed input; never 256 MiB


def test_member_over_its_limit_is_skipped_and_the_next_is_read():
    data = build.tar_bytes([("big.bin", NOISE), ("small.py", b"s")], "gz")
    members, report = read_archive(data, "x.tar.gz", ArchiveLimits(max_member_bytes=MiB))
    assert [m.path for m in members] == ["small.py"]
    assert [(p.kind, p.path) for p in report.problems] == [(LIMIT_EXCEEDED, "big.bin")]
    assert not report.complete


def test_zip_member_over_its_declared_limit():
    data = build.zip_bytes([("big.bin", NOISE), ("small.py", b"s")])
    members, report = read_archive(data, "x.zip", ArchiveLimits(max_member_bytes=MiB))
    assert [m.path for m in members] == ["small.py"]
    assert kinds(report) == {LIMIT_EXCEEDED}


def test_total_limit_stops_the_reading():
    entries = [(f"f{i}.bin", bytes([i]) * 600_000) for i in range(10)]
    limits = ArchiveLimits(max_total_bytes=2 * MiB, max_ratio=10_000)
    members, report = read_archive(build.zip_bytes(entries, zipfile.ZIP_STORED), "x.zip", limits)
    assert len(members) == 3
    assert "in total" in report.problems[-1].detail
    assert not report.complete


def test_ten_thousand_files_are_read():
    data = build.zip_bytes([(f"pkg/m{i}.py", b"x = %d\n" % i) for i in range(10_000)])
    members, report = read_archive(data, "many.whl")
    assert len(members) == 10_000
    assert report.complete


def test_ten_thousand_files_over_the_entry_limit_stop_before_parsing():
    data = build.zip_bytes([(f"pkg/m{i}.py", b"") for i in range(10_000)])
    members, report = read_archive(data, "many.whl", ArchiveLimits(max_members=1000))
    assert members == []
    assert "10000 entries" in report.problems[0].detail
    assert not report.complete


def test_tar_entry_limit():
    data = build.tar_bytes([(f"m{i}.py", b"") for i in range(300)], "gz")
    members, report = read_archive(data, "x.tar.gz", ArchiveLimits(max_members=100))
    assert len(members) == 100
    assert "more than 100 entries" in report.problems[0].detail


def test_path_length_limit():
    members, report = read_archive(
        build.zip_bytes([("a" * 300, b"")]), "x.zip", ArchiveLimits(max_path_length=100)
    )
    assert members == []
    assert not report.complete


def test_nested_archives_are_read_with_prefixed_paths():
    inner = build.zip_bytes([("evil.py", b"exec(x)")])
    middle = build.tar_bytes([("pkg/inner.whl", inner)], "gz")
    data = build.zip_bytes([("pkg/__init__.py", b""), ("vendor/dep-1.0.tar.gz", middle)])
    members, report = read_archive(data, "outer.whl")
    assert [m.path for m in members] == [
        "pkg/__init__.py",
        "vendor/dep-1.0.tar.gz",
        "vendor/dep-1.0.tar.gz!pkg/inner.whl",
    ]
    [problem] = report.problems
    assert (problem.kind, problem.path) == (NESTED_TOO_DEEP, "vendor/dep-1.0.tar.gz!pkg/inner.whl")
    assert report.complete  # the deep archive was read as bytes

    deeper = read_archive(data, "outer.whl", ArchiveLimits(max_depth=3))
    assert "vendor/dep-1.0.tar.gz!pkg/inner.whl!evil.py" in [m.path for m in deeper[0]]
    assert deeper[1].clean


def test_a_bomb_inside_a_nested_archive_stops_everything():
    data = build.zip_bytes(
        [("data/inner.zip", build.deflate_zeros_zip(8 * MiB)), ("z.py", b"")], zipfile.ZIP_STORED
    )
    members, report = read_archive(data, "outer.whl", SMALL)
    assert [m.path for m in members] == ["data/inner.zip"]
    assert kinds(report) == {LIMIT_EXCEEDED}
    assert not report.complete


def test_nested_member_named_like_an_archive_but_not_one():
    _, report = read_archive(build.zip_bytes([("fixtures/broken.zip", b"not a zip")]), "x.whl")
    assert [(p.kind, p.path) for p in report.problems] == [
        ("format-confusion", "fixtures/broken.zip")
    ]
    assert report.complete


def test_reading_protocol():
    reading = ArchiveReading(build.zip_bytes([("a.py", b"a")]), "x.zip")
    assert reading.report().members_read == 1  # drains unread members
    with pytest.raises(RuntimeError):
        list(reading)
    partial = ArchiveReading(build.zip_bytes([("a.py", b"a"), ("b.py", b"b")]), "x.zip")
    next(iter(partial))
    with pytest.raises(RuntimeError):
        partial.report()


def test_limits_must_be_positive():
    with pytest.raises(ValueError, match="max_members"):
        ArchiveLimits(max_members=0)


def test_tarinfo_size_is_not_trusted_over_the_stream():
    info = tarfile.TarInfo("claims-more.bin")
    info.size = 10_000
    raw = info.tobuf(format=tarfile.USTAR_FORMAT) + b"short"
    _, report = read_archive(raw, "x.tar")
    assert not report.complete
    assert kinds(report) & {"truncated", "corrupt"}
