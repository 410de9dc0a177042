"""``assay log verify|show|attest|public-key`` end to end on a log written with the test key."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest

from assay.auditlog.attestation import verify_envelope
from assay.auditlog.chain import entry_hash, parse_entry
from assay.auditlog.keys import Signer, load_verifier
from assay.auditlog.log import AuditLog
from assay.auditlog.records import DECISION, decision_record
from assay.cli.app import run
from tests.auditlog.support import TEST_KEY, TEST_PUBLIC_KEY, build_log


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An assay home with the test key as signing key and a five-entry log."""
    key = tmp_path / "keys" / "assay-ed25519.pem"
    key.parent.mkdir(mode=0o700)
    shutil.copyfile(TEST_KEY, key)
    key.chmod(0o600)
    monkeypatch.setenv("ASSAY_HOME", str(tmp_path))
    monkeypatch.delenv("ASSAY_AUDIT_LOG", raising=False)
    monkeypatch.delenv("ASSAY_SIGNING_KEY", raising=False)
    build_log(tmp_path, entries=5)
    return tmp_path


def assay(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_verify_ok(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = assay(capsys, "log", "verify")
    assert (code, err) == (0, "")
    assert out.startswith(f"{home / 'audit-log.jsonl'}: ok: 5 entries, head seq 5 ")
    assert out.rstrip().endswith(f"key {Signer.from_pem(TEST_KEY.read_bytes()).key_id}")


def test_verify_names_the_first_bad_entry(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = home / "audit-log.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join([lines[0], lines[2], lines[1], *lines[3:]]))
    code, out, err = assay(capsys, "log", "verify")
    assert (code, out) == (1, "")
    assert err == (
        f"assay: error: {log}: line 2 (seq 3): reordered: seq 3 comes before seq 2 "
        "(1 entry before it verified)\n"
    )


def test_verify_with_an_independent_public_key(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "elsewhere"
    copy.mkdir()
    shutil.copyfile(home / "audit-log.jsonl", copy / "log.jsonl")
    (home / "keys" / "assay-ed25519.pem").unlink()
    args = ("log", "verify", "--log", str(copy / "log.jsonl"))
    code, _, err = assay(capsys, *args)
    assert code == 3
    assert "no key to verify with" in err
    assert "--public-key" in err
    assert assay(capsys, *args, "--public-key", str(TEST_PUBLIC_KEY))[0] == 0
    other = tmp_path / "other.pub"
    other.write_text(Signer.generate().public_key_pem())
    code, _, err = assay(capsys, *args, "--public-key", str(other))
    assert code == 1
    assert "line 1 (seq 1): signed by unknown key" in err


def test_verify_falls_back_to_the_public_key_next_to_the_log(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (home / "keys" / "assay-ed25519.pem").unlink()
    assert assay(capsys, "log", "verify")[0] == 0


def test_verify_missing_log_or_corrupt_key(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = assay(capsys, "log", "verify", "--log", str(tmp_path / "none.jsonl"))
    assert code == 3
    assert (
        err
        == f"assay: error: {tmp_path / 'none.jsonl'}: no audit log (nothing has been logged yet)\n"
    )
    key = home / "keys" / "assay-ed25519.pem"
    key.write_text("corrupt")
    code, _, err = assay(capsys, "log", "verify")
    assert code == 3
    assert err.startswith(f"assay: error: {key}: not an unencrypted PEM Ed25519 private key")
    assert err.count("\n") == 1


def test_show_table_and_filters(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = assay(capsys, "log", "show")
    assert (code, err) == (0, "")
    assert "staging -> production" in out
    assert out.rstrip().endswith("5 entries")
    counts = {
        ("--kind", "promotion"): [2, 4],
        ("--kind", "decision"): [1, 3, 5],
        ("--package", "PKG2"): [3],
        ("--package", "requests"): [2, 4],  # named in the promotions' reasons
        ("--stage", "production"): [2, 4],
        ("--environment", "uv.lock"): [1, 2, 3, 4, 5],
        ("--environment", "sha256:3f3f3f3f"): [1, 2, 3, 4, 5],
        ("--environment", "other.lock"): [],
        ("--since", "2026-03-01T12:02:00Z"): [3, 4, 5],
        ("--until", "2026-03-01T12:02:00"): [1, 2],
        ("--until", "2026-03-01"): [1, 2, 3, 4, 5],
        ("--until", "2026-02-28"): [],
    }
    for args, seqs in counts.items():
        code, out, _ = assay(capsys, "log", "show", "--format", "json", *args)
        assert code == 0
        assert [e["seq"] for e in json.loads(out)] == seqs, args


def test_show_warns_when_the_log_does_not_verify(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = home / "audit-log.jsonl"
    log.write_bytes(log.read_bytes().replace(b"user3", b"userX"))
    code, out, err = assay(capsys, "log", "show", "--format", "json")
    assert code == 0
    assert len(json.loads(out)) == 5
    assert err.startswith(f"assay: warning: {log}: line 4 (seq 4): edited")


def test_show_bad_date_and_corrupt_log(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = assay(capsys, "log", "show", "--since", "yesterday")
    assert code == 2
    assert "--since 'yesterday' is not a date" in err
    log = home / "audit-log.jsonl"
    log.write_bytes(log.read_bytes() + b'{"truncated')
    code, _, err = assay(capsys, "log", "show")
    assert code == 3
    assert err == f"assay: error: {log}:6: incomplete last line (run 'assay log verify')\n"


def test_attest_a_promotion(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = assay(capsys, "log", "attest", "2")
    assert (code, err) == (0, "")
    envelope = json.loads(out)
    statement = verify_envelope(envelope, load_verifier(TEST_PUBLIC_KEY))
    assert statement["predicate"]["auditLog"]["seq"] == 2
    target = tmp_path / "attestation.json"
    code, out, err = assay(capsys, "log", "attest", "4", "--output", str(target))
    assert (code, out) == (0, "")
    assert verify_envelope(json.loads(target.read_text()), load_verifier(TEST_PUBLIC_KEY))


def test_attest_refuses_decisions_missing_entries_and_tampered_logs(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = home / "audit-log.jsonl"
    code, _, err = assay(capsys, "log", "attest", "1")
    assert code == 2
    assert "entry seq 1 is a decision, not a promotion" in err
    code, _, err = assay(capsys, "log", "attest", "9")
    assert code == 2
    assert "no entry seq 9 (the log has 5)" in err
    log.write_bytes(log.read_bytes().replace(b"user3", b"userX"))
    assert assay(capsys, "log", "attest", "2")[0] == 0  # before the damage: still attestable
    code, _, err = assay(capsys, "log", "attest", "4")
    assert code == 1
    assert "line 4 (seq 4): edited" in err


def test_public_key(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = assay(capsys, "log", "public-key")
    assert (code, out) == (0, TEST_PUBLIC_KEY.read_text())


def test_expect_head_catches_entries_removed_from_the_end(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = home / "audit-log.jsonl"
    head = json.loads(log.read_bytes().splitlines()[-1])["hash"]
    assert assay(capsys, "log", "verify", "--expect-head", head)[0] == 0
    log.write_bytes(b"".join(log.read_bytes().splitlines(keepends=True)[:-1]))
    assert assay(capsys, "log", "verify")[0] == 0  # a shorter chain is still a chain
    code, _, err = assay(capsys, "log", "verify", "--expect-head", head)
    assert code == 1
    assert f"the expected head {head} is not in the log" in err


# --- review of issue 6: corrupt logs and odd filter values never end in an internal error


def _resign(home: Path, line: int, **fields: object) -> Path:
    """The log with entry ``line`` (1-based) changed and re-signed, chain intact after it."""

    log = home / "audit-log.jsonl"
    signer = Signer.from_pem(TEST_KEY.read_bytes())
    entries = [parse_entry(raw) for raw in log.read_bytes().splitlines()]
    out: list[bytes] = []
    previous = None
    for number, entry in enumerate(entries, start=1):
        body = {**entry.body(), **(fields if number == line else {})}
        if previous is not None:
            body["prev"] = previous
        digest = entry_hash(body)
        sig = base64.b64encode(signer.sign(digest.encode())).decode()
        full = {**body, "hash": digest, "signature": sig}
        out.append(json.dumps(full, sort_keys=True, separators=(",", ":")).encode() + b"\n")
        previous = digest
    log.write_bytes(b"".join(out))
    return log


def test_a_deeply_nested_line_is_malformed_not_an_internal_error(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = home / "audit-log.jsonl"
    with log.open("ab") as handle:
        handle.write(b"[" * 100_000 + b"\n")
    code, _, err = assay(capsys, "log", "verify")
    assert code == 1
    assert "line 6: malformed entry: malformed JSON (nested too deeply)" in err
    code, _, err = assay(capsys, "log", "show")
    assert code == 3
    assert "Traceback" not in err
    assert "internal error" not in err


def test_an_entry_time_without_offset_is_malformed(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _resign(home, 2, time="2026-03-01")  # re-signed: only the format is wrong
    code, _, err = assay(capsys, "log", "verify")
    assert code == 1
    assert "line 2 (seq 2)" not in err  # malformed entries are named by line only
    assert "line 2: malformed entry: time '2026-03-01' is not an ISO 8601 time" in err
    code, _, err = assay(capsys, "log", "show", "--since", "2026-01-01")
    assert code == 3
    assert "internal error" not in err


@pytest.mark.parametrize("until", ["9999-12-31", "9999-12-31T23:59:59"])
def test_until_the_last_representable_day_keeps_everything(
    home: Path, capsys: pytest.CaptureFixture[str], until: str
) -> None:
    code, out, err = assay(capsys, "log", "show", "--until", until)
    assert (code, err) == (0, "")
    assert out.rstrip().endswith("5 entries")


def test_until_a_date_includes_that_day_and_since_starts_it(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the fixed clock logs every entry on 2026-03-01
    for args in (["--until", "2026-03-01"], ["--since", "2026-03-01"], ["--until", " 2026-03-01 "]):
        code, out, _ = assay(capsys, "log", "show", *args)
        assert (code, out.rstrip().rsplit("\n", 1)[-1]) == (0, "5 entries"), args
    code, out, _ = assay(capsys, "log", "show", "--until", "2026-02-28")
    assert out.rstrip().endswith("0 entries")


@pytest.mark.parametrize("head", ["zz", "", "abc123", "g" * 64])
def test_expect_head_that_is_not_a_hash_is_a_usage_error(
    home: Path, capsys: pytest.CaptureFixture[str], head: str
) -> None:
    code, out, err = assay(capsys, "log", "verify", "--expect-head", head)
    assert (code, out) == (2, "")
    assert err.startswith("assay: error: --expect-head ")
    assert "is not a hash (64 hex digits)" in err


def test_a_refused_promotion_is_shown_as_refused(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = AuditLog(home / "audit-log.jsonl", Signer.from_pem(TEST_KEY.read_bytes()))
    refused = {"from_stage": "staging", "to_stage": "production", "by": "carol"}
    log.append(
        DECISION,
        decision_record(
            {"stage": "production", "outcome": "pass", "promotion": {**refused, "refused": "why"}},
            environment="uv.lock",
            environment_digest="sha256:" + "3f" * 32,
        ),
    )
    code, out, _ = assay(capsys, "log", "show", "--kind", "decision")
    assert code == 0
    row = next(line for line in out.splitlines() if line.lstrip().startswith("6 "))
    assert "staging -> production" in row
    assert "refused (pass)" in row
    assert "carol" in row
