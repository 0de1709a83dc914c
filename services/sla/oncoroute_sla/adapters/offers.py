"""SQL for the offers the matcher made (who reviews a case; what an acceptance timer is for)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from ..domain.firing import Offer


def _offer(r: asyncpg.Record) -> Offer:
    return Offer(r["assignment_id"], r["case_id"], r["seat"], r["reviewer_id"], r["tier"],
                 r["status"])


async def add(conn: asyncpg.Connection, offer: Offer, at: datetime) -> bool:
    created = await conn.fetchval(
        "INSERT INTO offers (assignment_id, case_id, seat, reviewer_id, tier, status,"
        " offered_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)"
        " ON CONFLICT (assignment_id) DO NOTHING RETURNING true",
        offer.assignment_id, offer.case_id, offer.seat, offer.reviewer_id, offer.tier,
        offer.status, at)
    return bool(created)


async def settle(conn: asyncpg.Connection, assignment_id: str, status: str,
                 at: datetime) -> None:
    await conn.execute("UPDATE offers SET status = $2, updated_at = $3 WHERE assignment_id = $1",
                       assignment_id, status, at)


async def get_many(conn: asyncpg.Connection, assignment_ids: list[str]) -> dict[str, Offer]:
    if not assignment_ids:
        return {}
    rows = await conn.fetch("SELECT * FROM offers WHERE assignment_id = ANY($1::text[])",
                            assignment_ids)
    return {r["assignment_id"]: _offer(r) for r in rows}
