"""Inbox-guarded consumption: one event, one transaction, one effect.

A record's effects, its inbox row and any events it causes (outbox) commit together; the
Kafka offset is committed only afterwards. Infrastructure failures are never dead-lettered:
the record is redelivered (nack) until the database or broker is back. A handler that keeps
failing on the same record is retried a bounded number of times, then dead-lettered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from pydantic import BaseModel, ValidationError

from ..contracts.registry import model_for, short_type
from ..envelope import CloudEvent, EnvelopeError, decode
from .dead_letters import dead_letter

log = logging.getLogger("oncoroute.consumer")

Handler = Callable[[asyncpg.Connection, CloudEvent, Any], Awaitable[None]]
InvalidHandler = Callable[[asyncpg.Connection, CloudEvent, list[dict[str, str]]], Awaitable[None]]

TRANSIENT = (
    OSError,
    ConnectionError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.AdminShutdownError,
)


class PermanentError(Exception):
    """The event can never be processed as it is; dead-letter it at once with this reason."""


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass
class Subscription:
    topic: str
    handlers: dict[str, Handler]
    on_invalid: InvalidHandler | None = None  # answer a bad event (e.g. case.rejected)
    consumer: str = ""  # filled by the runtime: "<service>.<topic>"
    attempts: dict[tuple[int, int], int] = field(default_factory=dict)


def validation_problems(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"path": ".".join(str(p) for p in e["loc"]) or "(root)", "message": e["msg"]}
        for e in exc.errors()
    ]


class Processor:
    def __init__(self, pool: asyncpg.Pool, sub: Subscription, max_attempts: int,
                 on_dead_letter: Callable[[str], None] | None = None) -> None:
        self._pool = pool
        self._sub = sub
        self._max_attempts = max_attempts
        self._on_dead_letter = on_dead_letter or (lambda _consumer: None)

    async def process(self, rec: Record) -> None:
        """Return normally to commit the offset; raise to have the record redelivered."""
        where = (rec.partition, rec.offset)
        try:
            await self._process_once(rec)
        except TRANSIENT as exc:
            log.warning("%s: transient %s, redelivering", self._sub.consumer, type(exc).__name__)
            await asyncio.sleep(1.0)
            raise
        except PermanentError as exc:
            await self._dead_letter(rec, f"permanent: {exc}")
        except Exception as exc:
            tries = self._sub.attempts.get(where, 0) + 1
            self._sub.attempts[where] = tries
            log.error("%s: handler failed (%d/%d): %s", self._sub.consumer, tries,
                      self._max_attempts, type(exc).__name__)
            if tries < self._max_attempts:
                await asyncio.sleep(min(0.2 * 2**tries, 5.0))
                raise
            await self._dead_letter(rec, f"handler failed {tries} times: "
                                    f"{type(exc).__name__}: {exc}")
        self._sub.attempts.pop(where, None)

    async def _dead_letter(self, rec: Record, error: str) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await dead_letter(conn, consumer=self._sub.consumer, topic=rec.topic,
                              partition=rec.partition, offset=rec.offset, key=rec.key,
                              value=rec.value, error=error)
        self._on_dead_letter(self._sub.consumer)
        log.warning("%s: dead-lettered %s[%d]@%d: %s", self._sub.consumer, rec.topic,
                    rec.partition, rec.offset, error.split(":")[0])

    async def _process_once(self, rec: Record) -> None:
        try:
            event = decode(rec.value or b"")
        except EnvelopeError as exc:
            raise PermanentError(str(exc)) from None
        short = short_type(event.type)
        if short is None:
            raise PermanentError(f"unknown event type {event.type[:200]!r}")
        handler = self._sub.handlers.get(short)
        if handler is None:
            return  # another service's event on a shared topic: not ours to act on
        try:
            data: BaseModel = model_for(short).model_validate(event.data)
        except ValidationError as exc:
            problems = validation_problems(exc)
            if self._sub.on_invalid is None:
                raise PermanentError(
                    "invalid data: " + "; ".join(f"{p['path']}: {p['message']}" for p in problems)
                ) from None
            async with self._pool.acquire() as conn, conn.transaction():
                if await self._first_time(conn, event, rec):
                    await self._sub.on_invalid(conn, event, problems)
            return
        async with self._pool.acquire() as conn, conn.transaction():
            if await self._first_time(conn, event, rec):
                await handler(conn, event, data)

    async def _first_time(self, conn: asyncpg.Connection, event: CloudEvent, rec: Record) -> bool:
        inserted = await conn.fetchval(
            "INSERT INTO inbox (consumer, event_id, topic, partition, \"offset\")"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true",
            self._sub.consumer, event.id, rec.topic, rec.partition, rec.offset,
        )
        return bool(inserted)
