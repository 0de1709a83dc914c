"""A case's clock and its lifecycle. Pure: every time is passed in.

waiting --ready--> running <--pause/resume--> paused;  any open state --> met | cancelled.
Paused time does not count: on resume the deadline moves by the length of the pause.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from .policy import SlaPolicy


class ClockState(StrEnum):
    WAITING = "waiting"  # not started: its tier starts when records are complete
    RUNNING = "running"
    PAUSED = "paused"  # started, then the case went back to awaiting records
    MET = "met"  # the opinion is ready
    CANCELLED = "cancelled"  # the case was closed without an opinion


OPEN = (ClockState.WAITING, ClockState.RUNNING, ClockState.PAUSED)


class Standing(StrEnum):
    """How an open clock stands, for the read model."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    PAUSED = "paused"


@dataclass(frozen=True)
class Clock:
    case_id: str
    tier: str
    tumor_group: str | None
    state: ClockState
    case_status: str
    opened_at: datetime
    turnaround: timedelta
    started_at: datetime | None = None
    deadline: datetime | None = None
    paused_at: datetime | None = None
    paused_for: timedelta = timedelta(0)
    stopped_at: datetime | None = None
    on_time: bool | None = None
    actual_turnaround: timedelta | None = None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN


def open_clock(policy: SlaPolicy, case_id: str, tier: str, tumor_group: str | None,
               case_status: str, opened_at: datetime) -> Clock:
    """The clock of a newly opened case: running from opening for tiers that start at once or
    when the records are already complete, otherwise waiting for them."""
    tier_policy = policy.tier(tier)
    clock = Clock(case_id, policy.tier_name(tier), tumor_group, ClockState.WAITING, case_status,
                  opened_at, tier_policy.turnaround)
    if tier_policy.clock_starts == "opened" or case_status == "ready":
        return start(clock, opened_at)
    return clock


def start(clock: Clock, at: datetime) -> Clock:
    return replace(clock, state=ClockState.RUNNING, started_at=at, deadline=at + clock.turnaround)


def pause(clock: Clock, at: datetime) -> Clock:
    return replace(clock, state=ClockState.PAUSED, paused_at=at)


def resume(clock: Clock, at: datetime) -> Clock:
    assert clock.paused_at is not None and clock.deadline is not None
    held = max(at - clock.paused_at, timedelta(0))
    return replace(clock, state=ClockState.RUNNING, paused_at=None,
                   paused_for=clock.paused_for + held, deadline=clock.deadline + held)


def records_changed(policy: SlaPolicy, clock: Clock, status: str,
                    at: datetime) -> tuple[Clock, str | None]:
    """The clock after the case's records status changed, and what happened to it
    (`started`, `resumed`, `paused` or None)."""
    clock = replace(clock, case_status=status)
    if status == "ready":
        if clock.state is ClockState.WAITING:
            return start(clock, at), "started"
        if clock.state is ClockState.PAUSED:
            return resume(clock, at), "resumed"
    elif (status == "awaiting_records" and clock.state is ClockState.RUNNING
          and policy.pause_while_awaiting_records
          and policy.tier(clock.tier).clock_starts == "ready"):
        return pause(clock, at), "paused"
    return clock, None


def running_time(clock: Clock, at: datetime) -> timedelta:
    """Time the clock has run by `at`, pauses excluded."""
    if clock.started_at is None:
        return timedelta(0)
    until = clock.paused_at if clock.state is ClockState.PAUSED and clock.paused_at else at
    return max(until - clock.started_at - clock.paused_for, timedelta(0))


def meet(clock: Clock, at: datetime) -> Clock:
    """The opinion is ready: stop the clock, on time or late, with the actual turnaround."""
    ran = running_time(clock, at)
    return replace(clock, state=ClockState.MET, stopped_at=at, actual_turnaround=ran,
                   on_time=ran <= clock.turnaround, paused_at=None)


def cancel(clock: Clock, at: datetime) -> Clock:
    return replace(clock, state=ClockState.CANCELLED, stopped_at=at)


def remaining(clock: Clock, now: datetime) -> timedelta:
    """Time left before the deadline (negative once breached); frozen while not running."""
    return clock.turnaround - running_time(clock, now)


def standing(clock: Clock, now: datetime, at_risk_at: float) -> Standing:
    left = remaining(clock, now)
    if left <= timedelta(0):
        return Standing.BREACHED
    if clock.state is not ClockState.RUNNING:
        return Standing.PAUSED
    if left <= clock.turnaround * (1 - at_risk_at):
        return Standing.AT_RISK
    return Standing.ON_TRACK
