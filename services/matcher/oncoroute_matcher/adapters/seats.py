"""SQL for seats and assignments (matcher's schema only)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from ..domain.ranking import SeatNeed


async def create_seat(conn: asyncpg.Connection, need: SeatNeed, tier: str, now: datetime) -> bool:
    created = await conn.fetchval(
        """INSERT INTO seats (case_id, seat, role, tumor_group, tier, status,
               first_opinion_physician, first_opinion_institution, created_at)
           VALUES ($1, $2, $3, $4, $5, 'waiting', $6, $7, $8)
           ON CONFLICT DO NOTHING RETURNING true""",
        need.case_id, need.seat, need.role, need.tumor_group, tier,
        need.first_opinion_physician, need.first_opinion_institution, now,
    )
    return bool(created)


async def excluded_for(conn: asyncpg.Connection, case_id: str, seat: str) -> frozenset[str]:
    """Everyone already on this case, and whoever declined or let this seat expire."""
    rows = await conn.fetch(
        "SELECT specialist_id FROM assignments WHERE case_id = $1 AND"
        " (status IN ('offered', 'accepted', 'completed') OR seat = $2)", case_id, seat,
    )
    return frozenset(r["specialist_id"] for r in rows)


async def offer(conn: asyncpg.Connection, assignment_id: str, need: SeatNeed,
                specialist_id: str, now: datetime) -> None:
    await conn.execute(
        """INSERT INTO assignments (assignment_id, case_id, seat, specialist_id, status,
               offered_at, updated_at) VALUES ($1, $2, $3, $4, 'offered', $5, $5)""",
        assignment_id, need.case_id, need.seat, specialist_id, now,
    )
    await conn.execute("UPDATE seats SET status = 'offered' WHERE case_id = $1 AND seat = $2",
                       need.case_id, need.seat)
