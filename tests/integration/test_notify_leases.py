"""Notify's lease statements against the real PostgreSQL: every channel's free slots in one
statement, the next wake-up from rows waiting and leases running out, and plans that walk
the indexes whatever the parameters (the deliveries table grows without bound)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from oncoroute_notify.adapters import deliveries
from oncoroute_notify.bootstrap import MIGRATIONS_DIR
from oncoroute_shared.embedded.stack import Infrastructure

from .conftest import migrated_schema

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


@pytest.fixture
async def pool(infra: Infrastructure) -> AsyncIterator[asyncpg.Pool]:
    async with migrated_schema(infra, "t_leases_", MIGRATIONS_DIR) as p:
        yield p


async def add(pool: asyncpg.Pool, channel: str, due_in: timedelta, status: str = "pending",
              lease_until: datetime | None = None) -> str:
    delivery_id = str(uuid.uuid4())
    await pool.execute(
        "INSERT INTO deliveries (delivery_id, source_event_id, case_id, audience, channel,"
        " recipient, template, context, status, due_at, created_at, lease_until)"
        " VALUES ($1, $1, 'case-1', 'specialist', $2, 'r', 't', '{}', $3, $4, $5, $6)",
        delivery_id, channel, status, NOW + due_in, NOW, lease_until)
    return delivery_id


async def test_each_channel_gets_at_most_its_free_slots_earliest_first(
    pool: asyncpg.Pool,
) -> None:
    email = [await add(pool, "email", timedelta(seconds=-s)) for s in (3, 2, 1)]
    sms = [await add(pool, "sms", timedelta(seconds=-s)) for s in (3, 2, 1)]
    await add(pool, "webhook", timedelta(hours=1))  # not due yet
    await add(pool, "email", timedelta(seconds=-9), status="sent")  # done already

    async with pool.acquire() as conn:
        first = await deliveries.lease_due(
            conn, {"email": 1, "sms": 2, "webhook": 5}, NOW,
            {"email": LEASE, "sms": 2 * LEASE, "webhook": LEASE})
        by_channel = {c: sorted((r["due_at"], r["delivery_id"]) for r in first
                                if r["channel"] == c) for c in ("email", "sms", "webhook")}
        assert [d for _, d in by_channel["email"]] == email[:1]
        assert [d for _, d in by_channel["sms"]] == sms[:2]
        assert by_channel["webhook"] == []
        assert {(r["channel"], r["lease_until"], r["attempts"]) for r in first} == {
            ("email", NOW + LEASE, 1), ("sms", NOW + 2 * LEASE, 1)}
        assert len({r["lease_token"] for r in first}) == 1

        second = await deliveries.lease_due(conn, {"email": 5, "sms": 5}, NOW,
                                            {"email": LEASE, "sms": LEASE})
    assert sorted(r["delivery_id"] for r in second) == sorted(email[1:] + sms[2:])


async def test_next_wake_is_the_earliest_due_row_or_lease_to_run_out(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        assert await deliveries.next_due(conn, ["email", "sms"]) is None
        await add(pool, "email", timedelta(hours=8), status="deferred")  # quiet hours
        await add(pool, "webhook", timedelta(minutes=1))  # a channel not asked about
        assert await deliveries.next_due(conn, ["email", "sms"]) == NOW + timedelta(hours=8)
        await add(pool, "sms", timedelta(seconds=-5), lease_until=NOW + LEASE)  # in flight
        assert await deliveries.next_due(conn, ["email", "sms"]) == NOW + LEASE
        await add(pool, "email", timedelta(minutes=5), status="retrying")
        assert await deliveries.next_due(conn, ["email"]) == NOW + timedelta(minutes=5)
        await add(pool, "email", timedelta(seconds=-1), status="sent")
        assert await deliveries.next_due(conn, ["email"]) == NOW + timedelta(minutes=5)


class Capture:
    """Stands in for the connection to catch the statement the adapter sends."""

    def __init__(self) -> None:
        self.query = ""

    async def fetch(self, query: str, *_args: object) -> list[object]:
        self.query = query
        return []

    async def fetchval(self, query: str, *_args: object) -> None:
        self.query = query


@pytest.mark.parametrize("statement", ["lease", "next"])
async def test_generic_plans_read_the_indexes_not_the_table(pool: asyncpg.Pool,
                                                            statement: str) -> None:
    """A prepared statement soon runs on a generic plan, which knows no parameter values: the
    statuses must be written out for the partial index to qualify, or every call reads the
    whole table of deliveries ever sent."""
    sent = Capture()
    if statement == "lease":
        await deliveries.lease_due(sent, {"email": 1}, NOW, {"email": LEASE})  # type: ignore[arg-type]
    else:
        await deliveries.next_due(sent, ["email"])  # type: ignore[arg-type]
    async with pool.acquire() as conn:
        await conn.execute(
            "CREATE OR REPLACE FUNCTION pg_temp.generic_plan(q text) RETURNS SETOF text"
            " LANGUAGE plpgsql AS $$ BEGIN RETURN QUERY EXECUTE 'EXPLAIN (GENERIC_PLAN) ' || q;"
            " END $$")
        async with conn.transaction():
            await conn.execute("SET LOCAL enable_seqscan = off")  # a small table would tempt it
            plan = "\n".join(r[0] for r in await conn.fetch(
                "SELECT * FROM pg_temp.generic_plan($1)", sent.query))
    assert "Seq Scan on deliveries" not in plan, plan
    assert "deliveries_due" in plan, plan  # rows waiting, by channel and due time
    assert "deliveries_leased" in plan or statement == "lease", plan  # leases running out
    # index scans in order: they mark the entries of rows sent since dead, bitmap scans don't
    assert "Bitmap" not in plan, plan


async def test_deliveries_are_vacuumed_as_a_queue(pool: asyncpg.Pool) -> None:
    """Ended leases and sent rows leave dead index entries that scans still visit until a
    vacuum: after a few thousand changes, not after a fifth of every delivery ever."""
    options = await pool.fetchval(
        "SELECT reloptions FROM pg_class WHERE oid = 'deliveries'::regclass")
    assert {"autovacuum_vacuum_scale_factor=0", "autovacuum_vacuum_threshold=5000",
            "autovacuum_analyze_scale_factor=0"} <= set(options)
