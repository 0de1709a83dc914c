"""A running service forgets processed event ids older than INBOX_RETENTION_DAYS (and keeps
the newer ones): the pruning runs in every service, from its start."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from ..support.waiting import eventually
from .conftest import System

pytestmark = pytest.mark.e2e


async def test_a_started_service_prunes_its_inbox_by_age(system: System) -> None:
    old, recent = f"old-{uuid.uuid4()}", f"recent-{uuid.uuid4()}"
    db = await asyncpg.connect(system.infra.database_url)
    try:
        for event_id, days in ((old, 15), (recent, 13)):
            await db.execute(
                "INSERT INTO intake.inbox (consumer, event_id, topic, partition, \"offset\","
                " processed_at) VALUES ('intake.test', $1, 'cases', 0, 0,"
                " now() - make_interval(days => $2))", event_id, days)
        await asyncio.to_thread(system.restart, "intake")  # prunes at start, then hourly

        async def pruned() -> bool:
            left = {r["event_id"] for r in await db.fetch(
                "SELECT event_id FROM intake.inbox WHERE consumer = 'intake.test'")}
            return old not in left

        await eventually(pruned, timeout=60, what="the 15-day-old inbox row pruned")
        assert await db.fetchval("SELECT count(*) FROM intake.inbox WHERE event_id = $1",
                                 recent) == 1
    finally:
        await db.execute("DELETE FROM intake.inbox WHERE consumer = 'intake.test'")
        await db.close()
