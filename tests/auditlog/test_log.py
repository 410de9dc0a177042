"""The log file: chained appends, refusal to extend a damaged log, concurrent writers."""

from __future__ import annotations

import json
import multiprocessing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from assay.auditlog.chain import GENESIS, canonical_json, parse_entry
from assay.auditlog.errors import AuditLogError
from assay.auditlog.keys import Signer, load_or_create_signer
from assay.auditlog.log import AuditLog, open_log, read_entries, verify_log
from assay.settings import Settings
from tests.auditlog.support import (
    TEST_PUBLIC_KEY,
    build_log,
    decision,
    fixed_clock,
    test_signer,
)


def test_entries_chain_and_count(tmp_path: Path) -> None:
    log = build_log(tmp_path, entries=3)
    entries = list(log.entries())
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev == GENESIS
    assert [e.prev for e in entries[1:]] == [e.hash for e in entries[:2]]
    assert [e.kind for e in entries] == ["decision", "promotion", "decision"]
    assert entries[0].time == "2026-03-01T12:00:00.000000Z"
    assert entries[1].record["by"] == "user1"


def test_lines_are_canonical_json(tmp_path: Path) -> None:
    log = build_log(tmp_path, entries=2)
    for line in log.path.read_bytes().splitlines():
        assert canonical_json(json.loads(line)) == line


def test_public_key_is_kept_next_to_the_log(tmp_path: Path) -> None:
    log = build_log(tmp_path, entries=1)
    assert log.public_key_path == tmp_path / "audit-log.jsonl.pub"
    assert log.public_key_path.read_text() == TEST_PUBLIC_KEY.read_text()


def test_open_log_uses_settings_and_creates_the_key(tmp_path: Path) -> None:
    settings = Settings.from_env({"ASSAY_HOME": str(tmp_path / "home")}, cwd=tmp_path)
    log = open_log(settings, clock=fixed_clock())
    entry = log.append("decision", {"stage": "sandbox"})
    assert settings.signing_key.is_file()
    assert log.path == settings.audit_log
    assert entry.key_id == load_or_create_signer(settings.signing_key).key_id
    assert log.verify().ok


def test_records_become_plain_json(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "log.jsonl", test_signer(), fixed_clock())
    entry = log.append("decision", {"reasons": ("a", "b"), "score": 7.5, "name": "é"})
    assert entry.record == {"reasons": ["a", "b"], "score": 7.5, "name": "é"}
    assert next(log.entries()) == entry
    with pytest.raises(ValueError, match="Out of range float"):
        log.append("decision", {"score": float("nan")})
    with pytest.raises(TypeError):
        log.append("decision", {"when": datetime(2026, 1, 1, tzinfo=UTC)})
    assert len(list(log.entries())) == 1


def test_naive_clock_is_refused(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "log.jsonl", test_signer(), lambda: datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        log.append("decision", {})


def test_clock_is_stored_in_utc(tmp_path: Path) -> None:
    moment = datetime.fromisoformat("2026-03-01T14:30:00+02:00")
    log = AuditLog(tmp_path / "log.jsonl", test_signer(), lambda: moment)
    assert log.append("decision", {}).time == "2026-03-01T12:30:00.000000Z"


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data[:-1], "the last line is incomplete"),
        (lambda data: data[: len(data) - 30] + b"\n", "the last line is corrupt"),
        (lambda data: data.replace(b"user3", b"user9"), "the last entry (seq 4) was edited"),
        (lambda data: data + b"\n", "the last line is corrupt"),
    ],
    ids=["no-newline", "cut-line", "edited", "blank-line"],
)
def test_append_refuses_a_damaged_last_line(tmp_path: Path, damage, message: str) -> None:
    log = build_log(tmp_path, entries=4)
    damaged = damage(log.path.read_bytes())
    log.path.write_bytes(damaged)
    with pytest.raises(AuditLogError, match=f"^{log.path}: refusing to append: ") as caught:
        log.append("decision", decision())
    assert message in str(caught.value)
    assert log.path.read_bytes() == damaged  # nothing written


def test_append_refuses_to_continue_another_keys_log(tmp_path: Path) -> None:
    log = build_log(tmp_path, entries=2)
    other = AuditLog(log.path, Signer.generate(), fixed_clock())
    with pytest.raises(AuditLogError, match="the log is signed by key"):
        other.append("decision", decision())


def test_append_refuses_a_bad_signature_on_the_last_entry(tmp_path: Path) -> None:
    log = build_log(tmp_path, entries=2)
    lines = log.path.read_bytes().splitlines()
    last = parse_entry(lines[-1])
    forged = type(last)(
        **{**last.to_dict(), "signature": lines[0].split(b'"signature":"')[1][:88].decode()}
    )
    log.path.write_bytes(lines[0] + b"\n" + forged.to_line())
    with pytest.raises(AuditLogError, match=r"the last entry \(seq 2\) has a bad signature"):
        log.append("decision", decision())


def test_large_records_chain_across_read_blocks(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "log.jsonl", test_signer(), fixed_clock())
    log.append("decision", {"blob": "x" * 200_000})
    log.append("decision", {"blob": "y" * 150_000})
    log.append("decision", {"small": True})
    assert log.verify().ok
    assert log.verify().count == 3


def test_reading_a_missing_or_malformed_log(tmp_path: Path) -> None:
    missing = tmp_path / "none.jsonl"
    with pytest.raises(AuditLogError, match="no audit log"):
        verify_log(missing, test_signer().verifier())
    log = build_log(tmp_path, entries=3)
    lines = log.path.read_bytes().splitlines()
    log.path.write_bytes(lines[0] + b"\n[1, 2]\n" + lines[2] + b"\n")
    with pytest.raises(AuditLogError, match=rf"^{log.path}:2: not a JSON object"):
        list(read_entries(log.path))


def _append_many(path: str, key: str, count: int, tag: str, start: Any) -> None:
    signer = load_or_create_signer(Path(key))
    log = AuditLog(Path(path), signer)
    start.wait()  # both writers begin together
    for n in range(count):
        log.append("decision", {"writer": tag, "n": n})


def test_concurrent_appends_keep_one_chain(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    load_or_create_signer(key)
    path = tmp_path / "log.jsonl"
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    workers = [
        context.Process(target=_append_many, args=(str(path), str(key), 40, tag, start))
        for tag in ("a", "b")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert [w.exitcode for w in workers] == [0, 0]
    result = verify_log(path, load_or_create_signer(key).verifier())
    assert result.ok, result.problem
    assert result.count == 80
    entries = list(read_entries(path))
    assert sorted((e.record["writer"], e.record["n"]) for e in entries) == sorted(
        (tag, n) for tag in ("a", "b") for n in range(40)
    )
