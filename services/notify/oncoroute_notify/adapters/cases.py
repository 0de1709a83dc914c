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
    created = await conn.fetchval(
        f"""INSERT INTO cases (case_id, facts, created_at, updated_at)
            SELECT $1, $2, $3, $3 FROM (SELECT {_LOCK}) AS locked
            ON CONFLICT (case_id) DO NOTHING RETURNING true""",
        facts.case_id, facts.model_dump(mode="json"), now)
    return bool(created)


async def case_and_offers(conn: asyncpg.Connection,
                          case_id: str) -> tuple[CaseFacts | None, list[Offer]]:
    """Notify's copy of the case and its offers (oldest first), in one round trip."""
    row = await conn.fetchrow(
        """SELECT (SELECT facts FROM cases WHERE case_id = $1) AS facts,
                  (SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'assignment_id', assignment_id, 'case_id', case_id, 'seat', seat,
                       'reviewer_id', reviewer_id, 'reviewer_name', reviewer_name,
                       'reviewer_email', reviewer_email, 'reviewer_phone', reviewer_phone,
                       'status', status) ORDER BY updated_at, assignment_id), '[]'::jsonb)
                   FROM offers WHERE case_id = $1) AS offers""", case_id)
    case = CaseFacts.model_validate(row["facts"]) if row["facts"] is not None else None
    return case, [Offer.model_validate(o) for o in row["offers"]]


async def update_case(conn: asyncpg.Connection, case_id: str, changes: dict[str, Any],
                      now: datetime) -> None:
    await conn.execute(
        "UPDATE cases SET facts = facts || $2::jsonb, updated_at = $3 WHERE case_id = $1",
        case_id, changes, now)


async def add_offer(conn: asyncpg.Connection, offer: Offer, now: datetime) -> None:
    await conn.execute(
        """INSERT INTO offers (assignment_id, case_id, seat, reviewer_id, reviewer_name,
               reviewer_email, reviewer_phone, status, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (assignment_id) DO NOTHING""",
        offer.assignment_id, offer.case_id, offer.seat, offer.reviewer_id, offer.reviewer_name,
        offer.reviewer_email, offer.reviewer_phone, offer.status, now)


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
    rows = await conn.fetch(
        "DELETE FROM parked_events WHERE case_id = $1 RETURNING id, event", case_id)
    return [CloudEvent.model_validate(r["event"]) for r in sorted(rows, key=lambda r: r["id"])]
