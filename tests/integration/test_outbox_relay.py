"""The relay publishes committed outbox rows to the real broker, in commit order, woken by
NOTIFY; uncommitted rows never leave."""

from __future__ import annotations

import asyncio
import uuid
from typing import cast

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError

from oncoroute_shared.embedded.stack import Infrastructure
from oncoroute_shared.envelope import decode, encode, new_event
from oncoroute_shared.messaging import parking
from oncoroute_shared.messaging.outbox import emit, enqueue
from oncoroute_shared.messaging.relay import OutboxRelay
from oncoroute_shared.metrics import OUTBOX_PARKED

from ..support.kafka import events
from ..support.waiting import eventually

pytestmark = pytest.mark.integration


class _Producer:
    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._p = producer

    async def send(self, topic: str, *, value: bytes, key: bytes | None,
                   headers: list[tuple[str, bytes]]) -> asyncio.Future:
        return await self._p.send(topic, value=value, key=key, headers=headers)


async def test_committed_events_leave_in_order_and_rolled_back_never(
    scratch: asyncpg.Pool, infra: Infrastructure
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka, acks="all")
    await producer.start()
    schema = await scratch.fetchval("SELECT current_schema()")
    relay = OutboxRelay(scratch, _Producer(producer), schema, infra.database_url or "",
                        batch_size=7)
    task = asyncio.create_task(relay.run())
    case_id = f"relay-{uuid.uuid4()}"
    try:
        async with scratch.acquire() as conn:
            with pytest.raises(RuntimeError):
                async with conn.transaction():
                    await emit(conn, "case.closed", source="t", case_id=case_id,
                               data={"case_id": case_id, "reason": "cancelled"})
                    raise RuntimeError("rolled back")
            sent = []
            for _ in range(3):
                async with conn.transaction():
                    for _ in range(10):
                        sent.append((await emit(conn, "case.updated", source="t",
                                                case_id=case_id,
                                                data={"case_id": case_id, "status": "ready"})).id)

        async def arrived() -> list[str] | None:
            got = [e.id for e in await events(infra.kafka or "", "cases")
                   if e.subject == case_id]
            return got if len(got) >= len(sent) else None

        got = await eventually(arrived, timeout=30, what="relayed events")
        assert got == sent
        assert await scratch.fetchval("SELECT count(*) FROM outbox") == 0
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await producer.stop()


def test_decode_roundtrip_of_relayed_bytes() -> None:
    from oncoroute_shared.envelope import encode, new_event

    event = new_event("case.updated", source="t", subject="c", data={"case_id": "c",
                                                                      "status": "ready"})
    assert decode(encode(event)) == event


class _Recorder:
    """Records what a relay would publish; every send succeeds at once."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    async def send(self, topic: str, *, value: bytes, key: bytes | None,
                   headers: list[tuple[str, bytes]]) -> asyncio.Future:
        self.sent.append(value)
        done: asyncio.Future = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def test_only_the_relay_holding_the_schema_lock_publishes(scratch: asyncpg.Pool) -> None:
    """Two processes' relays on one schema: while one holds the schema's lock (mid-drain),
    the other publishes nothing and deletes nothing, so a case's events leave once, in order."""
    schema = await scratch.fetchval("SELECT current_schema()")
    recorder = _Recorder()
    relay = OutboxRelay(scratch, recorder, schema, "", batch_size=50)
    case_id = f"relay-{uuid.uuid4()}"
    async with scratch.acquire() as conn, conn.transaction():
        for _ in range(3):
            await emit(conn, "case.updated", source="t", case_id=case_id,
                       data={"case_id": case_id, "status": "ready"})
    async with scratch.acquire() as other, other.transaction():
        assert await other.fetchval("SELECT pg_try_advisory_xact_lock($1)", relay._lock_key)
        assert await relay.drain_once() is False
        assert recorder.sent == []
        assert await scratch.fetchval("SELECT count(*) FROM outbox") == 3
    assert await relay.drain_once() is False  # not a full batch: nothing more waits
    assert [decode(v).subject for v in recorder.sent] == [case_id] * 3
    assert await scratch.fetchval("SELECT count(*) FROM outbox") == 0


class _BrokerAway:
    def __init__(self) -> None:
        self.tries = 0

    async def send(self, topic: str, *, value: bytes, key: bytes | None,
                   headers: list[tuple[str, bytes]]) -> asyncio.Future:
        self.tries += 1
        raise ConnectionError("broker away")


async def test_rows_whose_publication_failed_stay_in_the_outbox(
    scratch: asyncpg.Pool, infra: Infrastructure
) -> None:
    """Rows are taken off the outbox in the transaction that publishes them: a send that
    fails rolls the taking back, and the next drain publishes them, in order."""
    schema = await scratch.fetchval("SELECT current_schema()")
    away = _BrokerAway()
    relay = OutboxRelay(scratch, away, schema, infra.database_url or "", batch_size=10)
    case_id = f"relay-{uuid.uuid4()}"
    async with scratch.acquire() as conn, conn.transaction():
        sent = [(await emit(conn, "case.updated", source="t", case_id=case_id,
                            data={"case_id": case_id, "status": "ready"})).id
                for _ in range(3)]
    with pytest.raises(ConnectionError):
        await relay.drain_once()
    assert away.tries == 1
    assert await scratch.fetchval("SELECT count(*) FROM outbox") == 3
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka, acks="all")
    await producer.start()
    try:
        relay = OutboxRelay(scratch, _Producer(producer), schema, infra.database_url or "",
                            batch_size=10)
        assert await relay.drain_once() is False  # not a full batch: nothing more waits
    finally:
        await producer.stop()
    assert await scratch.fetchval("SELECT count(*) FROM outbox") == 0

    async def arrived() -> list[str] | None:
        got = [e.id for e in await events(infra.kafka or "", "cases") if e.subject == case_id]
        return got if len(got) >= len(sent) else None

    assert await eventually(arrived, timeout=30, what="relayed events") == sent


async def test_rows_the_producer_refuses_for_good_are_parked_and_the_rows_after_go_on(
    scratch: asyncpg.Pool, infra: Infrastructure
) -> None:
    """A row larger than the producer may send, and one whose headers are not a record's,
    would fail on every try: they are parked with the reason (whole, in the transaction that
    takes them off the outbox), the events after them are published in order, the gauge
    counts them, and a requeued row is published once fixed."""
    schema = await scratch.fetchval("SELECT current_schema()")
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka, acks="all")  # 1 MiB at most
    await producer.start()
    relay = OutboxRelay(scratch, _Producer(producer), schema, infra.database_url or "",
                        batch_size=10)
    case_id = f"relay-{uuid.uuid4()}"
    too_large = b"x" * (1024 * 1024 + 1)
    fixable = new_event("case.updated", source="t", subject=case_id,
                        data={"case_id": case_id, "status": "ready"})
    try:
        async with scratch.acquire() as conn, conn.transaction():
            before = (await emit(conn, "case.updated", source="t", case_id=case_id,
                                 data={"case_id": case_id, "status": "ready"})).id
            await enqueue(conn, "cases", case_id, too_large, event_id="too-large")
            await conn.execute(
                "INSERT INTO outbox (topic, key, value, headers, event_id)"
                " VALUES ('cases', $1, $2, '{\"not\": \"pairs\"}', $3)",
                case_id, encode(fixable), fixable.id)
            after = (await emit(conn, "case.updated", source="t", case_id=case_id,
                                data={"case_id": case_id, "status": "ready"})).id
        assert await relay.drain_once() is False

        async def arrived(n: int) -> list[str] | None:
            got = [e.id for e in await events(infra.kafka or "", "cases")
                   if e.subject == case_id]
            return got if len(got) >= n else None

        assert await eventually(lambda: arrived(2), timeout=30, what="relayed") == [before,
                                                                                     after]
        assert await scratch.fetchval("SELECT count(*) FROM outbox") == 0
        parked = await scratch.fetch(
            "SELECT id, event_id, value, reason FROM outbox_parked ORDER BY id")
        assert [r["event_id"] for r in parked] == ["too-large", fixable.id]
        assert parked[0]["value"] == too_large
        assert parked[0]["reason"].startswith("MessageSizeTooLargeError: 1048577 bytes")
        assert parked[1]["reason"] == "headers are not a list of [name, value] strings"
        assert relay.published == 2
        await relay._observe_backlog()
        assert OUTBOX_PARKED.collect()[0].samples[0].value == 2

        async with scratch.acquire() as conn, conn.transaction():
            await conn.execute("UPDATE outbox_parked SET headers = '[]' WHERE id = $1",
                               parked[1]["id"])
            listed = await parking.listing(conn)
            assert [(r["event_id"], r["bytes"]) for r in listed] == [
                ("too-large", len(too_large)), (fixable.id, len(encode(fixable)))]
            assert await parking.requeue(conn, [parked[1]["id"]]) == 1
        assert await relay.drain_once() is False
        assert await scratch.fetchval("SELECT count(*) FROM outbox_parked") == 1
        got = await eventually(lambda: arrived(3), timeout=30, what="the requeued row")
        assert got == [before, after, fixable.id]
    finally:
        await producer.stop()


class _RefusingBroker:
    """Answers produce batches as Apache Kafka does for a record larger than its
    `max.message.bytes` (the embedded broker enforces no limit): every record sent before the
    next turn of the event loop is one batch, and a batch holding a record over `limit` is
    refused whole with MessageSizeTooLargeError."""

    def __init__(self, limit: int) -> None:
        self.limit, self.published, self.batches = limit, cast(list[bytes], []), cast(
            list[int], [])
        self._pending: list[tuple[bytes, asyncio.Future]] = []

    async def send(self, topic: str, *, value: bytes, key: bytes | None,
                   headers: list[tuple[str, bytes]]) -> asyncio.Future:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._answer)
        done: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending.append((value, done))
        return done

    def _answer(self) -> None:
        batch, self._pending = self._pending, []
        self.batches.append(len(batch))
        refused = any(len(value) > self.limit for value, _ in batch)
        for value, done in batch:
            if refused:
                done.set_exception(MessageSizeTooLargeError())
            else:
                self.published.append(value)
                done.set_result(None)


async def test_a_record_the_broker_refuses_is_found_alone_and_parked(
    scratch: asyncpg.Pool,
) -> None:
    """The broker refuses a whole batch for one record: the batch stays in the outbox, the next
    drain sends one record at a time and parks the one refused alone, the others go in
    order, and the drain after that batches again."""
    schema = await scratch.fetchval("SELECT current_schema()")
    broker = _RefusingBroker(limit=10_000)
    relay = OutboxRelay(scratch, broker, schema, "", batch_size=10)
    values = [b"a" * 10, b"b" * 20_000, b"c" * 10]
    async with scratch.acquire() as conn, conn.transaction():
        for n, value in enumerate(values):
            await enqueue(conn, "cases", "case-1", value, event_id=f"e-{n}")
    with pytest.raises(MessageSizeTooLargeError):
        await relay.drain_once()
    assert broker.published == [] and broker.batches == [3]
    assert await scratch.fetchval("SELECT count(*) FROM outbox") == 3
    assert await relay.drain_once() is False
    assert broker.published == [values[0], values[2]]
    assert broker.batches == [3, 1, 1, 1]
    parked = await scratch.fetch("SELECT event_id, reason FROM outbox_parked")
    assert [(r["event_id"], r["reason"]) for r in parked] == [
        ("e-1", "MessageSizeTooLargeError from the broker: 20000 bytes, alone in its batch")]
    assert await scratch.fetchval("SELECT count(*) FROM outbox") == 0
    async with scratch.acquire() as conn, conn.transaction():
        for n in range(2):
            await enqueue(conn, "cases", "case-1", b"d" * 10, event_id=f"later-{n}")
    assert await relay.drain_once() is False
    assert broker.batches[-1] == 2  # batching again
