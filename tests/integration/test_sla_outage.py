"""The timer loop outlives a PostgreSQL restart: it keeps running, listens again, and fires
what is armed afterwards (its own PostgreSQL, so the session's database is left alone)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from oncoroute_shared.db.migrations import migrate
from oncoroute_shared.db.pool import create_pool
from oncoroute_shared.embedded.postgres import EmbeddedPostgres
from oncoroute_sla.bootstrap import SPEC

from ..support.stack import free_port
from ..support.waiting import eventually
from .test_sla_timers import SlaSchema, arm, fired, new_clocks

pytestmark = pytest.mark.integration


@pytest.fixture
async def own_database(tmp_path: Path) -> AsyncIterator[tuple[EmbeddedPostgres, SlaSchema]]:
    pg = await asyncio.to_thread(EmbeddedPostgres(tmp_path / "pg", port=free_port()).start)
    pool = await create_pool(pg.url, "sla", 4)
    async with pool.acquire() as conn:
        await migrate(conn, "sla", SPEC.migrations)
    try:
        yield pg, SlaSchema("sla", pg.url, pool)
    finally:
        await pool.close()
        await asyncio.to_thread(pg.stop)


async def test_the_timer_loop_survives_a_database_restart(
    own_database: tuple[EmbeddedPostgres, SlaSchema],
) -> None:
    pg, db = own_database
    # The loop has its own pool, as the service has: the test's probes are another client
    service_pool = await db.new_pool()
    loop = db.loop(service_pool, safety_wake_s=3600)  # only a NOTIFY (or a reconnect) wakes it
    task = asyncio.create_task(loop.run())
    try:
        [before] = await new_clocks(db, 1, await db.now())
        await arm(db, before, "breach", await db.now() + timedelta(seconds=0.2))
        await eventually(lambda: fired(db), timeout=60, what="a timer before the restart")
        await asyncio.to_thread(pg.stop)
        await asyncio.to_thread(pg.start)

        async def armed_after() -> str:
            [case_id] = await new_clocks(db, 1, await db.now())
            await arm(db, case_id, "breach", await db.now() + timedelta(seconds=0.2))
            return case_id

        after = await eventually(armed_after, timeout=60, what="the database to be back")

        async def both_fired() -> bool:
            return await fired(db) == 2

        await eventually(both_fired, timeout=60, what="the timer armed after the restart")
        assert not task.done(), "the loop is still running"
        assert {e.subject for e in await db.outbox()} == {before, after}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await service_pool.close()
