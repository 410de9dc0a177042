import os
from pathlib import Path

import pytest

from assay.environments.ports import ReaderError
from assay.environments.readers import _files


def test_missing_and_directory(tmp_path):
    with pytest.raises(ReaderError, match="no such file"):
        _files.read_bytes(tmp_path / "nope")
    with pytest.raises(ReaderError, match="is a directory"):
        _files.read_bytes(tmp_path)


def test_size_limit(tmp_path):
    big = tmp_path / "big"
    big.write_bytes(b"x" * 11)
    with pytest.raises(ReaderError, match="larger than the 10 byte limit"):
        _files.read_bytes(big, limit=10)


def test_bad_utf8_names_the_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok\nalso ok\ncaf\xe9\n")
    with pytest.raises(ReaderError, match=r"bad.txt:3: not valid UTF-8"):
        _files.read_text(bad)


def test_bom_is_accepted(tmp_path):
    f = tmp_path / "bom.txt"
    f.write_bytes(b"\xef\xbb\xbfhello")
    assert _files.read_text(f) == "hello"


def test_json_errors_carry_line():
    with pytest.raises(ReaderError, match=r"x.json:3: invalid JSON"):
        _files.parse_json(Path("x.json"), '{\n "a": 1,\n }')


def test_deep_nesting_is_rejected():
    deep = "[" * 100 + "]" * 100
    with pytest.raises(ReaderError, match="nested more than"):
        _files.parse_json(Path("x.json"), deep)
    with pytest.raises(ReaderError, match="nested too deeply"):
        _files.parse_json(Path("x.json"), "[" * 100_000 + "]" * 100_000)


def test_toml_errors_carry_line():
    with pytest.raises(ReaderError, match=r"x.toml:2: invalid TOML"):
        _files.parse_toml(Path("x.toml"), 'a = 1\nb = "unterminated\n')


def test_yaml_errors_and_aliases():
    with pytest.raises(ReaderError, match=r"x.yml:2: invalid YAML"):
        _files.parse_yaml(Path("x.yml"), "a: [1, 2\nb: }\n")
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"
    with pytest.raises(ReaderError, match="YAML aliases"):
        _files.parse_yaml(Path("x.yml"), bomb)


def test_digest_files_is_order_independent():
    a = _files.digest_files([("a", b"1"), ("b", b"2")])
    assert a == _files.digest_files([("b", b"2"), ("a", b"1")])
    assert a != _files.digest_files([("a", b"1"), ("b", b"3")])
    assert a.startswith("sha256:")


def test_require_helpers():
    with pytest.raises(ReaderError, match="packages must be a list, found dict"):
        _files.require_list(Path("p"), {}, "packages")
    with pytest.raises(ReaderError, match="name must be a string, found int"):
        _files.require_str(Path("p"), 3, "name")
    assert _files.optional_str(Path("p"), None, "x") is None


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "requirements.txt"
    os.mkfifo(fifo)
    with pytest.raises(ReaderError, match="not a regular file"):
        _files.read_bytes(fifo)
