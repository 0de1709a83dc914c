"""Publish committed outbox rows to Kafka, in order, woken by NOTIFY on commit."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from typing import Protocol

import asyncpg
from aiokafka.errors import MessageSizeTooLargeError, RecordListTooLargeError
from opentelemetry import context as otel_context
from opentelemetry import propagate

from ..db.wakeup import Wakeup
from ..metrics import OUTBOX_AGE, OUTBOX_BACKLOG, OUTBOX_PARKED
from . import parking

log = logging.getLogger("oncoroute.relay")
_TRACE_HEADERS = {"traceparent", "tracestate", "baggage"}
OBSERVE_EVERY_S = 1.0
# what a broker answers for a record larger than it (or the topic) takes, for its whole batch
REFUSED_BY_BROKER = (MessageSizeTooLargeError, RecordListTooLargeError)


class Publisher(Protocol):
    async def send(self, topic: str, *, value: bytes, key: bytes | None,
                   headers: list[tuple[str, bytes]]) -> asyncio.Future: ...


class OutboxRelay:
    """One relay per process; an advisory lock lets only one publish a schema's rows at a time,
    so events of a case leave in the order they were committed."""

    def __init__(self, pool: asyncpg.Pool, producer: Publisher, schema: str, dsn: str,
                 batch_size: int = 500, safety_poll_s: float = 2.0) -> None:
        self._pool = pool
        self._producer = producer
        self._schema = schema
        self._batch = batch_size
        self._safety_poll = safety_poll_s
        self._wakeup = Wakeup(dsn, f"{schema}_outbox")
        self._lock_key = int.from_bytes(
            hashlib.sha256(f"{schema}:outbox".encode()).digest()[:8], "big", signed=True
        )
        self.published = 0
        self._next_observation = 0.0
        self._one_by_one = False  # the broker refused a batch: find the record it refuses

    def wake(self, *_: object) -> None:
        self._wakeup.set()

    async def run(self) -> None:
        try:
            while True:
                try:
                    while await self.drain_once():
                        pass
                    if time.monotonic() >= self._next_observation:
                        await self._observe_backlog()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the database or broker is away: retry, lose nothing
                    log.warning("outbox relay retrying after %s", type(exc).__name__)
                    await asyncio.sleep(1.0)
                    continue
                await self._wakeup.wait(self._safety_poll)
        finally:
            await self._wakeup.close()

    async def _observe_backlog(self) -> None:
        """The backlog gauges, at most once a second (not one more query per drain)."""
        self._next_observation = time.monotonic() + OBSERVE_EVERY_S
        row = await self._pool.fetchrow(
            "SELECT count(*) AS n, EXTRACT(EPOCH FROM clock_timestamp() - min(created_at))"
            " AS age, (SELECT count(*) FROM outbox_parked) AS parked"
            " FROM outbox WHERE published_at IS NULL")
        OUTBOX_BACKLOG.set(row["n"])
        OUTBOX_AGE.set(float(row["age"] or 0))
        OUTBOX_PARKED.set(row["parked"])

    async def drain_once(self) -> bool:
        """Publish one batch; True when a full batch went out (more may wait). A row the
        producer refuses for good is parked instead (`parking`), and the rows after it go on.
        The broker refuses a whole produce batch for one record too large for it: the batch is
        rolled back as for any failure, and the next drain sends one record at a time (a
        record refused alone is the one to park), then batches again."""
        async with self._pool.acquire() as conn, conn.transaction():
            # Taken off the outbox and published in one transaction: if a send fails, the
            # rollback puts them back. Nothing unless this relay holds the schema's lock.
            rows = sorted(await conn.fetch(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox"
                " WHERE published_at IS NULL AND (SELECT pg_try_advisory_xact_lock($2))"
                f" ORDER BY id LIMIT $1) RETURNING {parking.COLUMNS}",
                self._batch, self._lock_key,
            ), key=lambda row: row["id"])
            if not rows:
                return False
            futures, refused = [], []
            for row in rows:
                try:
                    future = await self._send(row)
                except parking.NotARecord as exc:
                    refused.append((row, str(exc)))
                    continue
                except MessageSizeTooLargeError:
                    refused.append((row, f"MessageSizeTooLargeError: {len(row['value'])} bytes,"
                                         " more than the producer's max_request_size"))
                    continue
                if not self._one_by_one:
                    futures.append(future)
                    continue
                try:
                    await future
                except REFUSED_BY_BROKER as exc:
                    refused.append((row, f"{type(exc).__name__} from the broker: "
                                         f"{len(row['value'])} bytes, alone in its batch"))
            if refused:
                await parking.park(conn, refused)
            failed = [r for r in await asyncio.gather(*futures, return_exceptions=True)
                      if isinstance(r, BaseException)]
            if failed:
                self._one_by_one = all(isinstance(e, REFUSED_BY_BROKER) for e in failed)
                raise failed[0]
        self._one_by_one = False
        if refused:
            self._next_observation = 0.0  # the gauge shows them at once
            for row, _ in refused:  # ids and kinds only: no content in the log
                log.error("outbox row %d (%s, event %s) parked: the producer refused it",
                          row["id"], row["topic"], row["event_id"])
        self.published += len(rows) - len(refused)
        return len(rows) == self._batch

    async def _send(self, row: asyncpg.Record) -> asyncio.Future:
        headers = parking.record_headers(row)
        token = otel_context.attach(propagate.extract(dict(headers)))
        try:
            return await self._producer.send(
                row["topic"], value=row["value"],
                key=row["key"].encode() if row["key"] is not None else None,
                headers=[(k, v.encode()) for k, v in headers if k not in _TRACE_HEADERS],
            )
        finally:
            otel_context.detach(token)
