"""Write events into the outbox, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson
from opentelemetry import propagate
from pydantic import BaseModel

from ..contracts.registry import topic_for
from ..envelope import CloudEvent, encode, new_event


async def enqueue(
    conn: asyncpg.Connection, topic: str, key: str | None, value: bytes,
    headers: list[tuple[str, str]] | None = None, event_id: str | None = None,
) -> None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)  # the trace continues when the relay publishes after commit
    await conn.execute(
        "INSERT INTO outbox (topic, key, value, headers, event_id) VALUES ($1, $2, $3, $4, $5)",
        topic, key, value, [list(h) for h in [*(headers or []), *carrier.items()]], event_id,
    )


async def emit(
    conn: asyncpg.Connection, short_type: str, *, source: str, case_id: str,
    data: BaseModel | dict[str, Any], event_id: str | None = None,
) -> CloudEvent:
    """Record one event for the case in the outbox; the relay publishes it after commit."""
    event = new_event(short_type, source=source, subject=case_id, data=data, event_id=event_id)
    await enqueue(
        conn, topic_for(short_type), case_id, encode(event),
        [("content-type", "application/cloudevents+json")], event.id,
    )
    return event


async def emit_many(
    conn: asyncpg.Connection, items: Sequence[tuple[str, str, BaseModel | dict[str, Any]]], *,
    source: str,
) -> list[CloudEvent]:
    """`emit` for several `(short type, case id, data)` in one round trip, kept in order."""
    events = [new_event(short, source=source, subject=case_id, data=data)
              for short, case_id, data in items]
    await conn.executemany(
        "INSERT INTO outbox (topic, key, value, headers, event_id) VALUES ($1, $2, $3, $4, $5)",
        [(topic_for(short), case_id, encode(event),
          [["content-type", "application/cloudevents+json"]], event.id)
         for (short, case_id, _), event in zip(items, events, strict=True)],
    )
    return events


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)
