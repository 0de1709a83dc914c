"""Acceptance timers follow the matcher's offers; the opinion stops the clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from oncoroute_shared.contracts.assignments import (
    AssignmentChanged,
    AssignmentOffered,
    CaseOpinionReady,
)
from oncoroute_shared.envelope import CloudEvent

from ..adapters import clocks, offers, timers
from ..domain.firing import Offer
from ..domain.policy import SlaPolicy
from ..domain.schedule import Step, acceptance_step
from .cases import stop_on_opinion


async def on_offered(conn: asyncpg.Connection, _event: CloudEvent, offered: AssignmentOffered,
                     policy: SlaPolicy, now: datetime) -> None:
    """Arm the acceptance timer of the offered seat."""
    offer = offer_of(offered)
    if not await offers.add(conn, offer, offered.offered_at):
        return
    clock = await clocks.lock(conn, offered.case_id)
    if clock is not None and not clock.is_open:
        return  # the opinion is in or the case closed: nothing to wait for
    step = acceptance_step(policy, offered.tier, offered.assignment_id, offered.offered_at)
    await timers.arm(conn, offered.case_id, [step])
    await clocks.record(conn, offered.case_id, now, "acceptance_armed", armed_line(offer, step))


def offer_of(offered: AssignmentOffered) -> Offer:
    return Offer(offered.assignment_id, offered.case_id, offered.seat, offered.reviewer.id,
                 offered.tier, "offered")


def armed_line(offer: Offer, step: Step) -> dict[str, Any]:
    """The clock history's detail for an acceptance timer armed."""
    return {"assignment_id": offer.assignment_id, "seat": offer.seat,
            "reviewer_id": offer.reviewer_id, "due_at": step.due_at.isoformat()}


async def on_answered(conn: asyncpg.Connection, _event: CloudEvent, change: AssignmentChanged,
                      status: str, now: datetime) -> None:
    """Accepted, declined, completed, expired or released (withdrawn, reassigned): the
    acceptance timer has nothing left to wait for."""
    await offers.settle(conn, change.assignment_id, status, change.at)
    removed = await timers.disarm(conn, change.case_id, step=f"acceptance:{change.assignment_id}")
    await clocks.record(conn, change.case_id, now, f"offer_{status}", {
        "assignment_id": change.assignment_id, "seat": change.seat,
        "reviewer_id": change.reviewer_id, "timer_disarmed": bool(removed)})


async def on_opinion_ready(conn: asyncpg.Connection, event: CloudEvent, ready: CaseOpinionReady,
                           now: datetime) -> None:
    await stop_on_opinion(conn, ready.case_id, event.time, now)
