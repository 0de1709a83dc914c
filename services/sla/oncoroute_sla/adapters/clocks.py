"""SQL for clocks and timers (sla's schema only)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from ..domain.clock import Deadline


async def create_running(conn: asyncpg.Connection, case_id: str, tumor_group: str | None,
                         opened_at: datetime, d: Deadline) -> bool:
    created = await conn.fetchval(
        """INSERT INTO clocks (case_id, tier, tumor_group, state, opened_at, started_at,
               deadline, turnaround_seconds)
           VALUES ($1, $2, $3, 'running', $4, $5, $6, $7)
           ON CONFLICT DO NOTHING RETURNING true""",
        case_id, d.tier, tumor_group, opened_at, d.started_at, d.deadline,
        d.turnaround.total_seconds(),
    )
    if created:
        await conn.execute("INSERT INTO timers (case_id, step, due_at) VALUES ($1, 'breach', $2)",
                           case_id, d.deadline)
    return bool(created)
