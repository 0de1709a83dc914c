"""SQL for cases and their timelines (intake's schema only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from oncoroute_shared.contracts.cases import Classification
from oncoroute_shared.contracts.submissions import Submission
from oncoroute_shared.envelope import CloudEvent


async def insert_case(
    conn: asyncpg.Connection, case_id: str, sub: Submission, c: Classification, status: str,
    now: datetime,
) -> bool:
    """Insert unless (source, external_id) exists; True when this call created the case."""
    created = await conn.fetchval(
        """INSERT INTO cases (case_id, source, external_id, status, tier, tumor_group,
               fast_progressing, rule, needs_triage, submission, opened_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
           ON CONFLICT (source, external_id) DO NOTHING RETURNING true""",
        case_id, sub.source, sub.external_id, status, c.tier, c.tumor_group,
        c.fast_progressing, c.rule, c.needs_triage, sub.model_dump(mode="json"), now,
    )
    return bool(created)


async def case_id_for(conn: asyncpg.Connection, source: str, external_id: str) -> str | None:
    return await conn.fetchval(
        "SELECT case_id FROM cases WHERE source = $1 AND external_id = $2", source, external_id
    )


async def get_case(conn: asyncpg.Connection, case_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM cases WHERE case_id = $1", case_id)
    return dict(row) if row else None


async def add_to_timeline(conn: asyncpg.Connection, event: CloudEvent) -> None:
    summary = {k: v for k, v in (event.data or {}).items() if k != "submission"} \
        if isinstance(event.data, dict) else {}
    await conn.execute(
        """INSERT INTO timeline (event_id, case_id, type, source, time, summary)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING""",
        event.id, event.subject, event.type, event.source, event.time, summary,
    )


async def timeline(conn: asyncpg.Connection, case_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT event_id, type, source, time, summary FROM timeline"
        " WHERE case_id = $1 ORDER BY seq", case_id,
    )
    return [dict(r) for r in rows]
