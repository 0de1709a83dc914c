"""The demo feed of `oncoroute up --demo` works with API keys: it creates its own key, its
cases open, it sends the records some of them were missing, and it stops when told."""

from __future__ import annotations

import asyncio
import threading

import asyncpg
import pytest

from oncoroute_shared.cli.demo import DemoFeed, demo_api_key

from ..support.waiting import eventually
from .conftest import System

pytestmark = pytest.mark.e2e


async def test_the_demo_feed_submits_with_its_own_key(system: System) -> None:
    key = await asyncio.to_thread(demo_api_key, system.env)
    stop = threading.Event()
    feed = DemoFeed(system.url("intake"), 20, stop, api_key=key)
    db = await asyncpg.connect(system.infra.database_url)
    try:
        before = await db.fetchval("SELECT count(*) FROM intake.cases"
                                   " WHERE source = 'demo-hospital'")
        feed.start()

        async def fed() -> bool:
            opened = await db.fetchval("SELECT count(*) FROM intake.cases"
                                       " WHERE source = 'demo-hospital'")
            completed = await db.fetchval(
                "SELECT count(*) FROM intake.timeline t JOIN intake.cases c USING (case_id)"
                " WHERE c.source = 'demo-hospital' AND t.type = 'org.oncoroute.case.updated.v1'")
            return opened - before >= 20 and completed >= 1

        await eventually(fed, timeout=120, what="demo cases opened and records sent later")
    finally:
        stop.set()
        await asyncio.to_thread(feed.join, 10)
        await db.close()
    assert not feed.is_alive()
    # a second `up --demo` rotates the key: the first one no longer works
    await asyncio.to_thread(demo_api_key, system.env)
    listed = system.cli("keys", "list").stdout.splitlines()
    demo_keys = [line for line in listed if "demo-feed" in line]
    assert sum("active" in line for line in demo_keys) == 1
