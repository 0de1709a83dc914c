"""`oncoroute outbox parked | requeue`, as an operator runs them, on a database of their own
(a fresh database on the embedded PostgreSQL: the services' schemas of the other tests are
left alone)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from oncoroute_shared.db.migrations import migrate
from oncoroute_shared.embedded.stack import Infrastructure

pytestmark = pytest.mark.integration
INTAKE_MIGRATIONS = Path(__file__).parents[2] / "services/intake/oncoroute_intake/migrations"


@pytest.fixture
async def own_database(infra: Infrastructure) -> AsyncIterator[str]:
    assert infra.database_url
    name = f"t_cli_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(infra.database_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(infra.database_url)._replace(path=f"/{name}"))
    try:
        yield url
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


def _oncoroute(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "oncoroute_shared.cli.main", "outbox", *args],
                          env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=60)


async def test_an_operator_lists_parked_events_and_requeues_them(own_database: str) -> None:
    conn = await asyncpg.connect(own_database)
    try:
        await migrate(conn, "intake", INTAKE_MIGRATIONS)
        for event_id, value in (("e-1", b"a" * 10), ("e-2", b"b" * 20)):
            await conn.execute(
                "INSERT INTO intake.outbox_parked (id, topic, key, value, headers, event_id,"
                " created_at, reason) VALUES ((SELECT count(*) + 1 FROM intake.outbox_parked),"
                " 'cases', 'case-1', $1, '[]', $2, now(), 'MessageSizeTooLargeError: ...')",
                value, event_id)

        listed = _oncoroute(own_database, "parked")
        assert listed.returncode == 0, listed.stderr
        lines = [line.split("\t") for line in listed.stdout.splitlines()]
        assert [(f[0], f[1], f[2], f[3], f[4]) for f in lines] == [
            ("intake", "1", "cases", "e-1", "10 bytes"),
            ("intake", "2", "cases", "e-2", "20 bytes")]
        assert "aaaa" not in listed.stdout  # never an event's content
        assert listed.stderr.strip() == "2 parked"

        one = _oncoroute(own_database, "requeue", "intake", "--id", "2")
        assert one.returncode == 0, one.stderr
        assert await conn.fetch("SELECT event_id, value FROM intake.outbox") == [("e-2", b"b" * 20)]
        rest = _oncoroute(own_database, "requeue", "intake")
        assert rest.returncode == 0, rest.stderr
        assert [r["event_id"] for r in await conn.fetch(
            "SELECT event_id FROM intake.outbox ORDER BY id")] == ["e-2", "e-1"]
        assert await conn.fetchval("SELECT count(*) FROM intake.outbox_parked") == 0
        missing = _oncoroute(own_database, "requeue", "intake", "--id", "7")
        assert missing.returncode == 1 and "0 requeued" in missing.stderr
    finally:
        await conn.close()
