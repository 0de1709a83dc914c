"""SQL for clocks and their history (sla's schema only)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg

from ..domain.clock import Clock, ClockState

_COLUMNS = ("case_id, tier, tumor_group, state, case_status, opened_at, started_at, deadline,"
            " turnaround_seconds, paused_at, paused_seconds, stopped_at, on_time,"
            " actual_turnaround_seconds")


def _clock(row: asyncpg.Record) -> Clock:
    actual = row["actual_turnaround_seconds"]
    return Clock(
        case_id=row["case_id"], tier=row["tier"], tumor_group=row["tumor_group"],
        state=ClockState(row["state"]), case_status=row["case_status"],
        opened_at=row["opened_at"], turnaround=timedelta(seconds=row["turnaround_seconds"]),
        started_at=row["started_at"], deadline=row["deadline"], paused_at=row["paused_at"],
        paused_for=timedelta(seconds=row["paused_seconds"]), stopped_at=row["stopped_at"],
        on_time=row["on_time"],
        actual_turnaround=None if actual is None else timedelta(seconds=actual),
    )


def _values(c: Clock) -> tuple[Any, ...]:
    return (c.case_id, c.tier, c.tumor_group, c.state.value, c.case_status, c.opened_at,
            c.started_at, c.deadline, c.turnaround.total_seconds(), c.paused_at,
            c.paused_for.total_seconds(), c.stopped_at, c.on_time,
            None if c.actual_turnaround is None else c.actual_turnaround.total_seconds())


async def lock(conn: asyncpg.Connection, case_id: str) -> Clock | None:
    """The case's clock, locked until the transaction ends (one change at a time)."""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM clocks WHERE case_id = $1 FOR UPDATE",
                              case_id)
    return None if row is None else _clock(row)


async def lock_many(conn: asyncpg.Connection, case_ids: list[str]) -> dict[str, Clock]:
    """`lock` for several cases at once, in the order of their ids."""
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM clocks WHERE case_id = ANY($1::text[])"
                            " ORDER BY case_id FOR UPDATE", case_ids)
    return {r["case_id"]: _clock(r) for r in rows}


async def get_many(conn: asyncpg.Connection, case_ids: list[str]) -> dict[str, Clock]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM clocks WHERE case_id = ANY($1::text[])",
                            case_ids)
    return {r["case_id"]: _clock(r) for r in rows}


async def insert(conn: asyncpg.Connection, clock: Clock) -> bool:
    """Create the clock; False when the case already has one (a redelivered event)."""
    created = await conn.fetchval(
        f"INSERT INTO clocks ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
        " $11, $12, $13, $14) ON CONFLICT (case_id) DO NOTHING RETURNING true", *_values(clock))
    return bool(created)


_TYPES = ("text", "text", "text", "text", "text", "timestamptz", "timestamptz", "timestamptz",
          "float8", "timestamptz", "float8", "timestamptz", "bool", "float8")


async def insert_many(conn: asyncpg.Connection, opened: list[tuple[Clock, str]]) -> set[str]:
    """`insert` for several `(clock, source)` at once, the source stored with the clock. The
    ids of the cases whose clock was created (not those that already had one)."""
    columns = list(zip(*(_values(c) + (source,) for c, source in opened), strict=True))
    arrays = ", ".join(f"${i}::{t}[]" for i, t in enumerate((*_TYPES, "text"), start=1))
    created = await conn.fetch(
        f"INSERT INTO clocks ({_COLUMNS}, source) SELECT * FROM unnest({arrays})"
        " ON CONFLICT (case_id) DO NOTHING RETURNING case_id", *map(list, columns))
    return {r["case_id"] for r in created}


async def save(conn: asyncpg.Connection, clock: Clock) -> None:
    await conn.execute(
        "UPDATE clocks SET tier = $2, tumor_group = $3, state = $4, case_status = $5,"
        " opened_at = $6, started_at = $7, deadline = $8, turnaround_seconds = $9,"
        " paused_at = $10, paused_seconds = $11, stopped_at = $12, on_time = $13,"
        " actual_turnaround_seconds = $14 WHERE case_id = $1", *_values(clock))


async def record(conn: asyncpg.Connection, case_id: str, at: datetime, what: str,
                 detail: dict[str, Any] | None = None) -> None:
    """One line of the clock's history (ids, times and reasons only: no clinical data)."""
    await record_many(conn, [(case_id, at, what, detail or {})])


async def record_many(conn: asyncpg.Connection,
                      lines: list[tuple[str, datetime, str, dict[str, Any]]]) -> None:
    """`record` for several `(case id, at, what, detail)` lines, in their order."""
    if lines:
        await conn.execute(
            "INSERT INTO clock_history (case_id, at, what, detail) SELECT * FROM"
            " unnest($1::text[], $2::timestamptz[], $3::text[], $4::jsonb[])",
            *map(list, zip(*lines, strict=True)))
