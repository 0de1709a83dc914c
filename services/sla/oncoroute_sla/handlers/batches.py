"""Sla's background events a batch at a time. The common ones (a case opened, a seat offered)
go through set-based statements: five or six round trips for the batch instead of six for
each event. Every other event, and every event of a case with anything else in the batch,
goes back to its own handler, in order, after these: the same clocks, timers, history,
offers and events either way (tests/integration/test_sla_batches.py).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import asyncpg

from oncoroute_shared.contracts.assignments import AssignmentOffered
from oncoroute_shared.contracts.cases import CaseOpened
from oncoroute_shared.messaging.consumer import Batched
from oncoroute_shared.messaging.outbox import OutboxRow, enqueue_rows, outbox_row

from ..adapters import board, clocks, offers, timers
from ..domain.clock import Clock, ClockState, open_clock
from ..domain.policy import SlaPolicy
from ..domain.schedule import Step, acceptance_step, clock_steps, records_reminder
from . import SOURCE
from .assignments import armed_line, offer_of
from .cases import announcement, expedite, opened_line, started


def _alone(items: list[Batched], kind: type) -> tuple[list[Batched], list[Batched]]:
    """The events of `kind` whose case has no other kind of event in the batch (and no
    second event for the same thing), and all the others, each in the batch's order."""
    cases: dict[str, list[Batched]] = defaultdict(list)
    for item in items:
        cases[item.data.case_id].append(item)
    mine: set[str] = set()
    for case_id, events in cases.items():
        if all(isinstance(b.data, kind) for b in events) and len(events) == len(
                {getattr(b.data, "assignment_id", case_id) for b in events}):
            mine.add(case_id)
    return ([b for b in items if b.data.case_id in mine],
            [b for b in items if b.data.case_id not in mine])


async def on_case_events(conn: asyncpg.Connection, items: list[Batched], policy: SlaPolicy,
                         now: datetime) -> list[Batched]:
    bulk, rest = _alone(items, CaseOpened)
    return await _open(conn, bulk, policy, now) + rest if bulk else rest


async def on_assignment_events(conn: asyncpg.Connection, items: list[Batched],
                               policy: SlaPolicy, now: datetime) -> list[Batched]:
    bulk, rest = _alone(items, AssignmentOffered)
    return await _offer(conn, bulk, policy, now) + rest if bulk else rest


async def _open(conn: asyncpg.Connection, items: list[Batched], policy: SlaPolicy,
                now: datetime) -> list[Batched]:
    """`cases.on_case_opened` and `board.on_case_opened` for cases new to sla; a case sla
    already knows (an opinion that came first, a race with another process) is left."""
    existing = await clocks.lock_many(conn, [b.data.case_id for b in items])
    made: dict[str, tuple[Batched, Clock]] = {}
    for b in items:
        case: CaseOpened = b.data
        if case.case_id not in existing:
            c = case.classification
            made[case.case_id] = (b, open_clock(policy, case.case_id, c.tier, c.tumor_group,
                                                case.status, case.opened_at))
    created = await clocks.insert_many(
        conn, [(clock, b.data.submission.source) for b, clock in made.values()]) if made else set()
    steps: list[tuple[str, Step]] = []
    rows: list[OutboxRow] = []
    for b, clock in (made[case_id] for case_id in made if case_id in created):
        with b.traced():
            if clock.state is ClockState.RUNNING:
                steps += [(clock.case_id, s) for s in clock_steps(policy, clock)]
                rows.append(outbox_row("sla.started", source=SOURCE, case_id=clock.case_id,
                                       data=started(clock)))
            else:
                reminder = records_reminder(policy, 1, b.data.opened_at)
                steps += [(clock.case_id, reminder)] if reminder else []
                rows.append(outbox_row("sla.paused", source=SOURCE, case_id=clock.case_id,
                                       data=announcement(clock, "paused", b.data.opened_at)))
    await clocks.record_many(conn, [(b.data.case_id, now, "opened", opened_line(clock, b.data))
                                    for b, clock in made.values() if clock.case_id in created])
    await timers.arm_many(conn, steps)
    await enqueue_rows(conn, rows)
    for b, clock in made.values():
        if clock.case_id in created and policy.tier(clock.tier).expedite:
            with b.traced():
                await expedite(conn, policy, clock, now)
    return [b for b in items if b.data.case_id not in created]


async def _offer(conn: asyncpg.Connection, items: list[Batched], policy: SlaPolicy,
                 now: datetime) -> list[Batched]:
    """`assignments.on_offered` and `board.on_offered` for offers new to sla. An offer sla
    already has is left: its own handler then only refreshes the board's details of it,
    which do not depend on the order of the case's other offers."""
    new = await offers.add_many(conn, [
        (offer_of(o), o.offered_at, o.tumor_group, o.reviewer.name, o.reviewer.max_active)
        for o in (b.data for b in items)])
    taken: list[AssignmentOffered] = [b.data for b in items if b.data.assignment_id in new]
    held = await clocks.lock_many(conn, sorted({o.case_id for o in taken})) if taken else {}
    armed = []
    for o in taken:
        clock = held.get(o.case_id)
        if clock is None or clock.is_open:
            armed.append((o, acceptance_step(policy, o.tier, o.assignment_id, o.offered_at)))
    await timers.arm_many(conn, [(o.case_id, step) for o, step in armed])
    await clocks.record_many(conn, [(o.case_id, now, "acceptance_armed",
                                     armed_line(offer_of(o), step)) for o, step in armed])
    await board.seats_taken(conn, [(o.case_id, o.seat) for o in taken])
    return [b for b in items if b.data.assignment_id not in new]
