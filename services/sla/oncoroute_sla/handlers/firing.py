"""Fire a batch of due timers: claim, decide, emit and arm follow-ups in one transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import asyncpg

from oncoroute_shared.contracts.sla import SlaStep
from oncoroute_shared.messaging.outbox import emit_many

from ..adapters import clocks, offers, timers
from ..domain.firing import DueTimer, fire
from ..domain.policy import SlaPolicy
from ..domain.schedule import StepKind, StepRef, parse
from . import SOURCE

log = logging.getLogger("oncoroute.sla.timers")


@dataclass(frozen=True)
class Announced:
    event_type: str
    step: SlaStep
    tumor_group: str | None


@dataclass
class Batch:
    """The timers one transaction fired and what they announced."""

    due: list[DueTimer] = field(default_factory=list)
    announced: list[Announced] = field(default_factory=list)


async def fire_due(conn: asyncpg.Connection, policy: SlaPolicy, limit: int) -> Batch:
    """Fire up to `limit` due timers inside the caller's transaction."""
    due = await timers.claim_due(conn, limit)
    if not due:
        return Batch()
    by_case = await clocks.get_many(conn, list({t.case_id for t in due}))
    refs = {t.step: _ref(t) for t in due}
    by_offer = await offers.get_many(conn, [r.assignment_id for r in refs.values()
                                            if r and r.kind is StepKind.ACCEPTANCE
                                            and r.assignment_id])
    announced, follow_ups = [], []
    for timer in due:
        ref = refs[timer.step]
        if ref is None:
            continue  # fired (so never retried) but announces nothing
        offer = by_offer.get(ref.assignment_id) if ref.assignment_id else None
        firing = fire(policy, timer, by_case.get(timer.case_id), offer)
        if firing.event_type and firing.data:
            clock = by_case.get(timer.case_id)
            announced.append(Announced(firing.event_type, firing.data,
                                       clock.tumor_group if clock else None))
        if firing.follow_up:
            follow_ups.append((timer.case_id, firing.follow_up))
    await emit_many(conn, [(a.event_type, a.step.case_id, a.step) for a in announced],
                    source=SOURCE)
    await timers.arm_many(conn, follow_ups)
    return Batch(due, announced)


def _ref(timer: DueTimer) -> StepRef | None:
    try:
        return parse(timer.step)
    except ValueError:
        log.error("timer %s of case %s has an unknown step name; not announced",
                  timer.step[:60], timer.case_id)
        return None
