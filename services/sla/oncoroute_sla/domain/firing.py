"""What a timer that fell due announces, and which timer follows it. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from oncoroute_shared.contracts.sla import SlaStep

from .clock import Clock, ClockState
from .policy import SlaPolicy
from .schedule import Step, StepKind, StepRef, parse, records_reminder, repeat_after


@dataclass(frozen=True)
class DueTimer:
    case_id: str
    step: str
    due_at: datetime
    fired_at: datetime


@dataclass(frozen=True)
class Offer:
    assignment_id: str
    case_id: str
    seat: str
    reviewer_id: str
    tier: str
    status: str


@dataclass(frozen=True)
class Firing:
    """The event to emit (None: the step no longer applies) and the timer to arm next."""

    event_type: str | None = None
    data: SlaStep | None = None
    follow_up: Step | None = None


def _lateness(timer: DueTimer) -> float:
    return max((timer.fired_at - timer.due_at).total_seconds(), 0.0)


def fire(policy: SlaPolicy, timer: DueTimer, clock: Clock | None,
         offer: Offer | None) -> Firing:
    ref = parse(timer.step)
    if ref.kind is StepKind.ACCEPTANCE:
        return _acceptance(policy, timer, clock, offer)
    if clock is None:
        return Firing()
    if ref.kind is StepKind.RECORDS:
        return _records(policy, timer, clock, ref)
    if clock.state is not ClockState.RUNNING:
        return Firing()  # paused or stopped since it was claimed
    return _clock_step(policy, timer, clock, ref)


def _step(timer: DueTimer, clock: Clock, **fields: object) -> SlaStep:
    return SlaStep.model_validate({
        "case_id": timer.case_id, "tier": clock.tier, "step": timer.step,
        "deadline": clock.deadline, "due_at": timer.due_at, "fired_at": timer.fired_at,
        "lateness_seconds": _lateness(timer), **fields})


def _clock_step(policy: SlaPolicy, timer: DueTimer, clock: Clock, ref: StepRef) -> Firing:
    if ref.kind is StepKind.WARNING:
        assert ref.fraction is not None
        mark = next((w for w in policy.warnings if w.at == ref.fraction), None)
        audience = list(mark.audience) if mark else ["reviewers"]
        return Firing("sla.warning", _step(timer, clock, fraction=ref.fraction,
                                           audience=audience))
    if ref.kind is StepKind.ESCALATION:
        assert ref.level is not None
        levels = policy.escalation.levels
        level = levels[min(ref.level, len(levels)) - 1] if levels else None
        audience = list(level.audience) if level else ["operators_on_call"]
        data = _step(timer, clock, level=str(ref.level), fraction=level.at if level else None,
                     audience=audience, repeat=ref.repeat)
        return Firing("sla.escalated", data,
                      repeat_after(policy, ref, timer.due_at, timer.fired_at))
    if ref.kind is StepKind.BREACH:
        return Firing("sla.breached", _step(timer, clock, fraction=1.0,
                                            audience=list(policy.breach.audience)))
    return Firing()


def _acceptance(policy: SlaPolicy, timer: DueTimer, clock: Clock | None,
                offer: Offer | None) -> Firing:
    if offer is None or offer.status != "offered":
        return Firing()  # answered (or never known): nothing expires
    if clock is not None and not clock.is_open:
        return Firing()
    data = SlaStep(case_id=timer.case_id, tier=clock.tier if clock else offer.tier,
                   step=timer.step, assignment_id=offer.assignment_id, seat=offer.seat,
                   reviewer_id=offer.reviewer_id, deadline=clock.deadline if clock else None,
                   audience=list(policy.acceptance_expiry.audience),
                   due_at=timer.due_at, fired_at=timer.fired_at,
                   lateness_seconds=_lateness(timer))
    return Firing("sla.acceptance_expired", data)


def _records(policy: SlaPolicy, timer: DueTimer, clock: Clock, ref: StepRef) -> Firing:
    if clock.case_status != "awaiting_records" or not clock.is_open:
        return Firing()
    data = _step(timer, clock, audience=list(policy.records_reminders.audience))
    follow = records_reminder(policy, ref.number + 1, timer.due_at, after=timer.fired_at)
    return Firing("sla.warning", data, follow)
