"""The promotion rule (pure): which stage may follow which, and what history it needs.

Promotions walk the policy's stages in order: ``--to`` must be the stage right
after ``--from``.  The environment (by its artifact digest) must already stand
at ``--from``: the audit log holds, for that digest, either a gate decision at
``--from`` that passed (``pass`` or ``warn``) or a promotion *to* ``--from``.
The first stage needs no history (it is where environments enter).  The
decision at ``--to`` is then made by the engine like any gate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from assay.policy.model import Decision, Outcome, Policy

PASSING = frozenset({Outcome.PASS.value, Outcome.WARN.value})


class LoggedEntry(Protocol):
    """What the rule reads of an audit-log entry."""

    @property
    def seq(self) -> int: ...

    @property
    def kind(self) -> str: ...

    @property
    def record(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Standing:
    """Why an environment stands at a stage: the entry that put it there (None: first stage)."""

    stage: str
    seq: int | None


def stage_problem(policy: Policy, from_stage: str, to_stage: str) -> str | None:
    """Why ``from_stage -> to_stage`` is not a promotion this policy allows, or None."""
    stages = policy.stages
    for stage in (from_stage, to_stage):
        if stage not in stages:
            return f"unknown stage {stage!r}: {policy.source} defines {', '.join(stages)}"
    position = stages.index(from_stage)
    if position + 1 >= len(stages) or stages[position + 1] != to_stage:
        following = stages[position + 1] if position + 1 < len(stages) else None
        allowed = (
            f"the only promotion from {from_stage!r} is to {following!r}"
            if following
            else (f"{from_stage!r} is the last stage")
        )
        return f"cannot promote from {from_stage!r} to {to_stage!r}: {allowed}"
    return None


def standing(
    policy: Policy, entries: Iterable[LoggedEntry], digest: str, stage: str
) -> Standing | None:
    """The latest entry that puts ``digest`` at ``stage``; None when there is none.

    The first stage of the policy needs no entry (``Standing(stage, None)``).
    """
    found: int | None = None
    for entry in entries:
        record = entry.record
        if record.get("environment_digest") != digest:
            continue
        if entry.kind == "decision":
            at_stage = record.get("stage") == stage and record.get("outcome") in PASSING
        elif entry.kind == "promotion":
            at_stage = record.get("to_stage") == stage and record.get("outcome") in PASSING
        else:
            at_stage = False
        if at_stage:
            found = entry.seq
    if found is not None:
        return Standing(stage, found)
    if policy.stages and stage == policy.stages[0]:
        return Standing(stage, None)
    return None


def remaining_reasons(decision: Decision) -> list[dict[str, Any]]:
    """The reasons a passing promotion carries: warnings and waived reasons."""
    return [
        r.to_record()
        for r in decision.reasons
        if r.effective != Outcome.PASS or r.waiver is not None
    ]
