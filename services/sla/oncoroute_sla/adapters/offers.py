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


async def add_many(conn: asyncpg.Connection,
                   made: list[tuple[Offer, datetime, str | None, str, int | None]]) -> set[str]:
    """`add` for several `(offer, offered at, tumour group, reviewer's name, max active)`, the
    board's details stored with the offer. The ids of the offers that were new."""
    created = await conn.fetch(
        "INSERT INTO offers (assignment_id, case_id, seat, reviewer_id, tier, status,"
        " offered_at, updated_at, tumor_group, reviewer_name, max_active)"
        " SELECT a, c, s, r, t, st, o, o, g, n, m FROM unnest($1::text[], $2::text[],"
        " $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[],"
        " $9::text[], $10::int[]) AS u(a, c, s, r, t, st, o, g, n, m)"
        " ON CONFLICT (assignment_id) DO NOTHING RETURNING assignment_id",
        [o.assignment_id for o, *_ in made], [o.case_id for o, *_ in made],
        [o.seat for o, *_ in made], [o.reviewer_id for o, *_ in made],
        [o.tier for o, *_ in made], [o.status for o, *_ in made], [m[1] for m in made],
        [m[2] for m in made], [m[3] for m in made], [m[4] for m in made])
    return {r["assignment_id"] for r in created}


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
