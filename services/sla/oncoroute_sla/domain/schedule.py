"""Which timers a clock arms, when each falls due, and the name that makes each unique.

A timer is identified by (case id, step name); the name says what it is:
`warning:0.5`, `escalation:1`, `escalation:2:repeat:3`, `breach`, `acceptance:<assignment id>`,
`records:2`, `expedite`. Names never change meaning, so a fired step is never armed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .clock import Clock, ClockState
from .policy import SlaPolicy


class StepKind(StrEnum):
    WARNING = "warning"
    ESCALATION = "escalation"
    BREACH = "breach"
    ACCEPTANCE = "acceptance"
    RECORDS = "records"
    EXPEDITE = "expedite"


# Steps that follow the clock's own time (removed on pause, re-armed on resume).
CLOCK_KINDS = (StepKind.WARNING, StepKind.ESCALATION, StepKind.BREACH)


@dataclass(frozen=True)
class Step:
    name: str
    due_at: datetime


@dataclass(frozen=True)
class StepRef:
    """A step name taken apart."""

    kind: StepKind
    fraction: float | None = None  # warnings
    level: int | None = None  # escalations
    repeat: int = 0  # escalation repeats
    assignment_id: str | None = None  # acceptance timers
    number: int = 0  # records reminders


def parse(name: str) -> StepRef:
    kind, _, rest = name.partition(":")
    match StepKind(kind):
        case StepKind.WARNING:
            return StepRef(StepKind.WARNING, fraction=float(rest))
        case StepKind.ESCALATION:
            level, _, repeat = rest.partition(":repeat:")
            return StepRef(StepKind.ESCALATION, level=int(level), repeat=int(repeat or 0))
        case StepKind.ACCEPTANCE:
            return StepRef(StepKind.ACCEPTANCE, assignment_id=rest)
        case StepKind.RECORDS:
            return StepRef(StepKind.RECORDS, number=int(rest))
        case other:
            return StepRef(other)


def warning_name(fraction: float) -> str:
    return f"warning:{fraction:g}"


def escalation_name(level: int, repeat: int = 0) -> str:
    return f"escalation:{level}" + (f":repeat:{repeat}" if repeat else "")


def at_fraction(clock: Clock, fraction: float) -> datetime:
    """When the clock reaches `fraction` of its turnaround (its current deadline minus the rest)."""
    assert clock.deadline is not None
    return clock.deadline - clock.turnaround * (1 - fraction)


def clock_steps(policy: SlaPolicy, clock: Clock) -> list[Step]:
    """Warnings, escalation levels and breach of a running clock."""
    if clock.state is not ClockState.RUNNING:
        return []
    steps = [Step(warning_name(w.at), at_fraction(clock, w.at)) for w in policy.warnings]
    steps += [Step(escalation_name(i), at_fraction(clock, lvl.at))
              for i, lvl in enumerate(policy.escalation.levels, start=1)]
    steps.append(Step(StepKind.BREACH.value, at_fraction(clock, 1.0)))
    return sorted(steps, key=lambda s: s.due_at)


def _next_after(due: datetime, every: timedelta, after: datetime) -> datetime:
    """`due + k * every` for the smallest k >= 1 landing after `after`: a late step is followed
    by one repeat in the future, not a burst of catch-up repeats."""
    nxt = due + every
    if nxt <= after:
        nxt += every * ((after - nxt) // every + 1)
    return nxt


def repeat_after(policy: SlaPolicy, ref: StepRef, due: datetime,
                 fired_at: datetime) -> Step | None:
    """The repeat that follows a fired escalation of the last level, if the policy repeats."""
    every = policy.escalation.repeat_every
    if every is None or ref.level != len(policy.escalation.levels):
        return None
    return Step(escalation_name(len(policy.escalation.levels), ref.repeat + 1),
                _next_after(due, every, fired_at))


def repeat_on_resume(policy: SlaPolicy, fired: list[str], at: datetime) -> Step | None:
    """On resume, the next repeat if the last level had already fired before the pause."""
    every, top = policy.escalation.repeat_every, len(policy.escalation.levels)
    ours = [parse(n) for n in fired if n.startswith(f"{StepKind.ESCALATION}:")]
    if every is None or not any(r.level == top for r in ours):
        return None
    done = max((r.repeat for r in ours if r.level == top), default=0)
    return Step(escalation_name(top, done + 1), at + every)


def acceptance_step(policy: SlaPolicy, tier: str, assignment_id: str,
                    offered_at: datetime) -> Step:
    return Step(f"{StepKind.ACCEPTANCE}:{assignment_id}",
                offered_at + policy.tier(tier).acceptance_timeout)


def records_reminder(policy: SlaPolicy, number: int, since: datetime,
                     after: datetime | None = None) -> Step | None:
    """Reminder `number` for a case waiting for records (`since`: the previous one's due time)."""
    every = policy.records_reminders.every
    if every is None:
        return None
    due = _next_after(since, every, after) if after is not None else since + every
    return Step(f"{StepKind.RECORDS}:{number}", due)
