"""SQL for cases and their timelines (intake's schema only)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from oncoroute_shared.contracts.cases import Classification
from oncoroute_shared.contracts.submissions import Submission
from oncoroute_shared.envelope import CloudEvent


class BadCursor(ValueError):
    """The listing cursor was not one this service handed out."""


@dataclass(frozen=True)
class NewCase:
    case_id: str
    submission: Submission
    classification: Classification
    status: str
    missing_records: list[str]


async def insert_cases(conn: asyncpg.Connection, new: list[NewCase], now: datetime) -> set[str]:
    """Insert each case unless its (source, external_id) exists (no two in `new` may share
    them), in one statement; returns the ids of the cases created."""
    created = await conn.fetch(
        """INSERT INTO cases (case_id, source, external_id, status, tier, tumor_group,
               fast_progressing, rule, needs_triage, matched_on, missing_records, submission,
               opened_at, updated_at)
           SELECT u.case_id, u.source, u.external_id, u.status, u.tier, u.tumor_group, u.fast,
                  u.rule, u.triage, u.matched_on, u.missing::jsonb, u.submission::jsonb,
                  $13::timestamptz, $13::timestamptz
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                       $7::bool[], $8::text[], $9::bool[], $10::text[], $11::text[], $12::text[])
                AS u(case_id, source, external_id, status, tier, tumor_group, fast, rule,
                     triage, matched_on, missing, submission)
           ON CONFLICT (source, external_id) DO NOTHING RETURNING case_id""",
        [n.case_id for n in new], [n.submission.source for n in new],
        [n.submission.external_id for n in new], [n.status for n in new],
        [n.classification.tier for n in new], [n.classification.tumor_group for n in new],
        [n.classification.fast_progressing for n in new],
        [n.classification.rule for n in new], [n.classification.needs_triage for n in new],
        [n.classification.matched_on for n in new],
        [orjson.dumps(n.missing_records).decode() for n in new],
        [n.submission.model_dump_json() for n in new], now,
    )
    return {r["case_id"] for r in created}


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
