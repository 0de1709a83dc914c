"""Notify's events a batch at a time. A case opened and a seat offered, when they are the only
event of their case in the batch, are planned together: a few round trips for the batch
instead of three or four for each event. Every other event goes back to its own handler, in
order, after these: the same deliveries, copies of cases and offers either way
(tests/integration/test_notify_batches.py).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import asyncpg

from oncoroute_shared.contracts.assignments import AssignmentOffered
from oncoroute_shared.contracts.cases import CaseOpened
from oncoroute_shared.messaging.consumer import Batched

from ..adapters import cases, deliveries
from ..domain.facts import facts_from_opened, offer_from
from . import Deps
from .events import messages_for, planned, unpark


async def on_batch(conn: asyncpg.Connection, items: list[Batched], deps: Deps,
                   now: datetime) -> list[Batched]:
    per_case = Counter(b.data.case_id for b in items)
    alone = [b for b in items if per_case[b.data.case_id] == 1]
    opened = [b for b in alone if isinstance(b.data, CaseOpened)]
    offered = [b for b in alone if isinstance(b.data, AssignmentOffered)]
    taken = {id(b) for b in opened + offered}
    left = await _open(conn, opened, deps, now) if opened else []
    if offered:
        await _offer(conn, offered, deps, now)
    return left + [b for b in items if id(b) not in taken]


async def _open(conn: asyncpg.Connection, items: list[Batched], deps: Deps,
                now: datetime) -> list[Batched]:
    """`events.on_event` for cases new to notify; a case stored before is left (its own
    handler then does nothing, as for any redelivered opening)."""
    facts = {b.data.case_id: facts_from_opened(b.data, deps.policy) for b in items}
    created = await cases.save_cases(conn, list(facts.values()), now)
    new = [b for b in items if b.data.case_id in created]
    await deliveries.plan_for(conn, [
        (p, "case.opened", b.data.case_id) for b in new
        for p in planned(b.event.id, messages_for(b.event, "case.opened", b.data,
                                                  facts[b.data.case_id], [], deps), deps, now)
    ], now=now)
    parked = await cases.take_parked_of(conn, [b.data.case_id for b in new]) if new else {}
    for b in new:
        if b.data.case_id in parked:
            with b.traced():
                await unpark(conn, parked[b.data.case_id], deps, now)
    return [b for b in items if b.data.case_id not in created]


async def _offer(conn: asyncpg.Connection, items: list[Batched], deps: Deps,
                 now: datetime) -> None:
    """`events.on_event` for offers: planned from notify's copy of the case and its offers
    (an offer needs no case: it is never parked), then added to the copy."""
    known = await cases.cases_and_offers(conn, [b.data.case_id for b in items])
    await deliveries.plan_for(conn, [
        (p, "assignment.offered", b.data.case_id) for b in items
        for p in planned(b.event.id, messages_for(b.event, "assignment.offered", b.data,
                                                  *known[b.data.case_id], deps), deps, now)
    ], now=now)
    offers: list[AssignmentOffered] = [b.data for b in items]
    await cases.add_offers(conn, [offer_from(o) for o in offers], now)
