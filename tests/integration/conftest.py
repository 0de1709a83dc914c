"""A scratch schema with the shared outbox/inbox tables, on the real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from oncoroute_shared.db.migrations import migrate
from oncoroute_shared.db.pool import create_pool
from oncoroute_shared.embedded.stack import Infrastructure


@pytest.fixture
async def scratch(infra: Infrastructure, tmp_path: Path) -> AsyncIterator[asyncpg.Pool]:
    schema = f"t_{uuid.uuid4().hex[:10]}"
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "001_effects.sql").write_text(
        "CREATE TABLE effects (event_id text NOT NULL, note text);")
    assert infra.database_url
    pool = await create_pool(infra.database_url, schema, 4)
    async with pool.acquire() as conn:
        await migrate(conn, schema, migrations)
    pool_schema = schema
    try:
        yield pool
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f'DROP SCHEMA "{pool_schema}" CASCADE')
        await pool.close()
