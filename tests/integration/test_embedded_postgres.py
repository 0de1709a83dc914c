"""The embedded PostgreSQL: services on this machine reach it through its Unix socket (less
CPU a round trip than TCP on loopback), tools and remote clients through TCP, both again
after a restart (its own server, so the session's database is left alone)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from oncoroute_shared.embedded.stack import Infrastructure

from ..support.stack import free_port

pytestmark = pytest.mark.integration


async def _server_address(url: str) -> str | None:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval("SELECT host(inet_server_addr())")  # NULL over a socket
    finally:
        await conn.close()


async def test_services_get_the_unix_socket_and_tcp_stays_open(tmp_path: Path) -> None:
    infra = await asyncio.to_thread(
        Infrastructure(tmp_path, kafka="unused:9092", pg_port=free_port()).start)
    try:
        assert infra.postgres and infra.database_url
        assert infra.env()["DATABASE_URL"] == infra.database_url
        assert await _server_address(infra.database_url) is None
        assert await _server_address(infra.postgres.url) == "127.0.0.1"
        await asyncio.to_thread(infra.postgres.stop)
        await asyncio.to_thread(infra.postgres.start)
        assert await _server_address(infra.database_url) is None
    finally:
        await asyncio.to_thread(infra.stop)
