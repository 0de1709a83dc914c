"""Fire a batch of due timers: claim, decide, emit and arm follow-ups in one transaction."""

from __future__ import annotations

import logging
from collections import Counter

import asyncpg

from oncoroute_shared.messaging.outbox import emit_many

from ..adapters import clocks, offers, timers
from ..domain.firing import DueTimer, fire
from ..domain.policy import SlaPolicy
from ..domain.schedule import StepKind, StepRef, parse
from . import SOURCE

log = logging.getLogger("oncoroute.sla.timers")


async def fire_due(conn: asyncpg.Connection, policy: SlaPolicy,
                   limit: int) -> tuple[list[DueTimer], Counter[str]]:
    """Fire up to `limit` due timers inside the caller's transaction. Returns the timers
    claimed and the count of events emitted by type."""
    due = await timers.claim_due(conn, limit)
    if not due:
        return [], Counter()
    by_case = await clocks.get_many(conn, list({t.case_id for t in due}))
    refs = {t.step: _ref(t) for t in due}
    by_offer = await offers.get_many(conn, [r.assignment_id for r in refs.values()
                                            if r and r.kind is StepKind.ACCEPTANCE
                                            and r.assignment_id])
    events, follow_ups = [], []
    for timer in due:
        ref = refs[timer.step]
        if ref is None:
            continue  # fired (so never retried) but announces nothing
        offer = by_offer.get(ref.assignment_id) if ref.assignment_id else None
        firing = fire(policy, timer, by_case.get(timer.case_id), offer)
        if firing.event_type and firing.data:
            events.append((firing.event_type, timer.case_id, firing.data))
        if firing.follow_up:
            follow_ups.append((timer.case_id, firing.follow_up))
    await emit_many(conn, events, source=SOURCE)
    await timers.arm_many(conn, follow_ups)
    return due, Counter(short for short, _, _ in events)


def _ref(timer: DueTimer) -> StepRef | None:
    try:
        return parse(timer.step)
    except ValueError:
        log.error("timer %s of case %s has an unknown step name; not announced",
                  timer.step[:60], timer.case_id)
        return None
