"""asyncpg pool with JSON codecs, scoped to one service's schema."""

from __future__ import annotations

import asyncio
import logging
import time

import asyncpg
import orjson

log = logging.getLogger("oncoroute.db")
# A database that is restarting ("the database system is starting up") or not listening yet
UNREACHABLE = (asyncpg.CannotConnectNowError, asyncpg.PostgresConnectionError, OSError)


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typ in ("json", "jsonb"):
        await conn.set_type_codec(
            typ, encoder=lambda v: orjson.dumps(v).decode(), decoder=orjson.loads,
            schema="pg_catalog",
        )


async def _reset(conn: asyncpg.Connection) -> None:
    """On release: asyncpg's full reset (UNLISTEN, RESET ALL, advisory unlock, CLOSE ALL) is
    one more round trip per transaction, for session state no pooled connection here takes
    (LISTEN and session advisory locks have their own connections; settings are SET LOCAL).
    A connection left inside a transaction still gets it."""
    if conn.is_in_transaction():
        await conn.reset()


async def create_pool(dsn: str, schema: str, max_size: int = 10, *,
                      wait_s: float = 0.0) -> asyncpg.Pool:
    """The pool, waiting up to `wait_s` for a database that is starting or restarting, so a
    service started during a database restart comes up once it is back instead of exiting."""
    deadline = time.monotonic() + wait_s
    delay = 0.2
    while True:
        try:
            pool = await asyncpg.create_pool(
                dsn, min_size=1, max_size=max_size, init=_init_connection, reset=_reset,
                server_settings={"search_path": f"{schema},public", "application_name": schema},
                command_timeout=30,
            )
        except UNREACHABLE as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("database not reachable yet (%s); retrying in %.1f s",
                        type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
            continue
        assert pool is not None
        return pool
