"""The board's history-facing reads use the indexes that keep them flat as the record grows
(bench/growth.py found them scanning every offer and every timer ever written): the queries
the board really sends are captured and explained on the real PostgreSQL with sequential
scans discouraged, so a plan can only avoid a full scan through a usable index."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from oncoroute_sla.adapters import board

from .test_sla_timers import SlaSchema, sla_schema_fixture  # noqa: F401  (the fixture)

pytestmark = pytest.mark.integration


async def _plans(conn: asyncpg.Connection, read: Any) -> str:
    sent: list[tuple[str, tuple[Any, ...]]] = []

    def record(query: Any) -> None:
        sent.append((query.query, tuple(query.args or ())))

    conn.add_query_logger(record)
    try:
        await read(conn)
        await asyncio.sleep(0)  # asyncpg hands each logged query over with call_soon
    finally:
        conn.remove_query_logger(record)
    assert sent, "the read sent no query"
    async with conn.transaction():
        await conn.execute("SET LOCAL enable_seqscan = off")
        plans = [await conn.fetch(f"EXPLAIN {query}", *args) for query, args in sent]
    return "\n".join(row[0] for rows in plans for row in rows)


async def test_workload_finds_each_reviewers_latest_offer_by_index(
    sla_schema: SlaSchema,
) -> None:
    async with sla_schema.pool.acquire() as conn:
        plan = await _plans(conn, board.workload)
    assert "offers_reviewer_latest" in plan, plan


async def test_feed_and_breach_counts_read_fired_timers_by_index(sla_schema: SlaSchema) -> None:
    async with sla_schema.pool.acquire() as conn:
        feed = await _plans(conn, board.feed)
        breaches = await _plans(conn, lambda c: board.breaches_since(c, 86_400))
    assert "timers_fired" in feed, feed
    assert "timers_fired" in breaches, breaches
