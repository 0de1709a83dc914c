"""Plan deliveries when an event arrives: load notify's copy of the case, decide who hears
what (domain), store the deliveries and the copy's changes, in the consumer's transaction."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import asyncpg

from oncoroute_shared.contracts.registry import model_for, short_type
from oncoroute_shared.envelope import CloudEvent

from ..adapters import cases, deliveries
from ..domain import rules
from ..domain.facts import CaseFacts, Offer, facts_from_opened, offer_from
from ..domain.messages import Message
from ..domain.schedule import first_due
from . import Deps

log = logging.getLogger("oncoroute.notify")
_OFFER_STATUS: dict[str, Any] = {"assignment.accepted": "accepted",
                                 "assignment.declined": "declined",
                                 "assignment.expired": "expired",
                                 "assignment.completed": "completed",
                                 "assignment.released": "withdrawn"}


async def on_event(conn: asyncpg.Connection, event: CloudEvent, data: Any, deps: Deps,
                   now: datetime) -> None:
    kind = short_type(event.type) or ""
    case_id: str = data.case_id
    if kind == "case.opened":
        await _opened(conn, event, data, deps, now)
        return
    case, offers = await cases.case_and_offers(conn, case_id)
    if case is None and kind not in rules.CASE_NOT_NEEDED:
        await cases.lock_case(conn, case_id)  # waits for a `case.opened` being stored
        case, offers = await cases.case_and_offers(conn, case_id)  # a statement after it
    if case is None and kind not in rules.CASE_NOT_NEEDED:
        await cases.park(conn, case_id, event, now)
        log.info("parked %s %s until case.opened of %s", kind, event.id, case_id)
        return
    await _plan(conn, event, kind, data, case, offers, deps, now)
    await _apply(conn, kind, data, now)


async def _opened(conn: asyncpg.Connection, event: CloudEvent, data: Any, deps: Deps,
                  now: datetime) -> None:
    facts = facts_from_opened(data, deps.policy)
    if not await cases.save_case(conn, facts, now):  # under the case's lock
        return
    await _plan(conn, event, "case.opened", data, facts, [], deps, now)
    await unpark(conn, await cases.take_parked(conn, facts.case_id), deps, now)


async def unpark(conn: asyncpg.Connection, parked: list[CloudEvent], deps: Deps,
                 now: datetime) -> None:
    """The events that waited for their case, now that it is stored, in their order."""
    for event in parked:
        short = short_type(event.type) or ""
        await on_event(conn, event, model_for(short).model_validate(event.data), deps, now)


async def _plan(conn: asyncpg.Connection, event: CloudEvent, kind: str, data: Any,
                case: CaseFacts | None, offers: list[Offer], deps: Deps, now: datetime) -> None:
    messages = messages_for(event, kind, data, case, offers, deps)
    await store(conn, event.id, kind, data.case_id, messages, deps, now)


async def store(conn: asyncpg.Connection, source_id: str, kind: str, case_id: str,
                messages: list[Message], deps: Deps, now: datetime) -> None:
    await deliveries.plan(conn, planned(source_id, messages, deps, now), event_type=kind,
                          case_id=case_id, now=now)


def planned(source_id: str, messages: list[Message], deps: Deps,
            now: datetime) -> list[deliveries.Planned]:
    """The messages an event calls for, each with its status and when it is due."""
    out = []
    for m in messages:
        status, due = first_due(now, m.urgency, m.quiet_tz, deps.policy.quiet_hours)
        out.append(deliveries.Planned(m.once_per or source_id, m, status, due))
    return out


def messages_for(event: CloudEvent, kind: str, data: Any, case: CaseFacts | None,
                 offers: list[Offer], deps: Deps) -> list[Message]:
    return rules.plan_messages(kind, data, case, offers,
                               rules.Plan(deps.policy, deps.links, event.id, event.time))


async def _apply(conn: asyncpg.Connection, kind: str, data: Any, now: datetime) -> None:
    """Keep notify's copy current after the event's messages are planned."""
    if kind == "case.updated":
        await cases.update_case(conn, data.case_id, {"status": data.status,
                                                     "missing_records": data.missing_records},
                                now)
    elif kind == "case.closed":
        await cases.update_case(conn, data.case_id, {"status": "closed"}, now)
        await cases.withdraw_offers(conn, data.case_id, now)
    elif kind == "assignment.offered":
        await cases.add_offer(conn, offer_from(data), now)
    elif kind in _OFFER_STATUS:
        await cases.set_offer_status(conn, data.assignment_id, _OFFER_STATUS[kind], now)
