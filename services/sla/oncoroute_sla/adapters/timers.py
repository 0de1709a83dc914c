"""Durable timers in PostgreSQL: armed in the handler's transaction, claimed when due with
`FOR UPDATE SKIP LOCKED` so several sla processes share the work and each fires once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from ..domain.firing import DueTimer
from ..domain.schedule import Step, StepKind


async def arm(conn: asyncpg.Connection, case_id: str, steps: list[Step]) -> None:
    """Arm each step once: a step already armed or fired keeps its row."""
    if not steps:
        return
    await conn.execute(
        "INSERT INTO timers (case_id, step, due_at)"
        " SELECT $1, s.step, s.due_at FROM unnest($2::text[], $3::timestamptz[]) AS s(step, due_at)"
        " ON CONFLICT (case_id, step) DO NOTHING",
        case_id, [s.name for s in steps], [s.due_at for s in steps])


async def arm_many(conn: asyncpg.Connection, timers: list[tuple[str, Step]]) -> None:
    """Arm steps of several cases in one statement (follow-ups of a fired batch)."""
    if not timers:
        return
    await conn.execute(
        "INSERT INTO timers (case_id, step, due_at)"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])"
        " ON CONFLICT (case_id, step) DO NOTHING",
        [c for c, _ in timers], [s.name for _, s in timers], [s.due_at for _, s in timers])


async def record_fired(conn: asyncpg.Connection, case_id: str, step: str, due_at: datetime,
                       fired_at: datetime) -> bool:
    """A step that fires at once, in the handler (e.g. `expedite`): recorded as fired."""
    done = await conn.fetchval(
        "INSERT INTO timers (case_id, step, due_at, fired_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (case_id, step) DO NOTHING RETURNING true", case_id, step, due_at, fired_at)
    return bool(done)


async def disarm(conn: asyncpg.Connection, case_id: str,
                 kinds: tuple[StepKind, ...] | None = None, step: str | None = None) -> int:
    """Remove the case's unfired timers (all, those of `kinds`, or the one `step`)."""
    args: list[object] = []
    sql = ""
    if step is not None:
        sql, args = " AND step = $2", [step]
    elif kinds is not None:
        sql, args = " AND split_part(step, ':', 1) = ANY($2::text[])", [[str(k) for k in kinds]]
    status = await conn.execute(
        f"DELETE FROM timers WHERE case_id = $1 AND fired_at IS NULL{sql}", case_id, *args)
    return int(status.split()[-1])


async def fired_steps(conn: asyncpg.Connection, case_id: str) -> list[str]:
    rows = await conn.fetch("SELECT step FROM timers WHERE case_id = $1 AND fired_at IS NOT NULL",
                            case_id)
    return [r["step"] for r in rows]


async def claim_due(conn: asyncpg.Connection, limit: int) -> list[DueTimer]:
    """Mark up to `limit` due timers fired and return them in due order. Call inside the
    transaction that emits their events: a crash before commit leaves them due."""
    rows = await conn.fetch(
        """WITH due AS (
               SELECT case_id, step FROM timers
               WHERE fired_at IS NULL AND due_at <= now()
               ORDER BY due_at LIMIT $1
               FOR UPDATE SKIP LOCKED)
           UPDATE timers t SET fired_at = clock_timestamp()
           FROM due WHERE t.case_id = due.case_id AND t.step = due.step
           RETURNING t.case_id, t.step, t.due_at, t.fired_at""", limit)
    timers = [DueTimer(r["case_id"], r["step"], r["due_at"], r["fired_at"]) for r in rows]
    return sorted(timers, key=lambda t: (t.due_at, t.case_id, t.step))


@dataclass(frozen=True)
class NextDue:
    due_epoch: float | None  # the soonest timer not being fired by another process
    wait_s: float | None  # seconds until then (<= 0: due now)
    busy_elsewhere: bool  # due timers are locked by another process right now


async def next_due(conn: asyncpg.Connection) -> NextDue:
    """When to wake next, by the database's clock (no skew between processes)."""
    async with conn.transaction():
        row = await conn.fetchrow(
            """SELECT extract(epoch FROM due_at)::float8 AS due,
                      extract(epoch FROM due_at - clock_timestamp())::float8 AS wait
               FROM timers WHERE fired_at IS NULL ORDER BY due_at LIMIT 1
               FOR KEY SHARE SKIP LOCKED""")
        busy = await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM timers WHERE fired_at IS NULL AND due_at <= now()"
            " AND ($1::float8 IS NULL OR due_at < to_timestamp($1)))",
            row["due"] if row else None)
    if row is None:
        return NextDue(None, None, bool(busy))
    return NextDue(row["due"], row["wait"], bool(busy))
