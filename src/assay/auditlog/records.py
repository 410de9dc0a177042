"""The records assay logs: kinds and the shape of a promotion record (pure).

``assay gate`` logs ``kind="decision"`` with ``decision_record(...)``;
``assay promote`` logs ``kind="promotion"`` with ``promotion_record(...)``.
``assay log show`` filters on these keys, and ``assay log attest`` turns a
promotion record into an in-toto statement.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

DECISION = "decision"
PROMOTION = "promotion"

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def check_digest(value: object, what: str) -> str:
    """``value`` if it is ``sha256:<64 lowercase hex>``, else ``ValueError``."""
    if not isinstance(value, str) or not _DIGEST.match(value):
        raise ValueError(f"{what} must be 'sha256:<64 hex digits>', got {value!r}")
    return value


def promotion_record(
    *,
    environment: str,
    environment_digest: str,
    from_stage: str,
    to_stage: str,
    by: str,
    policy_digest: str,
    outcome: str,
    waivers_used: Iterable[Mapping[str, Any] | str] = (),
    reasons: Iterable[Mapping[str, Any] | str] = (),
) -> dict[str, Any]:
    """The record of one promotion of an environment between two stages."""
    return {
        "environment": environment,
        "environment_digest": check_digest(environment_digest, "environment_digest"),
        "from_stage": from_stage,
        "to_stage": to_stage,
        "by": by,
        "policy_digest": check_digest(policy_digest, "policy_digest"),
        "outcome": outcome,
        "waivers_used": [w if isinstance(w, str) else dict(w) for w in waivers_used],
        "reasons": [r if isinstance(r, str) else dict(r) for r in reasons],
    }


def decision_record(
    decision: Mapping[str, Any], *, environment: str, environment_digest: str
) -> dict[str, Any]:
    """A gate decision (``Decision.to_record()``) with the environment it was about."""
    return {
        **decision,
        "environment": environment,
        "environment_digest": check_digest(environment_digest, "environment_digest"),
    }
