"""Shared by the audit log tests: the committed test-only key, a fixed clock, a small log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from assay.auditlog.keys import Signer
from assay.auditlog.log import AuditLog
from assay.auditlog.records import DECISION, PROMOTION, decision_record, promotion_record
from tests.support import ASSETS

AUDITLOG_ASSETS = ASSETS / "auditlog"
TEST_KEY = AUDITLOG_ASSETS / "test-key.pem"  # test-only key, see the README next to it
TEST_PUBLIC_KEY = AUDITLOG_ASSETS / "test-key.pub.pem"
ENV_DIGEST = "sha256:" + "3f" * 32
POLICY_DIGEST = "sha256:" + "a1" * 32


def test_signer() -> Signer:
    return Signer.from_pem(TEST_KEY.read_bytes(), str(TEST_KEY))


test_signer.__test__ = False  # type: ignore[attr-defined]  # not a test, a helper


def fixed_clock(start: datetime | None = None) -> Callable[[], datetime]:
    """A clock that starts at 2026-03-01 12:00 UTC and ticks one minute per call."""
    moments = iter(
        (start or datetime(2026, 3, 1, 12, 0, tzinfo=UTC)) + timedelta(minutes=n)
        for n in range(1_000_000)
    )
    return lambda: next(moments)


def promotion(by: str = "alice", outcome: str = "pass") -> dict[str, object]:
    return promotion_record(
        environment="uv.lock",
        environment_digest=ENV_DIGEST,
        from_stage="staging",
        to_stage="production",
        by=by,
        policy_digest=POLICY_DIGEST,
        outcome=outcome,
        waivers_used=[
            {
                "id": "W-1",
                "package": "pillow",
                "vulnerability": "CVE-2023-50447",
                "approver": "sec-team",
                "expires": "2026-06-30",
            }
        ],
        reasons=[{"rule": "cooldown", "package": "requests", "outcome": "warn"}],
    )


def decision(stage: str = "staging", package: str = "requests") -> dict[str, object]:
    return decision_record(
        {
            "stage": stage,
            "outcome": "warn",
            "packages": [{"name": package, "outcome": "warn", "reasons": ["young release"]}],
        },
        environment="uv.lock",
        environment_digest=ENV_DIGEST,
    )


def build_log(directory: Path, entries: int = 5, signer: Signer | None = None) -> AuditLog:
    """A log of alternating decisions and promotions, written with the fixed clock."""
    log = AuditLog(directory / "audit-log.jsonl", signer or test_signer(), fixed_clock())
    for n in range(entries):
        if n % 2:
            log.append(PROMOTION, promotion(by=f"user{n}"))
        else:
            log.append(DECISION, decision(package=f"pkg{n}"))
    return log
