"""Write events into the outbox, inside the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
from opentelemetry import propagate
from pydantic import BaseModel

from ..contracts.registry import topic_for
from ..envelope import CloudEvent, encode, full_type, new_event

INSERT = "INSERT INTO outbox (topic, key, value, headers, event_id)"


async def enqueue(
    conn: asyncpg.Connection, topic: str, key: str | None, value: bytes,
    headers: list[tuple[str, str]] | None = None, event_id: str | None = None,
) -> None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)  # the trace continues when the relay publishes after commit
    await conn.execute(
        f"{INSERT} VALUES ($1, $2, $3, $4, $5)",
        topic, key, value, [list(h) for h in [*(headers or []), *carrier.items()]], event_id,
    )


async def emit(
    conn: asyncpg.Connection, short_type: str, *, source: str, case_id: str,
    data: BaseModel | dict[str, Any], event_id: str | None = None,
) -> CloudEvent:
    """Record one event for the case in the outbox; the relay publishes it after commit."""
    event = new_event(short_type, source=source, subject=case_id, data=data, event_id=event_id)
    await conn.execute(f"{INSERT} VALUES ($1, $2, $3, $4, $5)", *event_row(short_type, event).args)
    return event


def event_row(short_type: str, event: CloudEvent) -> OutboxRow:
    """What `emit` inserts for `event`, keyed by its subject (the case), with the current
    trace in its headers; for `enqueue_rows`."""
    return OutboxRow(topic_for(short_type), event.subject or "", encode(event),
                     traced_headers(), event.id)


HEADERS = [["content-type", "application/cloudevents+json"]]


def traced_headers() -> list[list[str]]:
    """An event's outbox headers: its content type and the current trace, which continues
    when the relay publishes it after commit."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return [*HEADERS, *([k, v] for k, v in carrier.items())]


def envelope_bytes(short_type: str, *, source: str, case_id: str, data: BaseModel,
                   event_id: str, time: datetime) -> bytes:
    """The same CloudEvent `encode(new_event(...))` writes, serialised straight to JSON without
    building the envelope model: for batches of events whose data is already typed."""
    head = orjson.dumps({
        "specversion": "1.0", "id": event_id, "source": source, "type": full_type(short_type),
        "time": time.isoformat().replace("+00:00", "Z"), "subject": case_id,
        "datacontenttype": "application/json"})
    return head[:-1] + b',"data":' + data.model_dump_json().encode() + b"}"


@dataclass(frozen=True)
class OutboxRow:
    """One event ready for the outbox, for SQL that writes it together with other changes in
    a single statement: `insert_if(cte, first)` in a WITH clause, `args` as its parameters."""

    topic: str
    key: str
    value: bytes
    headers: list[list[str]]
    event_id: str

    @staticmethod
    def insert_if(cte: str, first: int) -> str:
        """The outbox insert for a WITH clause: one row for each row `cte` returns (none when
        it returns none), taking the event from parameters `$first` to `$first + 4`."""
        return (f"{INSERT} SELECT " + ", ".join(f"${i}" for i in range(first, first + 5))
                + f" FROM {cte}")

    @property
    def args(self) -> tuple[str, str, bytes, list[list[str]], str]:
        return self.topic, self.key, self.value, self.headers, self.event_id


def outbox_row(short_type: str, *, source: str, case_id: str, data: BaseModel) -> OutboxRow:
    """What `emit` would insert, without inserting it; the current trace goes in its headers."""
    event_id = str(uuid.uuid4())
    return OutboxRow(
        topic_for(short_type), case_id,
        envelope_bytes(short_type, source=source, case_id=case_id, data=data,
                       event_id=event_id, time=datetime.now(UTC)),
        traced_headers(), event_id)


async def enqueue_rows(conn: asyncpg.Connection, rows: Sequence[OutboxRow]) -> None:
    """Rows made by `outbox_row` (each with the trace current when it was made), in one round
    trip and in order."""
    if rows:
        await conn.executemany(f"{INSERT} VALUES ($1, $2, $3, $4, $5)", [r.args for r in rows])


async def emit_many(
    conn: asyncpg.Connection, items: Sequence[tuple[str, str, BaseModel]], *, source: str,
) -> list[str]:
    """`emit` for several `(short type, case id, data)` in one round trip, kept in order.
    Returns the event ids."""
    now = datetime.now(UTC)
    ids = [str(uuid.uuid4()) for _ in items]
    headers = traced_headers()
    await conn.executemany(
        f"{INSERT} VALUES ($1, $2, $3, $4, $5)",
        [(topic_for(short), case_id, envelope_bytes(short, source=source, case_id=case_id,
                                                    data=data, event_id=event_id, time=now),
          headers, event_id)
         for (short, case_id, data), event_id in zip(items, ids, strict=True)],
    )
    return ids


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)
