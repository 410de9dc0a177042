"""Tamper tests: every edit of a log is caught and the first bad entry is named."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from assay.auditlog.chain import Entry, new_entry, parse_entry, verify_entries
from assay.auditlog.keys import Signer
from assay.auditlog.log import verify_log
from tests.auditlog.support import build_log, fixed_clock, test_signer

Lines = list[bytes]


def _replace_in(line: bytes, field: str, position: int) -> bytes:
    """Change one character of ``field``'s string value to another valid character."""
    data = json.loads(line)
    value = data[field]
    if field == "record":  # inside the record: the environment name
        old = data["record"]["environment"]
        data["record"]["environment"] = old[:position] + "X" + old[position + 1 :]
    else:
        new_char = "A" if value[position] != "A" else "B"
        if field == "hash":
            new_char = "0" if value[position] != "0" else "1"
        data[field] = value[:position] + new_char + value[position + 1 :]
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def _other_key_entry(lines: Lines) -> bytes:
    previous = parse_entry(lines[-1])
    other = Signer.generate()
    entry = new_entry(
        previous,
        kind="promotion",
        record={"environment": "forged"},
        moment=fixed_clock()(),
        key_id=other.key_id,
        sign=other.sign,
    )
    return entry.to_line()[:-1]


def _wrong_prev_entry(lines: Lines) -> bytes:
    """An entry signed with the right key, right seq, chained to the wrong entry."""
    signer = test_signer()
    previous = parse_entry(lines[-1])
    fake = Entry(**{**previous.to_dict(), "hash": "ab" * 32})
    entry = new_entry(
        fake,
        kind="decision",
        record={"environment": "forged"},
        moment=fixed_clock()(),
        key_id=signer.key_id,
        sign=signer.sign,
    )
    return entry.to_line()[:-1]


Tamper = Callable[[Lines], Lines]
# name -> (change to the five lines, expected (line, seq, code))
CASES: dict[str, tuple[Tamper, tuple[int, int | None, str]]] = {
    "flip a byte in a record": (
        lambda ls: [*ls[:2], _replace_in(ls[2], "record", 1), *ls[3:]],
        (3, 3, "edited"),
    ),
    "flip a byte in a hash": (
        lambda ls: [*ls[:2], _replace_in(ls[2], "hash", 10), *ls[3:]],
        (3, 3, "edited"),
    ),
    "flip a byte in a signature": (
        lambda ls: [*ls[:2], _replace_in(ls[2], "signature", 5), *ls[3:]],
        (3, 3, "bad-signature"),
    ),
    "delete a line": (lambda ls: [*ls[:2], *ls[3:]], (3, 4, "deleted")),
    "delete the first line": (lambda ls: ls[1:], (1, 2, "deleted")),
    "delete two lines": (lambda ls: [ls[0], *ls[3:]], (2, 4, "deleted")),
    "swap two lines": (lambda ls: [ls[0], ls[2], ls[1], *ls[3:]], (2, 3, "reordered")),
    "insert a copied line": (lambda ls: [*ls[:2], ls[1], *ls[2:]], (3, 2, "inserted")),
    "append a line signed by another key": (
        lambda ls: [*ls, _other_key_entry(ls)],
        (6, 6, "unknown-key"),
    ),
    "append a re-signed line chained elsewhere": (
        lambda ls: [*ls, _wrong_prev_entry(ls)],
        (6, 6, "broken-chain"),
    ),
    "replace a line with garbage": (
        lambda ls: [ls[0], b"{not json", *ls[2:]],
        (2, None, "malformed"),
    ),
    "reformat a line": (
        lambda ls: [ls[0], json.dumps(json.loads(ls[1]), sort_keys=True).encode(), *ls[2:]],
        (2, 2, "edited"),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_tampering_is_caught_at_the_first_bad_entry(tmp_path: Path, name: str) -> None:
    log = build_log(tmp_path)
    lines = log.path.read_bytes().splitlines()
    assert verify_entries(lines, test_signer().verifier()).ok
    tamper, (line, seq, code) = CASES[name]
    log.path.write_bytes(b"".join(item + b"\n" for item in tamper(lines)))
    result = verify_log(log.path, test_signer().verifier())
    assert result.problem is not None
    assert (result.problem.line, result.problem.seq, result.problem.code) == (line, seq, code)
    assert result.count == line - 1
    assert result.problem.describe().startswith(f"line {line}")


def test_truncated_mid_line(tmp_path: Path) -> None:
    log = build_log(tmp_path)
    data = log.path.read_bytes()
    fourth = data.index(b"\n", data.index(b"\n", data.index(b"\n") + 1) + 1) + 1
    log.path.write_bytes(data[: fourth + 40])
    result = verify_log(log.path, test_signer().verifier())
    assert result.problem is not None
    assert (result.problem.line, result.problem.code) == (4, "truncated")
    assert result.head is not None
    assert result.head.seq == 3


def test_missing_final_newline_is_a_truncation(tmp_path: Path) -> None:
    log = build_log(tmp_path)
    log.path.write_bytes(log.path.read_bytes()[:-1])
    result = verify_log(log.path, test_signer().verifier())
    assert result.problem is not None
    assert (result.problem.line, result.problem.code) == (5, "truncated")


def test_whole_log_re_signed_by_another_key_fails_on_line_one(tmp_path: Path) -> None:
    other = Signer.generate()
    log = build_log(tmp_path, signer=other)
    result = verify_log(log.path, test_signer().verifier())
    assert result.problem is not None
    assert (result.problem.line, result.problem.seq, result.problem.code) == (1, 1, "unknown-key")
    assert verify_log(log.path, other.verifier()).ok


def test_every_single_bit_flip_in_a_line_is_caught_there(tmp_path: Path) -> None:
    log = build_log(tmp_path)
    lines = log.path.read_bytes().splitlines()
    verifier = test_signer().verifier()
    target = lines[2]
    for position in range(len(target)):
        flipped = bytearray(target)
        flipped[position] ^= 0x01
        result = verify_entries([*lines[:2], bytes(flipped), *lines[3:]], verifier)
        assert result.problem is not None, position
        assert result.problem.line == 3, (position, result.problem)


def test_an_intact_log_verifies(tmp_path: Path) -> None:
    log = build_log(tmp_path, entries=7)
    result = log.verify()
    assert result.ok
    assert result.count == 7
    assert result.head is not None
    assert result.head.seq == 7


def test_an_empty_log_verifies_with_no_entries(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    result = verify_log(path, test_signer().verifier())
    assert result.ok
    assert result.count == 0
    assert result.head is None
