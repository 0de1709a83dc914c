"""SQL for the roster (matcher's schema only)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from ..domain.roster import Specialist

_COLUMNS = ("id, name, email, roles, tumor_groups, max_active, active_count, languages, "
            "regions, institution, timezone, active, last_assigned_at")


async def candidates_for_update(
    conn: asyncpg.Connection, tumor_group: str | None
) -> list[Specialist]:
    """Lock the tumour group's specialists (in id order, so lockers never deadlock)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM specialists WHERE $1 = ANY(tumor_groups)"
        " ORDER BY id FOR UPDATE", tumor_group,
    )
    return [Specialist(**dict(r)) for r in rows]


async def take_capacity(conn: asyncpg.Connection, specialist_id: str, now: datetime) -> None:
    await conn.execute(
        "UPDATE specialists SET active_count = active_count + 1, last_assigned_at = $2"
        " WHERE id = $1", specialist_id, now,
    )


async def upsert(conn: asyncpg.Connection, specialists: list[Specialist]) -> None:
    await conn.executemany(
        """INSERT INTO specialists (id, name, email, roles, tumor_groups, max_active, languages,
               regions, institution, timezone, active)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email,
               roles = EXCLUDED.roles, tumor_groups = EXCLUDED.tumor_groups,
               max_active = GREATEST(EXCLUDED.max_active, specialists.active_count),
               languages = EXCLUDED.languages, regions = EXCLUDED.regions,
               institution = EXCLUDED.institution, timezone = EXCLUDED.timezone,
               active = EXCLUDED.active""",
        [(s.id, s.name, s.email, s.roles, s.tumor_groups, s.max_active, s.languages, s.regions,
          s.institution, s.timezone, s.active) for s in specialists],
    )


async def all_specialists(conn: asyncpg.Connection) -> list[Specialist]:
    return [Specialist(**dict(r)) for r in
            await conn.fetch(f"SELECT {_COLUMNS} FROM specialists ORDER BY id")]
