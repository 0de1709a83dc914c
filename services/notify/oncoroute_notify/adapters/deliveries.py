"""SQL for deliveries (notify's schema only)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from ..domain.messages import Message


async def plan(conn: asyncpg.Connection, source_event_id: str, case_id: str, m: Message,
               now: datetime) -> bool:
    created = await conn.fetchval(
        """INSERT INTO deliveries (delivery_id, source_event_id, case_id, audience, channel,
               recipient, template, context, status, due_at, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $9)
           ON CONFLICT (source_event_id, recipient, channel) DO NOTHING RETURNING true""",
        str(uuid.uuid4()), source_event_id, case_id, m.audience, m.channel, m.recipient,
        m.template, m.context, now,
    )
    return bool(created)


async def claim_due(conn: asyncpg.Connection, now: datetime, limit: int) -> list[dict[str, Any]]:
    """Lock due deliveries; concurrent workers skip each other's rows."""
    rows = await conn.fetch(
        """SELECT * FROM deliveries WHERE status IN ('pending', 'retrying', 'deferred')
           AND due_at <= $1 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED""", now, limit,
    )
    return [dict(r) for r in rows]


async def next_due(conn: asyncpg.Connection) -> datetime | None:
    return await conn.fetchval(
        "SELECT min(due_at) FROM deliveries WHERE status IN ('pending', 'retrying', 'deferred')"
    )


async def mark(conn: asyncpg.Connection, delivery_id: str, status: str, attempts: int,
               error: str | None, due_at: datetime, sent_at: datetime | None) -> None:
    await conn.execute(
        """UPDATE deliveries SET status = $2, attempts = $3, last_error = $4, due_at = $5,
               sent_at = $6 WHERE delivery_id = $1""",
        delivery_id, status, attempts, error, due_at, sent_at,
    )
