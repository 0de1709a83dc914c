"""Notify's lease statements against the real PostgreSQL: every channel's free slots in one
statement, the next wake-up from rows waiting and leases running out, and plans that walk
the indexes whatever the parameters (the deliveries table grows without bound)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import asyncpg
import pytest

from oncoroute_notify import samples
from oncoroute_notify.adapters import deliveries
from oncoroute_notify.adapters.channels import Channel, LogChannel
from oncoroute_notify.adapters.templates import Renderer
from oncoroute_notify.bootstrap import MIGRATIONS_DIR
from oncoroute_notify.domain.links import Links
from oncoroute_notify.domain.policy import NotifyPolicy
from oncoroute_notify.domain.schedule import Decision
from oncoroute_notify.entrypoints.worker import IDLE_S, Dispatcher
from oncoroute_notify.handlers import Deps
from oncoroute_notify.handlers.events import on_event
from oncoroute_shared.contracts.notifications import NotificationOutcome
from oncoroute_shared.contracts.registry import model_for
from oncoroute_shared.embedded.stack import Infrastructure
from oncoroute_shared.envelope import new_event
from oncoroute_shared.messaging.outbox import outbox_row

from ..support.waiting import eventually
from .conftest import migrated_schema

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


@pytest.fixture
async def pool(infra: Infrastructure) -> AsyncIterator[asyncpg.Pool]:
    async with migrated_schema(infra, "t_leases_", MIGRATIONS_DIR) as p:
        yield p


async def add(pool: asyncpg.Pool, channel: str, due_in: timedelta, status: str = "pending",
              lease_until: datetime | None = None) -> str:
    delivery_id = str(uuid.uuid4())
    await pool.execute(
        "INSERT INTO deliveries (delivery_id, source_event_id, case_id, audience, channel,"
        " recipient, template, context, status, due_at, created_at, lease_until)"
        " VALUES ($1, $1, 'case-1', 'specialist', $2, 'r', 't', '{}', $3, $4, $5, $6)",
        delivery_id, channel, status, NOW + due_in, NOW, lease_until)
    return delivery_id


async def test_each_channel_gets_at_most_its_free_slots_earliest_first(
    pool: asyncpg.Pool,
) -> None:
    email = [await add(pool, "email", timedelta(seconds=-s)) for s in (3, 2, 1)]
    sms = [await add(pool, "sms", timedelta(seconds=-s)) for s in (3, 2, 1)]
    await add(pool, "webhook", timedelta(hours=1))  # not due yet
    await add(pool, "email", timedelta(seconds=-9), status="sent")  # done already

    async with pool.acquire() as conn:
        first = await deliveries.lease_due(
            conn, {"email": 1, "sms": 2, "webhook": 5}, NOW,
            {"email": LEASE, "sms": 2 * LEASE, "webhook": LEASE})
        by_channel = {c: sorted((r["due_at"], r["delivery_id"]) for r in first
                                if r["channel"] == c) for c in ("email", "sms", "webhook")}
        assert [d for _, d in by_channel["email"]] == email[:1]
        assert [d for _, d in by_channel["sms"]] == sms[:2]
        assert by_channel["webhook"] == []
        assert {(r["channel"], r["lease_until"], r["attempts"]) for r in first} == {
            ("email", NOW + LEASE, 1), ("sms", NOW + 2 * LEASE, 1)}
        assert len({r["lease_token"] for r in first}) == 1

        second = await deliveries.lease_due(conn, {"email": 5, "sms": 5}, NOW,
                                            {"email": LEASE, "sms": LEASE})
    assert sorted(r["delivery_id"] for r in second) == sorted(email[1:] + sms[2:])


async def test_next_wake_is_the_earliest_due_row_or_lease_to_run_out(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        assert await deliveries.next_due(conn, ["email", "sms"]) is None
        await add(pool, "email", timedelta(hours=8), status="deferred")  # quiet hours
        await add(pool, "webhook", timedelta(minutes=1))  # a channel not asked about
        assert await deliveries.next_due(conn, ["email", "sms"]) == NOW + timedelta(hours=8)
        await add(pool, "sms", timedelta(seconds=-5), lease_until=NOW + LEASE)  # in flight
        assert await deliveries.next_due(conn, ["email", "sms"]) == NOW + LEASE
        await add(pool, "email", timedelta(minutes=5), status="retrying")
        assert await deliveries.next_due(conn, ["email"]) == NOW + timedelta(minutes=5)
        await add(pool, "email", timedelta(seconds=-1), status="sent")
        assert await deliveries.next_due(conn, ["email"]) == NOW + timedelta(minutes=5)


class Capture:
    """Stands in for the connection to catch the statement the adapter sends."""

    def __init__(self) -> None:
        self.query = ""

    async def fetch(self, query: str, *_args: object) -> list[object]:
        self.query = query
        return []

    async def fetchval(self, query: str, *_args: object) -> None:
        self.query = query


@pytest.mark.parametrize("statement", ["lease", "next"])
async def test_generic_plans_read_the_indexes_not_the_table(pool: asyncpg.Pool,
                                                            statement: str) -> None:
    """A prepared statement soon runs on a generic plan, which knows no parameter values: the
    statuses must be written out for the partial index to qualify, or every call reads the
    whole table of deliveries ever sent."""
    sent = Capture()
    if statement == "lease":
        await deliveries.lease_due(sent, {"email": 1}, NOW, {"email": LEASE})  # type: ignore[arg-type]
    else:
        await deliveries.next_due(sent, ["email"])  # type: ignore[arg-type]
    async with pool.acquire() as conn:
        await conn.execute(
            "CREATE OR REPLACE FUNCTION pg_temp.generic_plan(q text) RETURNS SETOF text"
            " LANGUAGE plpgsql AS $$ BEGIN RETURN QUERY EXECUTE 'EXPLAIN (GENERIC_PLAN) ' || q;"
            " END $$")
        async with conn.transaction():
            await conn.execute("SET LOCAL enable_seqscan = off")  # a small table would tempt it
            plan = "\n".join(r[0] for r in await conn.fetch(
                "SELECT * FROM pg_temp.generic_plan($1)", sent.query))
    assert "Seq Scan on deliveries" not in plan, plan
    assert "deliveries_due" in plan, plan  # rows waiting, by channel and due time
    assert "deliveries_leased" in plan or statement == "lease", plan  # leases running out
    # index scans in order: they mark the entries of rows sent since dead, bitmap scans don't
    assert "Bitmap" not in plan, plan


async def test_deliveries_are_vacuumed_as_a_queue(pool: asyncpg.Pool) -> None:
    """Ended leases and sent rows leave dead index entries that scans still visit until a
    vacuum: after a few thousand changes, not after a fifth of every delivery ever."""
    options = await pool.fetchval(
        "SELECT reloptions FROM pg_class WHERE oid = 'deliveries'::regclass")
    assert {"autovacuum_vacuum_scale_factor=0", "autovacuum_vacuum_threshold=5000",
            "autovacuum_analyze_scale_factor=0"} <= set(options)


CHANNELS = ("email", "sms", "webhook")


def _deps() -> Deps:
    policy = NotifyPolicy.model_validate({**samples.policy_doc(), "quiet_hours": None})
    return Deps(policy, Links("https://portal.test", "https://matcher.test", "x" * 32,
                              timedelta(hours=1)))


async def _plan_case(pool: asyncpg.Pool) -> str:
    """A case opened as notify plans it: several deliveries, all due now."""
    case_id = str(uuid.uuid4())
    event = new_event("case.opened", source="test", subject=case_id,
                      data=samples.datas(case_id)["case.opened"])
    async with pool.acquire() as conn, conn.transaction():
        await on_event(conn, event, model_for("case.opened").model_validate(event.data),
                       _deps(), datetime.now(UTC))
    return case_id


async def _run_loop(pool: asyncpg.Pool, concurrency: int) -> tuple[Dispatcher, asyncio.Task]:
    dispatcher = Dispatcher(pool, {c: LogChannel(c) for c in CHANNELS}, Renderer(), _deps(),
                            concurrency)
    return dispatcher, asyncio.create_task(dispatcher.run(None))  # no LISTEN: no wake-ups


async def _all_sent(pool: asyncpg.Pool, n: int) -> bool | None:
    sent = await pool.fetchval("SELECT count(*) FROM deliveries WHERE status = 'sent'")
    total = await pool.fetchval("SELECT count(*) FROM deliveries")
    return True if total >= n and sent == total else None


async def test_sends_that_went_out_cost_the_loop_no_statements(pool: asyncpg.Pool) -> None:
    """A send that simply went out leaves nothing new to lease or to wait for: the loop
    goes back to waiting without a lease or a next-due lookup (it used to do both after
    every send, three times a case)."""
    await _plan_case(pool)
    planned = await pool.fetchval("SELECT count(*) FROM deliveries")
    assert planned >= 2
    started = time.monotonic()
    dispatcher, task = await _run_loop(pool, concurrency=8)  # room for every one
    try:
        async def settled() -> bool | None:
            if not await _all_sent(pool, planned):
                return None
            quiet = (dispatcher.idle.is_set() and not dispatcher.wake.is_set()
                     and not any(dispatcher._inflight.values()))
            return True if quiet else None

        await eventually(settled, timeout=30, what="every delivery sent, the loop waiting")
        timed_looks = int((time.monotonic() - started) // IDLE_S)  # one each IDLE_S at most
        assert dispatcher.passes <= 1 + timed_looks
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_channel_with_more_due_than_slots_drains_without_a_wake_up(
    pool: asyncpg.Pool,
) -> None:
    """One slot per channel and several deliveries due on each: each finished send lets the
    next one go at once, not at the loop's next timed look (IDLE_S later)."""
    for _ in range(2):
        await _plan_case(pool)
    planned = await pool.fetchval("SELECT count(*) FROM deliveries")
    busiest = await pool.fetchval(
        "SELECT max(n) FROM (SELECT count(*) AS n FROM deliveries GROUP BY channel) AS c")
    assert busiest >= 2
    dispatcher, task = await _run_loop(pool, concurrency=1)
    try:
        await eventually(lambda: _all_sent(pool, planned), timeout=IDLE_S * 0.6,
                         what="every delivery sent well before the next timed look")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


class _Holding(LogChannel):
    """Sends like the log channel; after its first send, locks that delivery's row in a
    transaction of its own, so the outcome cannot be recorded until `release`."""

    def __init__(self, name: str, pool: asyncpg.Pool) -> None:
        super().__init__(name)
        self.pool = pool
        self.sent: list[str] = []
        self.conn: asyncpg.Connection | None = None
        self.tx: Any = None

    async def send(self, message: Any) -> None:
        await super().send(message)
        self.sent.append(message.delivery_id)
        if len(self.sent) == 1:  # the first send only, not again after `release`
            self.conn = await self.pool.acquire()
            self.tx = self.conn.transaction()
            await self.tx.start()
            await self.conn.execute("SELECT 1 FROM deliveries WHERE delivery_id = $1 FOR UPDATE",
                                    message.delivery_id)

    async def release(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            await self.tx.rollback()
            await self.pool.release(conn)


async def test_a_slot_is_free_once_the_channel_answers_not_once_the_outcome_is_recorded(
    pool: asyncpg.Pool,
) -> None:
    """One slot per channel: while the first send's outcome waits to be recorded (its row
    locked elsewhere), the channel already takes the next delivery; the first is recorded
    once the lock goes, and nothing is sent twice."""
    for _ in range(2):
        await _plan_case(pool)
    busiest = await pool.fetchval(
        "SELECT channel FROM deliveries GROUP BY channel ORDER BY count(*) DESC LIMIT 1")
    planned = await pool.fetchval("SELECT count(*) FROM deliveries")
    holding = _Holding(busiest, pool)
    channels: dict[str, Channel] = {c: holding if c == busiest else LogChannel(c)
                                    for c in CHANNELS}
    dispatcher = Dispatcher(pool, channels, Renderer(), _deps(), 1)
    task = asyncio.create_task(dispatcher.run(None))
    try:
        async def two_sent() -> bool | None:
            return True if len(holding.sent) >= 2 else None

        await eventually(two_sent, timeout=IDLE_S * 0.6,
                         what="the next send while the first is still being recorded")
        first = await pool.fetchval("SELECT status FROM deliveries WHERE delivery_id = $1",
                                    holding.sent[0])
        assert first == "pending"  # its outcome is still waiting for the lock
        await holding.release()
        await eventually(lambda: _all_sent(pool, planned), timeout=30, what="all sent")
        assert len(holding.sent) == len(set(holding.sent))
    finally:
        await holding.release()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


class _Logged:
    """The pool, writing down every statement its connections run."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool, self.statements = pool, cast(list[str], [])

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.pool.acquire() as conn:
            conn.add_query_logger(self._log)
            try:
                yield conn
            finally:
                conn.remove_query_logger(self._log)

    def _log(self, query: Any) -> None:
        self.statements.append(query.query)


class _AllAtOnce:
    """Channels that hold every send until `n` have arrived, then answer them together."""

    def __init__(self, n: int) -> None:
        self.n, self.arrived, self.go = n, 0, asyncio.Event()

    def channel(self, name: str) -> Channel:
        gate = self

        class Held(LogChannel):
            async def send(self, message: Any) -> None:
                gate.arrived += 1
                if gate.arrived >= gate.n:
                    gate.go.set()
                await gate.go.wait()
                await super().send(message)

        return Held(name)


async def test_outcomes_answered_together_are_recorded_in_one_statement(
    pool: asyncpg.Pool,
) -> None:
    """A case's messages go out together: once their channels answer, the outcomes and their
    `notification.sent` events are recorded in one statement between them, not one each."""
    await _plan_case(pool)
    planned = await pool.fetchval("SELECT count(*) FROM deliveries")
    assert planned >= 2
    logged, gate = _Logged(pool), _AllAtOnce(planned)
    dispatcher = Dispatcher(cast(asyncpg.Pool, logged), {c: gate.channel(c) for c in CHANNELS},
                            Renderer(), _deps(), 8)
    task = asyncio.create_task(dispatcher.run(None))
    try:
        await eventually(lambda: _all_sent(pool, planned), timeout=30, what="all sent")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    finishes = [q for q in logged.statements if "lease_token = NULL" in q]
    assert len(finishes) == 1
    sent = {r["delivery_id"] for r in await pool.fetch("SELECT delivery_id FROM deliveries")}
    announced = [json.loads(r["value"])["data"]["delivery_id"]
                 for r in await pool.fetch("SELECT value FROM outbox ORDER BY id")]
    assert sorted(announced) == sorted(sent)


async def test_outcomes_recorded_together_skip_a_lost_lease_and_its_event(
    pool: asyncpg.Pool,
) -> None:
    """Of outcomes recorded in one statement, one whose lease another worker has taken over
    is neither recorded nor announced; the others are, their events in the given order."""
    ids = [await add(pool, "email", timedelta(minutes=-i)) for i in range(3)]
    async with pool.acquire() as conn:
        rows = await deliveries.lease_due(conn, {"email": 3}, NOW, {"email": LEASE})
        assert {r["delivery_id"] for r in rows} == set(ids)
        by_id = {r["delivery_id"]: r for r in rows}
        lost = {**by_id[ids[1]], "lease_token": "another worker's"}
        outcomes = [(row, Decision("sent", NOW), NOW,
                     outbox_row("notification.sent", source="test", case_id="case-1",
                                data=_sent(row["delivery_id"])))
                    for row in (by_id[ids[2]], lost, by_id[ids[0]])]
        recorded = await deliveries.finish_many(conn, outcomes)
    assert recorded == {ids[0], ids[2]}
    status = dict(await pool.fetch("SELECT delivery_id, status FROM deliveries"))
    assert status == {ids[0]: "sent", ids[1]: "pending", ids[2]: "sent"}
    queued = await pool.fetch("SELECT event_id, key, value, headers FROM outbox ORDER BY id")
    assert [json.loads(r["value"])["data"]["delivery_id"] for r in queued] == [ids[2], ids[0]]
    events = {e.event_id: e for _, _, _, e in outcomes if e is not None}
    for r in queued:  # exactly the rows `emit` would have written, headers and all
        e = events[r["event_id"]]
        assert (r["key"], bytes(r["value"]), r["headers"]) == (e.key, e.value, e.headers)


def _sent(delivery_id: str) -> NotificationOutcome:
    return NotificationOutcome(delivery_id=delivery_id, case_id="case-1",
                               source_event_id=delivery_id, audience="specialist",
                               channel="email", template="t")
