"""Roster changes: each wakes the dispatcher so waiting seats are matched again."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from ..adapters import roster, seats
from ..domain.roster import Specialist


async def put_specialists(conn: asyncpg.Connection, specialists: list[Specialist],
                          now: datetime) -> None:
    await roster.upsert(conn, specialists, now)
    await seats.wake_dispatcher(conn)


async def remove_specialist(conn: asyncpg.Connection, specialist_id: str,
                            now: datetime) -> bool:
    """Take them off the roster for new offers; their live assignments stay (operators
    reassign them) and their history stays."""
    done = await roster.deactivate(conn, specialist_id, now)
    if done:
        await seats.wake_dispatcher(conn)
    return done


async def add_absence(conn: asyncpg.Connection, specialist_id: str, starts_at: datetime,
                      ends_at: datetime, reason: str | None, now: datetime) -> str:
    absence_id = await roster.add_absence(conn, specialist_id, starts_at, ends_at, reason, now)
    await seats.wake_dispatcher(conn)
    return absence_id
