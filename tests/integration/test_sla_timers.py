"""Durable timers on the real PostgreSQL: the loop wakes exactly when a timer is armed earlier
than it sleeps, several loops share the work and each timer fires once, overdue timers fire
in due order with their lateness, and a claim that dies before commit loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from oncoroute_shared.db.migrations import migrate
from oncoroute_shared.db.pool import create_pool
from oncoroute_shared.embedded.stack import Infrastructure
from oncoroute_shared.envelope import decode
from oncoroute_sla.adapters import clocks, timers
from oncoroute_sla.bootstrap import SPEC
from oncoroute_sla.domain.clock import open_clock
from oncoroute_sla.domain.policy import SlaPolicy
from oncoroute_sla.domain.schedule import Step
from oncoroute_sla.entrypoints.timer_loop import TimerLoop
from oncoroute_sla.handlers.firing import fire_due

from ..support.waiting import eventually

pytestmark = pytest.mark.integration
POLICY = SlaPolicy()


@dataclass
class SlaSchema:
    name: str
    url: str
    pool: asyncpg.Pool

    async def new_pool(self) -> asyncpg.Pool:
        return await create_pool(self.url, self.name, 4)

    def loop(self, pool: asyncpg.Pool | None = None, **kwargs: Any) -> TimerLoop:
        async def fire(conn: asyncpg.Connection, limit: int) -> Any:
            return await fire_due(conn, POLICY, limit)

        return TimerLoop(pool or self.pool, fire, f"{self.name}_timers", self.url, **kwargs)

    async def now(self) -> datetime:
        return await self.pool.fetchval("SELECT clock_timestamp()")  # type: ignore[no-any-return]

    async def outbox(self) -> list[Any]:
        rows = await self.pool.fetch("SELECT value FROM outbox ORDER BY id")
        return [decode(r["value"]) for r in rows]


@pytest.fixture(name="sla_schema")
async def sla_schema_fixture(infra: Infrastructure) -> AsyncIterator[SlaSchema]:
    """sla's own migrations in a scratch schema of the real PostgreSQL."""
    name = f"sla_t_{uuid.uuid4().hex[:8]}"
    assert infra.database_url
    pool = await create_pool(infra.database_url, name, 6)
    async with pool.acquire() as conn:
        await migrate(conn, name, SPEC.migrations)
    try:
        yield SlaSchema(name, infra.database_url, pool)
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f'DROP SCHEMA "{name}" CASCADE')
        await pool.close()


@contextlib.asynccontextmanager
async def running(*loops: TimerLoop) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(loop.run()) for loop in loops]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def new_clocks(db: SlaSchema, n: int, start: datetime) -> list[str]:
    ids = [f"case-{i:05d}-{uuid.uuid4().hex[:6]}" for i in range(n)]
    async with db.pool.acquire() as conn, conn.transaction():
        for case_id in ids:
            await clocks.insert(conn, open_clock(POLICY, case_id, "standard", None, "ready",
                                                 start))
    return ids


async def arm(db: SlaSchema, case_id: str, step: str, due: datetime) -> None:
    async with db.pool.acquire() as conn:
        await timers.arm(conn, case_id, [Step(step, due)])


async def fired(db: SlaSchema) -> int:
    return int(await db.pool.fetchval("SELECT count(*) FROM timers WHERE fired_at IS NOT NULL"))


async def test_a_sleeping_loop_wakes_for_an_earlier_timer_armed_later(
    sla_schema: SlaSchema,
) -> None:
    now = await sla_schema.now()
    far, soon = await new_clocks(sla_schema, 2, now)
    await arm(sla_schema, far, "breach", now + timedelta(hours=1))
    # No safety wake-up within the test: only the NOTIFY can wake the loop in time.
    loop = sla_schema.loop(safety_wake_s=3600)
    async with running(loop):
        await eventually(lambda: _sleeping(loop), timeout=60, what="the loop to go to sleep")
        await arm(sla_schema, soon, "breach", await sla_schema.now() + timedelta(seconds=0.3))
        await eventually(lambda: fired(sla_schema), timeout=60, what="the early timer to fire")
    events = await sla_schema.outbox()
    assert [(e.type, e.subject) for e in events] == [("org.oncoroute.sla.breached.v1", soon)]
    row = await sla_schema.pool.fetchrow("SELECT due_at, fired_at FROM timers WHERE case_id = $1",
                                         soon)
    assert row["fired_at"] >= row["due_at"], "a timer never fires early"


async def _sleeping(loop: TimerLoop) -> bool:
    return loop._sleeping_until is not None  # noqa: SLF001


async def test_two_loops_share_the_work_and_each_timer_fires_exactly_once(
    sla_schema: SlaSchema,
) -> None:
    now = await sla_schema.now()
    ids = await new_clocks(sla_schema, 300, now)
    due = now + timedelta(seconds=1)
    async with sla_schema.pool.acquire() as conn, conn.transaction():
        await timers.arm_many(conn, [(c, Step(s, due)) for c in ids
                                     for s in ("warning:0.5", "escalation:1", "breach")])
    second_pool = await sla_schema.new_pool()
    loops = (sla_schema.loop(batch_size=50), sla_schema.loop(second_pool, batch_size=50))
    try:
        async with running(*loops):
            # both: the rows committed and each loop's count of them (counted just after
            # its commit, so stopping the loops in between would lose a count)
            await eventually(lambda: _all_fired(sla_schema, 900, loops), timeout=90,
                             what="900 timers to fire")
    finally:
        await second_pool.close()
    events = await sla_schema.outbox()
    keys = [(e.subject, e.data["step"]) for e in events]
    assert len(keys) == 900 and len(set(keys)) == 900
    assert sum(loop.fired for loop in loops) == 900


async def _all_fired(db: SlaSchema, n: int, loops: tuple[TimerLoop, ...] = ()) -> bool:
    return await fired(db) == n and (not loops or sum(loop.fired for loop in loops) >= n)


async def test_overdue_timers_fire_at_once_in_due_order_marked_late(sla_schema: SlaSchema) -> None:
    now = await sla_schema.now()
    ids = await new_clocks(sla_schema, 5, now - timedelta(hours=3))
    # Armed while "down": due between 3 h and 1 h ago, inserted out of order.
    for i, case_id in reversed(list(enumerate(ids))):
        await arm(sla_schema, case_id, "breach", now - timedelta(hours=3 - i * 0.5))
    async with running(sla_schema.loop(batch_size=2)):
        await eventually(lambda: _all_fired(sla_schema, 5), timeout=60, what="overdue timers")
    events = await sla_schema.outbox()
    assert [e.subject for e in events] == ids, "fired in due order"
    for i, e in enumerate(events):
        expected = (3 - i * 0.5) * 3600
        assert expected <= e.data["lateness_seconds"] < expected + 120


async def test_a_claim_that_dies_before_commit_leaves_its_timers_due(sla_schema: SlaSchema) -> None:
    now = await sla_schema.now()
    ids = await new_clocks(sla_schema, 3, now)
    for case_id in ids:
        await arm(sla_schema, case_id, "breach", now - timedelta(seconds=1))
    async with sla_schema.pool.acquire() as a, sla_schema.pool.acquire() as b:
        tx = a.transaction()
        await tx.start()
        first = await timers.claim_due(a, 2)
        async with b.transaction():  # a second process skips what the first holds
            second = await timers.claim_due(b, 10)
            assert {t.case_id for t in second}.isdisjoint({t.case_id for t in first})
            assert len(first) + len(second) == 3
            await b.execute("SET LOCAL lock_timeout = '1s'")
            nxt = await timers.next_due(b)
            assert nxt.busy_elsewhere, "due timers held by the first process are visible"
        await tx.rollback()  # the first process dies before committing
    assert await sla_schema.pool.fetchval(
        "SELECT count(*) FROM timers WHERE fired_at IS NULL") == 2
    async with running(sla_schema.loop()):
        await eventually(lambda: _all_fired(sla_schema, 3), timeout=60, what="the rest to fire")
    assert {e.subject for e in await sla_schema.outbox()} == {t.case_id for t in first}


async def test_only_a_batch_of_due_timers_is_claimed_at_a_time(sla_schema: SlaSchema) -> None:
    now = await sla_schema.now()
    ids = await new_clocks(sla_schema, 30, now)
    async with sla_schema.pool.acquire() as conn, conn.transaction():
        await timers.arm_many(conn, [(c, Step("breach", now - timedelta(seconds=1)))
                                     for c in ids])
        batch = await fire_due(conn, POLICY, 7)
    assert len(batch.due) == 7 and len(batch.announced) == 7
