"""Writing command output: atomic for files, in place for devices and pipes."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from assay.cli.output import write_atomically
from assay.errors import AssayError


def test_a_new_file_gets_the_usual_mode_and_no_temporary_is_left(tmp_path):
    target = tmp_path / "out.json"
    write_atomically(target, "{}\n")
    assert target.read_text() == "{}\n"
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_an_existing_file_is_replaced_whole(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old content that is longer\n")
    write_atomically(target, "new\n")
    assert target.read_text() == "new\n"


def test_a_fifo_is_written_in_place_not_renamed_over(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    write_atomically(fifo, "through the pipe\n")
    reader.join(timeout=30)
    assert received == ["through the pipe\n"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_dev_null_stays_a_device():
    write_atomically(Path("/dev/null"), "discarded\n")
    assert stat.S_ISCHR(Path("/dev/null").stat().st_mode)


def test_a_missing_directory_is_a_one_line_error(tmp_path):
    with pytest.raises(AssayError, match="cannot write"):
        write_atomically(tmp_path / "missing" / "out.json", "x")
