"""SQL for cases and their timelines (intake's schema only)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

import asyncpg

from oncoroute_shared.contracts.cases import Classification
from oncoroute_shared.contracts.submissions import Submission
from oncoroute_shared.envelope import CloudEvent


class BadCursor(ValueError):
    """The listing cursor was not one this service handed out."""


async def insert_case(
    conn: asyncpg.Connection, case_id: str, sub: Submission, c: Classification, status: str,
    missing: list[str], now: datetime,
) -> bool:
    """Insert unless (source, external_id) exists; True when this call created the case."""
    created = await conn.fetchval(
        """INSERT INTO cases (case_id, source, external_id, status, tier, tumor_group,
               fast_progressing, rule, needs_triage, matched_on, missing_records, submission,
               opened_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
           ON CONFLICT (source, external_id) DO NOTHING RETURNING true""",
        case_id, sub.source, sub.external_id, status, c.tier, c.tumor_group,
        c.fast_progressing, c.rule, c.needs_triage, c.matched_on, missing,
        sub.model_dump(mode="json"), now,
    )
    return bool(created)


async def lock_case(conn: asyncpg.Connection, case_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM cases WHERE case_id = $1 FOR UPDATE", case_id)
    return dict(row) if row else None


async def save_records(conn: asyncpg.Connection, case_id: str, records: list[dict[str, Any]],
                       status: str, missing: list[str], now: datetime) -> None:
    await conn.execute(
        """UPDATE cases SET submission = jsonb_set(submission, '{records}', $2::jsonb),
               status = $3, missing_records = $4, updated_at = $5 WHERE case_id = $1""",
        case_id, records, status, missing, now,
    )


async def close(conn: asyncpg.Connection, case_id: str, reason: str, now: datetime) -> None:
    await conn.execute(
        "UPDATE cases SET status = 'closed', close_reason = $2, closed_at = $3, updated_at = $3"
        " WHERE case_id = $1", case_id, reason, now,
    )


async def case_id_for(conn: asyncpg.Connection, source: str, external_id: str) -> str | None:
    return await conn.fetchval(
        "SELECT case_id FROM cases WHERE source = $1 AND external_id = $2", source, external_id
    )


async def get_case(conn: asyncpg.Connection, case_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM cases WHERE case_id = $1", case_id)
    return dict(row) if row else None


_TIMELINE_INSERT = """INSERT INTO timeline (event_id, case_id, type, source, time, summary)
    VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING"""


def _timeline_row(event: CloudEvent) -> tuple[Any, ...]:
    summary = {k: v for k, v in (event.data or {}).items() if k != "submission"} \
        if isinstance(event.data, dict) else {}
    return event.id, event.subject, event.type, event.source, event.time, summary


async def add_to_timeline(conn: asyncpg.Connection, event: CloudEvent) -> None:
    await conn.execute(_TIMELINE_INSERT, *_timeline_row(event))


async def add_all_to_timeline(conn: asyncpg.Connection, events: list[CloudEvent]) -> None:
    """`add_to_timeline` for several events in one round trip, in order."""
    if events:
        await conn.executemany(_TIMELINE_INSERT, [_timeline_row(e) for e in events])


async def timeline(conn: asyncpg.Connection, case_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT event_id, type, source, time, summary FROM timeline"
        " WHERE case_id = $1 ORDER BY seq", case_id,
    )
    return [dict(r) for r in rows]


_LISTABLE = ("status", "tier", "tumor_group", "source", "external_id")


async def list_cases(conn: asyncpg.Connection, filters: dict[str, str | None],
                     cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """Keyset pagination on (opened_at, case_id), newest first; the cursor is opaque."""
    where: list[str] = []
    args: list[Any] = []
    for name in _LISTABLE:
        if (value := filters.get(name)) is not None:
            args.append(value)
            where.append(f"{name} = ${len(args)}")
    if cursor:
        opened_at, _, case_id = _decode_cursor(cursor)
        args += [opened_at, case_id]
        where.append(f"(opened_at, case_id) < (${len(args) - 1}, ${len(args)})")
    args.append(limit + 1)
    rows = await conn.fetch(
        "SELECT case_id, source, external_id, status, tier, tumor_group, fast_progressing,"
        " rule, needs_triage, missing_records, opened_at, updated_at FROM cases"
        + (" WHERE " + " AND ".join(where) if where else "")
        + f" ORDER BY opened_at DESC, case_id DESC LIMIT ${len(args)}", *args,
    )
    items = [dict(r) for r in rows[:limit]]
    more = len(rows) > limit
    return items, _encode_cursor(items[-1]) if more and items else None


def _encode_cursor(row: dict[str, Any]) -> str:
    raw = f"{row['opened_at'].isoformat()}|{row['case_id']}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, str, str]:
    try:
        opened, _, case_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        at = datetime.fromisoformat(opened)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadCursor("not a cursor from this listing") from None
    if at.tzinfo is None or not case_id or "\x00" in case_id:
        raise BadCursor("not a cursor from this listing")
    return at, "|", case_id
