"""A case's clock follows intake's events: opened, records complete or missing, closed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg

from oncoroute_shared.contracts.cases import CaseClosed, CaseOpened, CaseUpdated
from oncoroute_shared.contracts.sla import SlaStarted, SlaStep
from oncoroute_shared.envelope import CloudEvent
from oncoroute_shared.messaging.outbox import emit
from oncoroute_shared.metrics import SLA_ESCALATIONS, TURNAROUND

from ..adapters import clocks, timers
from ..domain.clock import Clock, ClockState, cancel, meet, open_clock, records_changed
from ..domain.policy import SlaPolicy
from ..domain.schedule import (
    CLOCK_KINDS,
    StepKind,
    clock_steps,
    records_reminder,
    repeat_on_resume,
)
from . import SOURCE

UNKNOWN_TIER = ""  # a clock stopped by an opinion that arrived before case.opened


async def on_case_opened(conn: asyncpg.Connection, _event: CloudEvent, case: CaseOpened,
                         policy: SlaPolicy, now: datetime) -> None:
    c = case.classification
    clock = open_clock(policy, case.case_id, c.tier, c.tumor_group, case.status, case.opened_at)
    existing = await clocks.lock(conn, case.case_id)
    if existing is None and await clocks.insert(conn, clock):
        await clocks.record(conn, clock.case_id, now, "opened", opened_line(clock, case))
        if clock.state is ClockState.RUNNING:
            await _started(conn, policy, clock)
        else:
            await _held(conn, policy, clock, case.opened_at)
        if policy.tier(clock.tier).expedite:
            await expedite(conn, policy, clock, now)
        return
    existing = existing or await clocks.lock(conn, case.case_id)
    if existing is not None and existing.tier == UNKNOWN_TIER and existing.stopped_at:
        await _met(conn, meet(clock, existing.stopped_at), now)  # the opinion came first


async def on_case_updated(conn: asyncpg.Connection, event: CloudEvent, update: CaseUpdated,
                          policy: SlaPolicy, now: datetime) -> None:
    clock = await clocks.lock(conn, update.case_id)
    if clock is None or not clock.is_open:
        return
    if update.status == "closed":
        await _cancel(conn, clock, event.time, "closed", now)
        return
    changed, what = records_changed(policy, clock, update.status, event.time)
    await clocks.save(conn, changed)
    if changed.case_status == "ready":
        await timers.disarm(conn, clock.case_id, (StepKind.RECORDS,))
    if what == "started":
        await _started(conn, policy, changed)
    elif what == "paused":
        await timers.disarm(conn, clock.case_id, CLOCK_KINDS)
        await _held(conn, policy, changed, event.time)
    elif what == "resumed":
        steps = clock_steps(policy, changed)
        again = repeat_on_resume(policy, await timers.fired_steps(conn, clock.case_id),
                                 event.time)
        await timers.arm(conn, clock.case_id, steps + ([again] if again else []))
        await _announce(conn, "sla.resumed", changed, "resumed", event.time)
    if what:
        await clocks.record(conn, clock.case_id, now, what, {"status": update.status})


async def on_case_closed(conn: asyncpg.Connection, event: CloudEvent, closed: CaseClosed,
                         now: datetime) -> None:
    clock = await clocks.lock(conn, closed.case_id)
    if clock is None:
        return
    if clock.is_open:
        await _cancel(conn, clock, event.time, closed.reason, now)
    else:
        await timers.disarm(conn, clock.case_id)


async def _cancel(conn: asyncpg.Connection, clock: Clock, at: datetime, reason: str,
                  now: datetime) -> None:
    await clocks.save(conn, cancel(clock, at))
    await timers.disarm(conn, clock.case_id)
    await clocks.record(conn, clock.case_id, now, "cancelled", {"reason": reason})


def started(clock: Clock) -> SlaStarted:
    assert clock.started_at is not None and clock.deadline is not None
    return SlaStarted(case_id=clock.case_id, tier=clock.tier, started_at=clock.started_at,
                      deadline=clock.deadline,
                      turnaround_seconds=clock.turnaround.total_seconds())


def announcement(clock: Clock, step: str, at: datetime) -> SlaStep:
    return SlaStep(case_id=clock.case_id, tier=clock.tier, step=step, deadline=clock.deadline,
                   fired_at=at)


def opened_line(clock: Clock, case: CaseOpened) -> dict[str, Any]:
    """The clock history's detail for its opening."""
    return {"tier": clock.tier, "status": case.status}


async def _started(conn: asyncpg.Connection, policy: SlaPolicy, clock: Clock) -> None:
    await timers.arm(conn, clock.case_id, clock_steps(policy, clock))
    await emit(conn, "sla.started", source=SOURCE, case_id=clock.case_id, data=started(clock))


async def _held(conn: asyncpg.Connection, policy: SlaPolicy, clock: Clock,
                at: datetime) -> None:
    """The clock does not run while records are missing; the submitter is reminded."""
    reminder = records_reminder(policy, 1, at)
    if reminder:
        await timers.arm(conn, clock.case_id, [reminder])
    await _announce(conn, "sla.paused", clock, "paused", at)


async def expedite(conn: asyncpg.Connection, policy: SlaPolicy, clock: Clock,
                    now: datetime) -> None:
    """Fast-progressing cancers: page the on-call lead at opening, and let the matcher use
    reserve capacity (it reads `sla.escalated` with level `expedite`)."""
    if not await timers.record_fired(conn, clock.case_id, StepKind.EXPEDITE.value,
                                     clock.opened_at, now):
        return
    lateness = max((now - clock.opened_at).total_seconds(), 0.0)
    await emit(conn, "sla.escalated", source=SOURCE, case_id=clock.case_id, data=SlaStep(
        case_id=clock.case_id, tier=clock.tier, step=StepKind.EXPEDITE.value, level="expedite",
        audience=list(policy.expedite.audience), deadline=clock.deadline,
        due_at=clock.opened_at, fired_at=now, lateness_seconds=lateness))
    SLA_ESCALATIONS.labels(clock.tier, "expedite").inc()


async def _announce(conn: asyncpg.Connection, short: str, clock: Clock, step: str,
                    at: datetime) -> None:
    await emit(conn, short, source=SOURCE, case_id=clock.case_id,
               data=announcement(clock, step, at))


async def _met(conn: asyncpg.Connection, clock: Clock, now: datetime) -> None:
    assert clock.stopped_at is not None and clock.actual_turnaround is not None
    await clocks.save(conn, clock)
    await timers.disarm(conn, clock.case_id)
    late = max((clock.actual_turnaround - clock.turnaround).total_seconds(), 0.0)
    await clocks.record(conn, clock.case_id, now, "met", {
        "on_time": clock.on_time, "turnaround_seconds": clock.actual_turnaround.total_seconds()})
    await emit(conn, "sla.met", source=SOURCE, case_id=clock.case_id, data=SlaStep(
        case_id=clock.case_id, tier=clock.tier, step="met", deadline=clock.deadline,
        due_at=clock.deadline, fired_at=clock.stopped_at, lateness_seconds=late,
        on_time=clock.on_time, turnaround_seconds=clock.actual_turnaround.total_seconds()))
    TURNAROUND.labels(clock.tier).observe(clock.actual_turnaround.total_seconds())


async def stop_on_opinion(conn: asyncpg.Connection, case_id: str, at: datetime,
                          now: datetime) -> None:
    """The opinion is ready: the clock stops with `sla.met`, on time or late."""
    clock = await clocks.lock(conn, case_id)
    if clock is None:  # case.opened not consumed yet: remember the stop for when it is
        await clocks.insert(conn, Clock(case_id, UNKNOWN_TIER, None, ClockState.MET, "ready", at,
                                        timedelta(0), stopped_at=at))
        await timers.disarm(conn, case_id)
        await clocks.record(conn, case_id, now, "opinion_before_opened")
        return
    if clock.is_open:
        await _met(conn, meet(clock, at), now)
