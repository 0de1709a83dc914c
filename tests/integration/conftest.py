"""A scratch schema with the shared outbox/inbox tables, on the real PostgreSQL."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from oncoroute_shared.db.migrations import migrate
from oncoroute_shared.db.pool import create_pool
from oncoroute_shared.embedded.stack import Infrastructure
from oncoroute_shared.envelope import CloudEvent, encode
from oncoroute_shared.messaging.consumer import Processor, Record


@contextlib.asynccontextmanager
async def migrated_schema(infra: Infrastructure, prefix: str, migrations: Path,
                          pool_size: int = 4) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a fresh schema with `migrations` applied; the schema is dropped after."""
    schema = f"{prefix}{uuid.uuid4().hex[:10]}"
    assert infra.database_url
    pool = await create_pool(infra.database_url, schema, pool_size)
    async with pool.acquire() as conn:
        await migrate(conn, schema, migrations)
    try:
        yield pool
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await pool.close()


@pytest.fixture
async def scratch(infra: Infrastructure, tmp_path: Path) -> AsyncIterator[asyncpg.Pool]:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "001_effects.sql").write_text(
        "CREATE TABLE effects (event_id text NOT NULL, note text);")
    async with migrated_schema(infra, "t_", migrations) as pool:
        yield pool


Processors = Callable[[asyncpg.Pool], dict[str, Processor]]


async def one_by_one_and_batched(
    two: tuple[asyncpg.Pool, asyncpg.Pool], processors: Processors,
    steps: list[tuple[str, list[Any]]], records: Callable[[str, list[Any], int], list[Record]],
    state: Callable[[asyncpg.Pool], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    """Each step's events, as `records` (topic, events, first offset), through the first
    schema's processors one at a time and through the second's as one batch; asserts that
    both leave the same `state`, and returns it."""
    singles, together = processors(two[0]), processors(two[1])
    start = 0
    for topic, events in steps:
        recs = records(topic, events, start)
        start += len(recs)
        for rec in recs:
            await singles[topic].process(rec)
        await together[topic].process_batch(recs)
    expected, got = await state(two[0]), await state(two[1])
    assert got == expected
    return got


@contextlib.asynccontextmanager
async def two_schemas(infra: Infrastructure, prefix: str,
                      migrations: Path) -> AsyncIterator[tuple[asyncpg.Pool, asyncpg.Pool]]:
    """Two fresh schemas with the same migrations, for `one_by_one_and_batched`."""
    async with (migrated_schema(infra, prefix, migrations) as one,
                migrated_schema(infra, prefix, migrations) as other):
        yield one, other


def traced_records(topic: str, events: list[CloudEvent], start: int) -> list[Record]:
    """`events` as the records of one partition from offset `start`, each keyed by its subject
    and carrying its own trace (the events it causes must continue that one)."""
    return [Record(topic, 0, start + n, (e.subject or "").encode(), encode(e),
                   {"traceparent": f"00-{start + n + 1:032x}-{start + n + 1:016x}-01"})
            for n, e in enumerate(events)]
