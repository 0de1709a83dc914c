"""Outbox rows the producer refuses for good, parked beside the outbox with the reason.

A row larger than the broker takes (`MessageSizeTooLargeError`, raised by the producer before
anything is sent) or one that is not a record (headers that are not `[name, value]` strings)
would fail the same way on every try; left in the outbox it would hold back every event
after it, of every case. Parked in the transaction that takes it off the outbox, it is kept
whole (`outbox_parked`), counted (`oncoroute_outbox_parked`, alert `OncoRouteOutboxParked`)
and requeued by an operator once the cause is fixed (`oncoroute outbox requeue`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

COLUMNS = "id, topic, key, value, headers, event_id, created_at"


class NotARecord(ValueError):
    """An outbox row that cannot be made into a Kafka record."""


def record_headers(row: Any) -> list[tuple[str, str]]:
    """The row's headers as (name, value) pairs, or NotARecord."""
    pairs = row["headers"]
    if not isinstance(pairs, list) or not all(
        isinstance(pair, list | tuple) and len(pair) == 2
        and all(isinstance(part, str) for part in pair) for pair in pairs
    ):
        raise NotARecord("headers are not a list of [name, value] strings")
    return [(name, value) for name, value in pairs]


async def park(conn: asyncpg.Connection, refused: Sequence[tuple[Any, str]]) -> None:
    """Keep `refused` (outbox rows taken off the outbox in `conn`'s transaction, with why)."""
    await conn.executemany(
        f"INSERT INTO outbox_parked ({COLUMNS}, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        [(row["id"], row["topic"], row["key"], row["value"], row["headers"], row["event_id"],
          row["created_at"], reason) for row, reason in refused],
    )


async def listing(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """What is parked in the connection's schema (never the events themselves)."""
    return await conn.fetch(
        "SELECT id, topic, event_id, octet_length(value) AS bytes, reason, created_at,"
        " parked_at FROM outbox_parked ORDER BY id")


async def requeue(conn: asyncpg.Connection, ids: Sequence[int] | None = None) -> int:
    """Put parked rows (all, or those of `ids`) back at the end of the outbox, in their
    order; the relay publishes them next. Returns how many."""
    moved = await conn.fetch(
        "WITH moved AS (DELETE FROM outbox_parked WHERE $1::bigint[] IS NULL OR id = ANY($1)"
        " RETURNING id, topic, key, value, headers, event_id)"
        " INSERT INTO outbox (topic, key, value, headers, event_id)"
        " SELECT topic, key, value, headers, event_id FROM moved ORDER BY id RETURNING id",
        list(ids) if ids is not None else None)
    return len(moved)
