"""Notify parks an event that arrives before its case's `case.opened` (the topics are consumed
independently) and plays it when the case opens. The two happen in two consumers'
transactions at once: found by the chaos and scale-out runs, an event parked while
`case.opened` was being stored, but committed after it had looked for parked events, stayed
parked for ever (its messages never sent). Real PostgreSQL, two connections."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from oncoroute_notify import samples
from oncoroute_notify.bootstrap import MIGRATIONS_DIR
from oncoroute_notify.domain.links import Links
from oncoroute_notify.domain.policy import NotifyPolicy
from oncoroute_notify.handlers import Deps
from oncoroute_notify.handlers.events import on_event
from oncoroute_shared.contracts.registry import model_for, short_type
from oncoroute_shared.db.migrations import migrate
from oncoroute_shared.db.pool import create_pool
from oncoroute_shared.embedded.stack import Infrastructure
from oncoroute_shared.envelope import CloudEvent, new_event

from ..support.waiting import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def pool(infra: Infrastructure) -> AsyncIterator[asyncpg.Pool]:
    schema = f"t_notify_race_{uuid.uuid4().hex[:8]}"
    assert infra.database_url
    pool = await create_pool(infra.database_url, schema, 4)
    async with pool.acquire() as conn:
        await migrate(conn, schema, MIGRATIONS_DIR)
    try:
        yield pool
    finally:
        await pool.close()
        conn = await asyncpg.connect(infra.database_url)
        try:
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        finally:
            await conn.close()


def deps() -> Deps:
    policy = NotifyPolicy.model_validate({**samples.policy_doc(), "quiet_hours": None})
    return Deps(policy, Links("https://portal.test", "https://matcher.test", "x" * 32,
                              timedelta(hours=1)))


async def handle(conn: asyncpg.Connection, event: CloudEvent) -> None:
    data: Any = model_for(short_type(event.type) or "").model_validate(event.data)
    await on_event(conn, event, data, deps(), datetime.now(UTC))


async def test_an_event_racing_its_case_opened_is_never_left_parked(pool: asyncpg.Pool) -> None:
    case_id = str(uuid.uuid4())
    datas = samples.datas(case_id)
    opened = new_event("case.opened", source="test", subject=case_id, data={
        **datas["case.opened"], "submission": samples.submission(external_id=case_id)})
    breached = new_event("sla.breached", source="test", subject=case_id,
                         data=datas["sla.breached"])
    async with pool.acquire() as first, pool.acquire() as second:
        opening = first.transaction()
        await opening.start()
        await handle(first, opened)  # stored, parked events taken: none yet; not committed
        other_pid = second.get_server_pid()

        async def breach() -> None:
            async with second.transaction():
                await handle(second, breached)

        racing = asyncio.create_task(breach())

        async def done_or_waiting() -> bool:
            return racing.done() or bool(await pool.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1"
                " AND wait_event_type = 'Lock'", other_pid))

        await eventually(done_or_waiting, timeout=30, what="the breach to park or to wait")
        await opening.commit()
        await racing
    assert await pool.fetchval("SELECT count(*) FROM parked_events") == 0, "left parked"
    planned = await pool.fetchval("SELECT count(*) FROM deliveries WHERE source_event_id = $1",
                                  breached.id)
    assert planned >= 1, "the breach's messages were planned"
