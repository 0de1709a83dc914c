"""asyncpg pool with JSON codecs, scoped to one service's schema."""

from __future__ import annotations

import asyncpg
import orjson


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typ in ("json", "jsonb"):
        await conn.set_type_codec(
            typ, encoder=lambda v: orjson.dumps(v).decode(), decoder=orjson.loads,
            schema="pg_catalog",
        )


async def create_pool(dsn: str, schema: str, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn, min_size=1, max_size=max_size, init=_init_connection,
        server_settings={"search_path": f"{schema},public", "application_name": schema},
        command_timeout=30,
    )
    assert pool is not None
    return pool
