"""The safe archive reader against ordinary and hostile archives built in memory."""

from __future__ import annotations

import gzip
import lzma
import tarfile
import zipfile

import pytest

from assay.vetting.archive_io import sniff
from assay.vetting.archive_model import (
    ABSOLUTE_PATH,
    CORRUPT,
    DEVICE,
    DUPLICATE_PATH,
    ENCRYPTED_MEMBER,
    FORMAT_CONFUSION,
    HARDLINK,
    INVALID_PATH,
    PATH_TRAVERSAL,
    SYMLINK,
    TRAILING_DATA,
    TRUNCATED,
    UNSUPPORTED,
    ArchiveLimits,
    normalise_path,
)
from assay.vetting.archives import read_archive
from tests.vetting import archive_builders as build

MiB = 1024 * 1024
SMALL = ArchiveLimits(max_member_bytes=MiB, max_total_bytes=4 * MiB, ratio_floor=64 * 1024)


def kinds(report):
    return {p.kind for p in report.problems}


def paths(members):
    return [m.path for m in members]


# -- ordinary archives --------------------------------------------------------------------------


def test_wheel_members_are_read_completely_and_cleanly():
    data = build.zip_bytes([("pkg/__init__.py", b"x = 1\n"), ("pkg-1.0.dist-info/RECORD", b"")])
    members, report = read_archive(data, "pkg-1.0-py3-none-any.whl")
    assert paths(members) == ["pkg/__init__.py", "pkg-1.0.dist-info/RECORD"]
    assert members[0].data == b"x = 1\n"
    assert members[0].size == 6
    assert (report.format, report.members_read, report.bytes_read) == ("zip", 2, 6)
    assert report.complete
    assert report.clean


@pytest.mark.parametrize(
    ("compression", "fmt"), [("", "tar"), ("gz", "tar.gz"), ("bz2", "tar.bz2"), ("xz", "tar.xz")]
)
def test_sdists_in_every_compression(compression, fmt):
    data = build.tar_bytes(
        [("pkg-1.0/setup.py", b"print('hi')\n"), ("pkg-1.0/PKG-INFO", b"Name: pkg\n")], compression
    )
    suffix = f".tar.{compression}" if compression else ".tar"
    members, report = read_archive(data, "pkg-1.0" + suffix)
    assert paths(members) == ["pkg-1.0/setup.py", "pkg-1.0/PKG-INFO"]
    assert report.format == fmt
    assert report.clean


def test_multi_stream_gzip_is_read_to_the_end():
    tar = build.tar_bytes([("a.py", b"a = 1\n" * 100)])
    half = len(tar) // 2
    data = gzip.compress(tar[:half]) + gzip.compress(tar[half:])
    members, report = read_archive(data, "x.tar.gz")
    assert paths(members) == ["a.py"]
    assert report.clean


def test_directories_are_skipped_and_paths_normalised():
    data = build.zip_bytes([("pkg/", b""), ("./pkg//sub/../mod.py", b"m")])
    members, report = read_archive(data, "x.zip")
    assert paths(members) == ["pkg/mod.py"]
    assert report.clean


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a/b.py", ("a/b.py", None)),
        ("a\\b.py", ("a/b.py", None)),
        ("../evil.py", (None, PATH_TRAVERSAL)),
        ("a/../../evil.py", (None, PATH_TRAVERSAL)),
        ("..\\..\\evil.py", (None, PATH_TRAVERSAL)),
        ("/etc/passwd", (None, ABSOLUTE_PATH)),
        ("C:\\Windows\\x.dll", (None, ABSOLUTE_PATH)),
        ("c:x.dll", (None, ABSOLUTE_PATH)),
        ("\\\\server\\share\\x", (None, ABSOLUTE_PATH)),
        ("a/\x00b", (None, INVALID_PATH)),
        ("./", (None, INVALID_PATH)),
    ],
)
def test_path_normalisation(name, expected):
    path, problem = normalise_path(name)
    assert (path, problem.kind if problem else None) == expected


# -- entries that are refused -------------------------------------------------------------------


def test_tar_with_traversal_and_absolute_paths():
    data = build.tar_bytes(
        [("../../etc/cron.d/x", b"evil"), ("/etc/passwd", b"root"), ("ok.py", b"1")], "gz"
    )
    members, report = read_archive(data, "x.tar.gz")
    assert paths(members) == ["ok.py"]
    assert {(p.kind, p.path) for p in report.problems} == {
        (PATH_TRAVERSAL, "../../etc/cron.d/x"),
        (ABSOLUTE_PATH, "/etc/passwd"),
    }
    assert not report.complete


def test_zip_with_windows_traversal():
    members, report = read_archive(build.zip_bytes([("..\\..\\x.bat", b"x")]), "x.zip")
    assert members == []
    assert kinds(report) == {PATH_TRAVERSAL}
    assert not report.complete


def test_symlink_to_etc_passwd_is_recorded_with_its_target_and_never_followed():
    link = build.special("pkg/passwd", tarfile.SYMTYPE, "/etc/passwd")
    members, report = read_archive(build.tar_bytes([link, ("pkg/a.py", b"")], "gz"), "x.tar.gz")
    assert paths(members) == ["pkg/a.py"]
    [problem] = report.problems
    assert (problem.kind, problem.path) == (SYMLINK, "pkg/passwd")
    assert "/etc/passwd" in problem.detail
    assert report.complete  # nothing unread: the link itself has no content
    assert not report.clean


def test_zip_symlink_entry():
    members, report = read_archive(build.zip_symlink("pkg/key", "/root/.ssh/id_rsa"), "x.whl")
    assert members == []
    assert [(p.kind, "/root/.ssh/id_rsa" in p.detail) for p in report.problems] == [(SYMLINK, True)]


def test_hardlink_and_devices():
    entries = [
        build.special("pkg/shadow", tarfile.LNKTYPE, "/etc/shadow"),
        build.special("pkg/tty", tarfile.CHRTYPE),
        build.special("pkg/disk", tarfile.BLKTYPE),
        build.special("pkg/pipe", tarfile.FIFOTYPE),
    ]
    members, report = read_archive(build.tar_bytes(entries), "x.tar")
    assert members == []
    assert [p.kind for p in report.problems] == [HARDLINK, DEVICE, DEVICE, DEVICE]
    assert "/etc/shadow" in report.problems[0].detail


def test_zip_device_entry():
    _, report = read_archive(build.zip_with_mode("dev", b"", 0o020644), "x.zip")
    assert kinds(report) == {DEVICE}


def test_encrypted_zip_member():
    data = build.encrypt_flag(build.zip_bytes([("pkg/secret.py", b"print(1)")]))
    members, report = read_archive(data, "x.whl")
    assert members == []
    assert kinds(report) == {ENCRYPTED_MEMBER}
    assert not report.complete


def test_bzip2_zip_member_is_refused():
    data = build.zip_bytes([("a.py", b"a")], method=zipfile.ZIP_BZIP2)
    _, report = read_archive(data, "x.zip")
    assert kinds(report) == {UNSUPPORTED}
    assert not report.complete


def test_duplicate_names_are_both_read_and_recorded():
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = build.zip_bytes([("setup.py", b"benign"), ("setup.py", b"evil")])
    members, report = read_archive(data, "x.zip")
    assert [m.data for m in members] == [b"benign", b"evil"]
    assert [(p.kind, p.path) for p in report.problems] == [(DUPLICATE_PATH, "setup.py")]
    assert report.complete


def test_duplicates_after_normalisation():
    data = build.tar_bytes([("pkg/a.py", b"1"), ("pkg/./a.py", b"2")])
    _, report = read_archive(data, "x.tar")
    assert kinds(report) == {DUPLICATE_PATH}


# -- damage -------------------------------------------------------------------------------------


def test_truncated_tar_gz():
    data = build.tar_bytes([("pkg/a.py", bytes(range(256)) * 400)], "gz")
    members, report = read_archive(data[: len(data) // 2], "x.tar.gz")
    assert members == []
    assert kinds(report) == {TRUNCATED}
    assert not report.complete


def test_tar_cut_at_a_header_boundary_has_no_end_block():
    data = build.tar_bytes([("a.py", b"a" * 512), ("b.py", b"b" * 512)])
    members, report = read_archive(data[:1024], "x.tar")  # header + data of a.py only
    assert paths(members) == ["a.py"]
    assert kinds(report) == {TRUNCATED}
    assert not report.complete


def test_truncated_zip():
    data = build.zip_bytes([("a.py", b"print(1)\n" * 1000)])
    members, report = read_archive(data[:-30], "x.whl")
    assert members == []
    assert kinds(report) == {TRUNCATED}
    assert not report.complete


def test_zip_crc_error():
    data = bytearray(build.zip_bytes([("a.py", b"A" * 100)], method=zipfile.ZIP_STORED))
    data[data.index(b"A" * 100)] = ord("B")
    members, report = read_archive(bytes(data), "x.zip")
    assert members == []
    assert kinds(report) == {CORRUPT}
    assert "CRC" in report.problems[0].detail


def test_garbage_after_the_tar_end_block():
    data = build.tar_bytes([("a.py", b"a")]) + b"hidden payload"
    members, report = read_archive(data, "x.tar")
    assert paths(members) == ["a.py"]
    assert kinds(report) == {TRAILING_DATA}
    assert not report.complete


def test_data_appended_after_the_gzip_stream():
    data = build.tar_bytes([("a.py", b"a")], "gz") + build.zip_bytes([("evil.py", b"x")])
    _, report = read_archive(data, "x.tar.gz")
    assert kinds(report) == {TRAILING_DATA}
    assert not report.complete


def test_unknown_and_unsupported_formats():
    _, report = read_archive(b"just some text\n" * 10, "x.tar.gz")
    assert kinds(report) == {UNSUPPORTED}
    assert report.format is None
    assert not report.complete
    _, zstd = read_archive(b"\x28\xb5\x2f\xfd" + bytes(100), "x.tar.zst")
    assert "zstandard" in zstd.problems[0].detail


# -- format confusion ---------------------------------------------------------------------------


def test_zip_named_tar_gz_is_read_as_zip():
    members, report = read_archive(build.zip_bytes([("pkg/a.py", b"a")]), "pkg-1.0.tar.gz")
    assert paths(members) == ["pkg/a.py"]
    assert report.format == "zip"
    [problem] = report.problems
    assert problem.kind == FORMAT_CONFUSION
    assert "gzip" in problem.detail
    assert "zip" in problem.detail


def test_gzip_that_holds_no_tar():
    data = gzip.compress(b"import os\nos.system('id')\n")
    members, report = read_archive(data, "pkg-1.0.tar.gz")
    assert [(m.path, m.data) for m in members] == [("pkg-1.0.tar", b"import os\nos.system('id')\n")]
    assert report.format == "gzip"
    assert kinds(report) == {FORMAT_CONFUSION}


def test_xz_named_as_zip():
    data = lzma.compress(build.tar_bytes([("a.py", b"a")]))
    members, report = read_archive(data, "x.whl")
    assert paths(members) == ["a.py"]
    assert (report.format, kinds(report)) == ("tar.xz", {FORMAT_CONFUSION})


def test_zip_after_a_prefix_of_other_bytes():
    data = b"#!/bin/sh\nexec python $0\n" + build.zip_bytes([("a.py", b"a")])
    members, report = read_archive(data, "x.zip")
    assert paths(members) == ["a.py"]
    assert kinds(report) == {FORMAT_CONFUSION}


def test_sniff_ignores_the_name():
    assert sniff(build.zip_bytes([])) == "zip"
    assert sniff(build.tar_bytes([("a", b"")])) == "tar"
    assert sniff(b"\x1f\x8b\x08") == "gzip"
    assert sniff(b"hello") is None
