"""A service started while PostgreSQL is away (restarting) waits for it instead of exiting:
the pool is created once the database answers. The database is reached through a TCP relay
that is not listening at first, then forwards to the real PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit, urlunsplit

import pytest

from oncoroute_shared.db.pool import create_pool
from oncoroute_shared.embedded.stack import Infrastructure

from ..support.stack import free_port
from ..support.waiting import eventually

pytestmark = pytest.mark.integration


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def test_the_pool_waits_for_a_database_that_comes_back(
    infra: Infrastructure, caplog: pytest.LogCaptureFixture,
) -> None:
    real = urlsplit(_over_tcp(infra))
    port = free_port()
    relayed = urlunsplit(real._replace(netloc=real.netloc.replace(f":{real.port}", f":{port}")))

    async def relay(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        db_r, db_w = await asyncio.open_connection(real.hostname, real.port)
        await asyncio.gather(_pipe(client_r, db_w), _pipe(db_r, client_w))

    caplog.set_level(logging.WARNING, logger="oncoroute.db")
    creating = asyncio.create_task(create_pool(relayed, "public", 2, wait_s=60))
    await eventually(lambda: _retried(caplog), what="a retry while the database is away")
    assert not creating.done()
    server = await asyncio.start_server(relay, "127.0.0.1", port)
    try:
        pool = await asyncio.wait_for(creating, timeout=60)
        assert await pool.fetchval("SELECT 1") == 1
        await pool.close()
    finally:
        server.close()


async def _retried(caplog: pytest.LogCaptureFixture) -> bool:
    return any("database not reachable yet" in r.getMessage() for r in caplog.records)


async def test_without_a_wait_an_unreachable_database_fails_at_once(
    infra: Infrastructure,
) -> None:
    real = urlsplit(_over_tcp(infra))
    port = free_port()
    gone = urlunsplit(real._replace(netloc=real.netloc.replace(f":{real.port}", f":{port}")))
    with pytest.raises(OSError):
        await create_pool(gone, "public", 2)


def _over_tcp(infra: Infrastructure) -> str:
    """The database's TCP address (the embedded one's services use its Unix socket)."""
    url = infra.postgres.url if infra.postgres else infra.database_url
    assert url and urlsplit(url).port, url
    return url
