"""SQL for deliveries (notify's schema only).

A worker leases due rows (a short transaction), sends without holding a connection, then
records the outcome only if it still holds the lease. A crashed worker's lease runs out and
the row is sent again: at least once, with the delivery id as every channel's idempotency key.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import orjson

from oncoroute_shared.messaging.outbox import OutboxRow

from ..domain.messages import Message
from ..domain.schedule import Decision, Status


@dataclass(frozen=True)
class Planned:
    """One delivery to record: the message, for whom and when."""

    source_event_id: str
    message: Message
    status: Status
    due_at: datetime


async def plan(conn: asyncpg.Connection, planned: list[Planned], *, event_type: str,
               case_id: str, now: datetime) -> None:
    """Record the deliveries in one round trip; one that (event, recipient, channel) already
    has, ever, is skipped."""
    await plan_for(conn, [(p, event_type, case_id) for p in planned], now=now)


async def plan_for(conn: asyncpg.Connection, planned: list[tuple[Planned, str, str]], *,
                   now: datetime) -> None:
    """`plan` for the deliveries of several events: `(planned, event type, case id)`."""
    if not planned:
        return
    await conn.executemany(
        """INSERT INTO deliveries (delivery_id, source_event_id, source_event_type, case_id,
               audience, channel, recipient, template, context, urgency, locale, quiet_tz,
               status, due_at, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
           ON CONFLICT (source_event_id, recipient, channel) DO NOTHING""",
        [(str(uuid.uuid4()), p.source_event_id, event_type, case_id, p.message.audience,
          p.message.channel, p.message.recipient, p.message.template, p.message.context,
          p.message.urgency, p.message.locale, p.message.quiet_tz, p.status, p.due_at, now)
         for p, event_type, case_id in planned],
    )


_DUE_SQL = "status IN ('pending', 'retrying', 'deferred')"  # the same as the index's


async def lease_due(conn: asyncpg.Connection, free: dict[str, int], now: datetime,
                    leases: dict[str, timedelta]) -> list[dict[str, Any]]:
    """Lease up to `free[channel]` due deliveries of each channel, in one statement (atomic
    on its own); concurrent workers skip each other's rows. The attempt is counted here, so
    a message that crashes its worker still runs out. The statuses are literal so that the
    prepared statement's generic plan can use the partial index."""
    names = list(free)
    rows = await conn.fetch(
        f"""UPDATE deliveries d SET lease_until = x.until, lease_token = $3,
                   attempts = d.attempts + 1
            FROM (SELECT due.delivery_id, c.until
                  FROM unnest($1::text[], $4::int[], $5::timestamptz[]) AS c(channel, free, until)
                  CROSS JOIN LATERAL (
                      SELECT delivery_id FROM deliveries
                      WHERE channel = c.channel AND {_DUE_SQL} AND due_at <= $2
                        AND (lease_until IS NULL OR lease_until <= $2)
                      ORDER BY due_at LIMIT c.free FOR UPDATE SKIP LOCKED) AS due) AS x
            WHERE d.delivery_id = x.delivery_id
            RETURNING d.*""",
        names, now, str(uuid.uuid4()), [free[n] for n in names],
        [now + leases[n] for n in names],
    )
    return [dict(r) for r in rows]


async def next_due(conn: asyncpg.Connection, channels: list[str]) -> datetime | None:
    """When a row of these channels can next be leased: the earliest due one not leased, or
    the earliest lease to run out (only rows due are leased, and recording an outcome ends
    the lease). Each side reads the first entry of an index per channel, so the cost grows
    neither with the rows waiting (patients' messages held for quiet hours pile up
    overnight) nor with the leases ended since the last vacuum (an index scan marks their
    entries dead for the next one; a bitmap scan, which an aggregate gets, does not)."""
    return await conn.fetchval(
        f"""SELECT least(
                (SELECT min(first.due_at) FROM unnest($1::text[]) AS c(channel)
                 CROSS JOIN LATERAL (
                     SELECT due_at FROM deliveries
                     WHERE channel = c.channel AND {_DUE_SQL} AND lease_until IS NULL
                     ORDER BY due_at LIMIT 1) AS first),
                (SELECT min(next.lease_until) FROM unnest($1::text[]) AS c(channel)
                 CROSS JOIN LATERAL (
                     SELECT lease_until FROM deliveries
                     WHERE channel = c.channel AND lease_until IS NOT NULL
                     ORDER BY lease_until LIMIT 1) AS next))""",
        channels,
    )


async def finish(conn: asyncpg.Connection, row: dict[str, Any], decision: Decision,
                 now: datetime, event: OutboxRow | None = None) -> bool:
    """Record the outcome if this worker still holds the lease; False if it lost it. With
    `event`, queue it in the outbox in the same statement, only if the outcome was recorded:
    one statement, so it is atomic without a transaction around it."""
    args = (row["delivery_id"], row["lease_token"], decision.status, decision.error,
            decision.due_at, now if decision.status == "sent" else None, now)
    if event is None:
        return bool(await conn.fetchval(f"{_FINISH} RETURNING true", *args))
    return bool(await conn.fetchval(
        f"""WITH done AS ({_FINISH} RETURNING 1),
                 event AS ({event.insert_if("done", 8)})
            SELECT EXISTS (SELECT 1 FROM done)""",
        *args, *event.args))


async def finish_many(conn: asyncpg.Connection,
                      outcomes: list[tuple[dict[str, Any], Decision, datetime, OutboxRow | None]],
                      ) -> set[str]:
    """`finish` for several leased deliveries, `(row, decision, now, event)`, in one
    statement: each outcome recorded if its lease is still held, and the events of those
    recorded queued in the outbox in the list's order. Returns the ids recorded. (The
    events' headers travel as JSON text: a list of pairs in a `jsonb[]` parameter would be
    taken for a two-dimensional array.)"""
    events = [(row["delivery_id"], event) for row, _, _, event in outcomes if event is not None]
    done = await conn.fetch(
        """WITH done AS (
               UPDATE deliveries d SET status = u.status, last_error = u.error,
                   due_at = u.due_at, sent_at = u.sent_at, lease_until = NULL,
                   lease_token = NULL, updated_at = u.now
               FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
                           $6::timestamptz[], $7::timestamptz[])
                    AS u(delivery_id, token, status, error, due_at, sent_at, now)
               WHERE d.delivery_id = u.delivery_id AND d.lease_token = u.token
               RETURNING d.delivery_id),
           event AS (
               INSERT INTO outbox (topic, key, value, headers, event_id)
               SELECT e.topic, e.key, e.value, e.headers::jsonb, e.event_id
               FROM unnest($8::text[], $9::text[], $10::text[], $11::bytea[], $12::text[],
                           $13::text[]) WITH ORDINALITY
                    AS e(delivery_id, topic, key, value, headers, event_id, n)
               WHERE e.delivery_id IN (SELECT delivery_id FROM done) ORDER BY e.n)
           SELECT delivery_id FROM done""",
        [row["delivery_id"] for row, _, _, _ in outcomes],
        [row["lease_token"] for row, _, _, _ in outcomes],
        [d.status for _, d, _, _ in outcomes], [d.error for _, d, _, _ in outcomes],
        [d.due_at for _, d, _, _ in outcomes],
        [now if d.status == "sent" else None for _, d, now, _ in outcomes],
        [now for _, _, now, _ in outcomes],
        [i for i, _ in events], [e.topic for _, e in events], [e.key for _, e in events],
        [e.value for _, e in events], [orjson.dumps(e.headers).decode() for _, e in events],
        [e.event_id for _, e in events])
    return {r["delivery_id"] for r in done}


_FINISH = """UPDATE deliveries SET status = $3, last_error = $4, due_at = $5, sent_at = $6,
               lease_until = NULL, lease_token = NULL, updated_at = $7
           WHERE delivery_id = $1 AND lease_token = $2"""


async def for_case(conn: asyncpg.Connection, case_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT delivery_id, source_event_id, source_event_type, audience, channel,
               recipient, template, urgency, locale, status, attempts, last_error, due_at,
               created_at, sent_at
           FROM deliveries WHERE case_id = $1 ORDER BY created_at, delivery_id""", case_id)
    return [dict(r) for r in rows]
