"""SQL for notify's own copy of cases and offers, and for events parked until their case is
known (events of one case arrive on three topics, so `case.opened` may come last)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from oncoroute_shared.envelope import CloudEvent

from ..domain.facts import CaseFacts, Offer, OfferStatus

_LOCK = "pg_advisory_xact_lock(hashtextextended('notify.case:' || $1, 0))"


async def save_case(conn: asyncpg.Connection, facts: CaseFacts, now: datetime) -> bool:
    """Store the case under its lock (`lock_case`, taken first in the same statement); False
    when it was stored before. Events parked for it are to be taken in a later statement,
    which then sees every event parked before the lock was granted."""
    return facts.case_id in await save_cases(conn, [facts], now)


async def save_cases(conn: asyncpg.Connection, many: list[CaseFacts], now: datetime) -> set[str]:
    """`save_case` for several cases in one statement (the locks in the order of their ids);
    the ids of those stored now."""
    many = sorted(many, key=lambda f: f.case_id)
    created = await conn.fetch(
        f"""INSERT INTO cases (case_id, facts, created_at, updated_at)
            SELECT u.case_id, u.facts, $3, $3
            FROM unnest($1::text[], $2::jsonb[]) AS u(case_id, facts)
            CROSS JOIN LATERAL (SELECT {_LOCK.replace("$1", "u.case_id")}) AS locked
            ON CONFLICT (case_id) DO NOTHING RETURNING case_id""",
        [f.case_id for f in many], [f.model_dump(mode="json") for f in many], now)
    return {r["case_id"] for r in created}


async def case_and_offers(conn: asyncpg.Connection,
                          case_id: str) -> tuple[CaseFacts | None, list[Offer]]:
    """Notify's copy of the case and its offers (oldest first), in one round trip."""
    return (await cases_and_offers(conn, [case_id]))[case_id]


async def cases_and_offers(conn: asyncpg.Connection, case_ids: list[str],
                           ) -> dict[str, tuple[CaseFacts | None, list[Offer]]]:
    """`case_and_offers` for several cases in one round trip."""
    rows = await conn.fetch(
        """SELECT u.case_id, (SELECT facts FROM cases c WHERE c.case_id = u.case_id) AS facts,
                  (SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'assignment_id', assignment_id, 'case_id', case_id, 'seat', seat,
                       'reviewer_id', reviewer_id, 'reviewer_name', reviewer_name,
                       'reviewer_email', reviewer_email, 'reviewer_phone', reviewer_phone,
                       'status', status) ORDER BY updated_at, assignment_id), '[]'::jsonb)
                   FROM offers o WHERE o.case_id = u.case_id) AS offers
           FROM unnest($1::text[]) AS u(case_id)""", case_ids)
    return {r["case_id"]: (CaseFacts.model_validate(r["facts"]) if r["facts"] is not None
                           else None, [Offer.model_validate(o) for o in r["offers"]])
            for r in rows}


async def update_case(conn: asyncpg.Connection, case_id: str, changes: dict[str, Any],
                      now: datetime) -> None:
    await conn.execute(
        "UPDATE cases SET facts = facts || $2::jsonb, updated_at = $3 WHERE case_id = $1",
        case_id, changes, now)


async def add_offer(conn: asyncpg.Connection, offer: Offer, now: datetime) -> None:
    await add_offers(conn, [offer], now)


async def add_offers(conn: asyncpg.Connection, offers: list[Offer], now: datetime) -> None:
    if not offers:
        return
    await conn.execute(
        """INSERT INTO offers (assignment_id, case_id, seat, reviewer_id, reviewer_name,
               reviewer_email, reviewer_phone, status, updated_at)
           SELECT *, $9::timestamptz FROM unnest($1::text[], $2::text[], $3::text[],
               $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
           ON CONFLICT (assignment_id) DO NOTHING""",
        *([getattr(o, f) for o in offers] for f in (
            "assignment_id", "case_id", "seat", "reviewer_id", "reviewer_name",
            "reviewer_email", "reviewer_phone", "status")), now)


async def set_offer_status(conn: asyncpg.Connection, assignment_id: str, status: OfferStatus,
                           now: datetime) -> None:
    await conn.execute("UPDATE offers SET status = $2, updated_at = $3 WHERE assignment_id = $1",
                       assignment_id, status, now)


async def withdraw_offers(conn: asyncpg.Connection, case_id: str, now: datetime) -> None:
    await conn.execute(
        """UPDATE offers SET status = 'withdrawn', updated_at = $2
           WHERE case_id = $1 AND status IN ('offered', 'accepted')""", case_id, now)


async def lock_case(conn: asyncpg.Connection, case_id: str) -> None:
    """Serialise storing a case with parking an event for it, until the transaction ends:
    without it an event parked while `case.opened` was being stored (two consumers, two
    transactions) could commit after the opening looked for parked events, and stay parked."""
    await conn.execute(f"SELECT {_LOCK}", case_id)


async def park(conn: asyncpg.Connection, case_id: str, event: CloudEvent, now: datetime) -> None:
    await conn.execute(
        """INSERT INTO parked_events (event_id, case_id, event, parked_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (event_id) DO NOTHING""",
        event.id, case_id, event.model_dump(mode="json"), now)


async def take_parked(conn: asyncpg.Connection, case_id: str) -> list[CloudEvent]:
    return (await take_parked_of(conn, [case_id])).get(case_id, [])


async def take_parked_of(conn: asyncpg.Connection,
                         case_ids: list[str]) -> dict[str, list[CloudEvent]]:
    """The events parked for each of the cases, taken off the park, oldest first."""
    rows = await conn.fetch("DELETE FROM parked_events WHERE case_id = ANY($1::text[])"
                            " RETURNING case_id, id, event", case_ids)
    out: dict[str, list[CloudEvent]] = {}
    for r in sorted(rows, key=lambda r: r["id"]):
        out.setdefault(r["case_id"], []).append(CloudEvent.model_validate(r["event"]))
    return out
