"""Inbox-guarded consumption: one event, one transaction, one effect.

A record's effects, its inbox row and any events it causes (outbox) commit together; the
Kafka offset is committed only afterwards. Infrastructure failures are never dead-lettered:
the record is redelivered (nack) until the database or broker is back. A handler that keeps
failing on the same record is retried a bounded number of times, then dead-lettered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from opentelemetry import context as otel_context
from opentelemetry import propagate
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


@dataclass(frozen=True)
class Batched:
    """A batch's new event, for a batch handler: `traced()` makes its trace current, so that
    the events it causes continue that trace."""

    event: CloudEvent
    data: Any
    headers: dict[str, str]

    @contextlib.contextmanager
    def traced(self) -> Iterator[None]:
        token = otel_context.attach(propagate.extract(self.headers))
        try:
            yield
        finally:
            otel_context.detach(token)


# Takes what it can of a batch's new events at once and returns the rest, which then go to
# their per-event handlers one by one, in order, in the same transaction. It must not split
# the events of one case (or whatever else orders them) between the two.
BatchHandler = Callable[[asyncpg.Connection, list[Batched]], Awaitable[list[Batched]]]


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Subscription:
    topic: str
    handlers: dict[str, Handler]
    on_invalid: InvalidHandler | None = None  # answer a bad event (e.g. case.rejected)
    # Optional: the same effect as `handlers` for a batch's new events at once, in set-based
    # statements rather than a few round trips per event (see `BatchHandler`)
    batch_handler: BatchHandler | None = None
    # Off every case's path to its reviewers (a timeline, a 24-hour clock): consumed in
    # larger, later batches (KAFKA_BACKGROUND_FETCH_MAX_WAIT_MS), in the consumer group
    # oncoroute.<service>.background
    background: bool = False
    consumer: str = ""  # filled by the runtime: "<service>.<topic>"
    attempts: dict[tuple[int, int], int] = field(default_factory=dict)


def validation_problems(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"path": ".".join(str(p) for p in e["loc"]) or "(root)", "message": e["msg"]}
        for e in exc.errors()
    ]


async def process_topics(batches: dict[str, list[Record]],
                         processor: Callable[[str], Processor], *,
                         side_by_side: bool = True) -> None:
    """A fetch's records, each topic's in its own transaction. `side_by_side`: the topics at
    once, as two processes of the service would take them (order holds within a partition;
    handlers that need a case's events in order across topics serialise them with the case's
    lock), so one topic's slow batch does not hold back another's events; for the small
    batches on a case's way to its reviewers. Otherwise one topic after another: for the large
    batches of background work, where two transactions of hundreds of events each, touching
    the same cases in different orders, would often deadlock. Raises, once every topic begun
    has finished, what the first failing topic raised: the whole fetch is then redelivered
    and the topics that committed are skipped by their inbox, so nothing runs twice."""
    if not side_by_side:
        for topic, records in batches.items():
            await processor(topic).process_batch(records)
        return
    outcomes = await asyncio.gather(
        *(processor(topic).process_batch(records) for topic, records in batches.items()),
        return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


@dataclass(frozen=True)
class _Plan:
    """What one record calls for, decided before any transaction."""

    action: str  # "ignore" | "dead_letter" | "answer_invalid" | "handle"
    event: CloudEvent | None = None
    data: Any = None
    handler: Handler | None = None
    reason: str = ""
    problems: list[dict[str, str]] = field(default_factory=list)


class Processor:
    def __init__(self, pool: asyncpg.Pool, sub: Subscription, max_attempts: int,
                 on_dead_letter: Callable[[str], None] | None = None,
                 transient_backoff_s: float = 1.0) -> None:
        self._pool = pool
        self._sub = sub
        self._max_attempts = max_attempts
        self._on_dead_letter = on_dead_letter or (lambda _consumer: None)
        self._transient_backoff = transient_backoff_s

    async def process_batch(self, recs: list[Record]) -> None:
        """All records in one transaction (one commit, one offset commit); if any handler
        fails, roll back and fall back to one record at a time with the usual retries."""
        plans = [self._plan(rec) for rec in recs]
        if all(plan.action == "ignore" for plan in plans):
            return  # another service's events only: nothing to store, no transaction
        if len(recs) == 1:
            return await self.process(recs[0], plans[0])
        letters = 0
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                new = await self._first_times(conn, recs, plans)
                together: dict[int, tuple[Batched, Record, _Plan]] = {}
                for i, (rec, plan) in enumerate(zip(recs, plans, strict=True)):
                    if self._sub.batch_handler is not None and plan.action == "handle":
                        if i in new and plan.event is not None:
                            item = Batched(plan.event, plan.data, rec.headers)
                            together[id(item)] = (item, rec, plan)
                        continue
                    letters += await self._apply(conn, rec, plan, first_time=i in new)
                if together:
                    letters += await self._hand_over(conn, together)
        except TRANSIENT as exc:
            log.warning("%s: transient %s, redelivering batch", self._sub.consumer,
                        type(exc).__name__)
            await asyncio.sleep(self._transient_backoff)
            raise
        except Exception:
            for rec in recs:  # find and isolate the failing record
                await self.process(rec)
            return
        for _ in range(letters):
            self._on_dead_letter(self._sub.consumer)

    async def _hand_over(self, conn: asyncpg.Connection,
                         together: dict[int, tuple[Batched, Record, _Plan]]) -> int:
        """The batch handler takes what it can; the rest goes one by one, in order."""
        assert self._sub.batch_handler is not None
        rest = await self._sub.batch_handler(conn, [item for item, _, _ in together.values()])
        left = {id(item) for item in rest}
        letters = 0
        for key, (_, rec, plan) in together.items():
            if key in left:
                letters += await self._apply(conn, rec, plan, first_time=True)
            else:
                self._log_done(plan, rec)
        return letters

    async def process(self, rec: Record, plan: _Plan | None = None) -> None:
        """Return normally to commit the offset; raise to have the record redelivered."""
        where = (rec.partition, rec.offset)
        plan = plan or self._plan(rec)
        if plan.action == "ignore":
            return
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                letters = await self._apply(conn, rec, plan)
            if letters:
                self._on_dead_letter(self._sub.consumer)
        except TRANSIENT as exc:
            log.warning("%s: transient %s, redelivering", self._sub.consumer, type(exc).__name__)
            await asyncio.sleep(self._transient_backoff)
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
            await self._write_dead_letter(conn, rec, error)
        self._on_dead_letter(self._sub.consumer)

    async def _write_dead_letter(self, conn: asyncpg.Connection, rec: Record, error: str) -> None:
        await dead_letter(conn, consumer=self._sub.consumer, topic=rec.topic,
                          partition=rec.partition, offset=rec.offset, key=rec.key,
                          value=rec.value, error=error)
        log.warning("%s: dead-lettered %s[%d]@%d: %s", self._sub.consumer, rec.topic,
                    rec.partition, rec.offset, error.split(":")[0])

    def _plan(self, rec: Record) -> _Plan:
        try:
            event = decode(rec.value or b"")
        except EnvelopeError as exc:
            return _Plan("dead_letter", reason=f"permanent: {exc}")
        short = short_type(event.type)
        if short is None:
            return _Plan("dead_letter",
                         reason=f"permanent: unknown event type {event.type[:200]!r}")
        handler = self._sub.handlers.get(short)
        if handler is None:
            return _Plan("ignore")  # another service's event on a shared topic
        try:
            data: BaseModel = model_for(short).model_validate(event.data)
        except ValidationError as exc:
            problems = validation_problems(exc)
            if self._sub.on_invalid is None:
                return _Plan("dead_letter", reason="permanent: invalid data: " + "; ".join(
                    f"{p['path']}: {p['message']}" for p in problems))
            return _Plan("answer_invalid", event=event, problems=problems)
        return _Plan("handle", event=event, data=data, handler=handler)

    async def _apply(self, conn: asyncpg.Connection, rec: Record, plan: _Plan,
                     first_time: bool | None = None) -> int:
        """Carry out a plan inside `conn`'s transaction; returns dead letters written.
        `first_time`: whether the inbox took the event already (None: ask it now).
        The record's trace context is current, so the events it causes continue its trace."""
        token = otel_context.attach(propagate.extract(rec.headers))
        try:
            return await self._apply_in_context(conn, rec, plan, first_time)
        finally:
            otel_context.detach(token)

    async def _apply_in_context(self, conn: asyncpg.Connection, rec: Record, plan: _Plan,
                                first_time: bool | None) -> int:
        if plan.action == "dead_letter":
            await self._write_dead_letter(conn, rec, plan.reason)
            return 1
        if plan.action == "ignore" or plan.event is None:
            return 0
        if first_time is None:
            first_time = await self._first_time(conn, plan.event, rec)
        if not first_time:
            return 0
        if plan.action == "answer_invalid":
            assert self._sub.on_invalid is not None
            await self._sub.on_invalid(conn, plan.event, plan.problems)
        else:
            assert plan.handler is not None
            await plan.handler(conn, plan.event, plan.data)
        self._log_done(plan)
        return 0

    def _log_done(self, plan: _Plan, rec: Record | None = None) -> None:
        """Ids only: the case (when the event names one), the event and the trace (from the
        current context, or from `rec`'s headers when given); never the data."""
        if plan.event is None or not log.isEnabledFor(logging.INFO):
            return
        token = otel_context.attach(propagate.extract(rec.headers)) if rec else None
        try:
            case_id = getattr(plan.data, "case_id", None)
            log.info("%s: %s %s", self._sub.consumer, plan.action, plan.event.type,
                     extra={"event_id": plan.event.id,
                            **({"case_id": case_id} if isinstance(case_id, str) else {})})
        finally:
            if token is not None:
                otel_context.detach(token)

    async def _first_times(self, conn: asyncpg.Connection, recs: list[Record],
                           plans: list[_Plan]) -> set[int]:
        """Put every event of a batch in the inbox in one round trip; the positions of those
        not seen before (of an event twice in the batch, the first)."""
        wanted = [(i, rec, plan.event) for i, (rec, plan) in enumerate(zip(recs, plans,
                                                                           strict=True))
                  if plan.action in ("handle", "answer_invalid") and plan.event is not None]
        if not wanted:
            return set()
        taken = set(await conn.fetchval(
            "WITH t AS (INSERT INTO inbox (consumer, event_id, topic, partition, \"offset\")"
            " SELECT $1, e, t, p, o FROM unnest($2::text[], $3::text[], $4::int[],"
            " $5::bigint[]) AS u(e, t, p, o) ON CONFLICT DO NOTHING RETURNING event_id)"
            " SELECT coalesce(array_agg(event_id), '{}') FROM t",
            self._sub.consumer, [e.id for _, _, e in wanted], [r.topic for _, r, _ in wanted],
            [r.partition for _, r, _ in wanted], [r.offset for _, r, _ in wanted]))
        new: set[int] = set()
        for i, _, event in wanted:
            if event.id in taken:
                taken.discard(event.id)
                new.add(i)
        return new

    async def _first_time(self, conn: asyncpg.Connection, event: CloudEvent, rec: Record) -> bool:
        inserted = await conn.fetchval(
            "INSERT INTO inbox (consumer, event_id, topic, partition, \"offset\")"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true",
            self._sub.consumer, event.id, rec.topic, rec.partition, rec.offset,
        )
        return bool(inserted)
