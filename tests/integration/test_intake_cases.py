"""Intake's handlers on the real PostgreSQL, in a scratch schema with intake's migrations:
two copies of a submission racing open one case (the second waits for the first and returns
its id), records completeness and withdrawal emit their events once, API keys by hash."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import orjson
import pytest

from oncoroute_intake import handlers
from oncoroute_intake.adapters import api_keys
from oncoroute_intake.bootstrap import validate_policy
from oncoroute_intake.domain import codes
from oncoroute_intake.domain.access import Principal
from oncoroute_shared.contracts.submissions import Record, Submission
from oncoroute_shared.embedded.stack import Infrastructure
from oncoroute_shared.policy import load_document

from ..support.submissions import submission
from ..support.waiting import eventually
from .conftest import migrated_schema

pytestmark = pytest.mark.integration
MIGRATIONS = Path(handlers.__file__).parent / "migrations"
RULES = handlers.Rules(validate_policy(load_document(None)), codes.load())
OPERATOR = Principal("op", "operator", None)


@pytest.fixture
async def intake_db(infra: Infrastructure) -> AsyncIterator[asyncpg.Pool]:
    async with migrated_schema(infra, "t_intake_", MIGRATIONS) as pool:
        yield pool


async def _events(pool: asyncpg.Pool, short: str) -> list[dict]:  # type: ignore[type-arg]
    rows = await pool.fetch("SELECT value FROM outbox WHERE topic = 'cases'")
    docs = [orjson.loads(bytes(r["value"])) for r in rows]
    return [d for d in docs if d["type"] == f"org.oncoroute.{short}.v1"]


async def test_two_copies_racing_open_exactly_one_case(intake_db: asyncpg.Pool) -> None:
    sub = Submission.model_validate(submission())
    async with intake_db.acquire() as first, intake_db.acquire() as second:
        tx1 = first.transaction()
        await tx1.start()
        opened = await handlers.open_case(first, sub, RULES)
        tx2 = second.transaction()
        await tx2.start()
        racing = asyncio.create_task(handlers.open_case(second, sub, RULES))
        pid = second.get_server_pid()

        async def blocked() -> bool:
            return bool(await intake_db.fetchval(
                "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", pid))

        await eventually(blocked, timeout=30, what="the second copy to wait on the first")
        assert not racing.done()
        await tx1.commit()
        again = await racing
        await tx2.commit()
    assert opened.created and not again.created and again.case_id == opened.case_id
    assert await intake_db.fetchval("SELECT count(*) FROM cases") == 1
    assert len(await _events(intake_db, "case.opened")) == 1


async def test_records_complete_a_waiting_case_once(intake_db: asyncpg.Pool) -> None:
    sub = Submission.model_validate(submission(reasons=["treatment_options"]))
    async with intake_db.acquire() as conn, conn.transaction():
        opened = await handlers.open_case(conn, sub, RULES)
    assert (opened.status, opened.missing_records) == \
        ("awaiting_records", ("imaging", "imaging_report"))
    scan = Record(kind="imaging", uri="https://records.example.org/ct")
    for _ in range(2):  # a retried request adds nothing the second time
        async with intake_db.acquire() as conn, conn.transaction():
            result = await handlers.add_records(conn, opened.case_id, [scan], OPERATOR, RULES)
    assert result == {"case_id": opened.case_id, "status": "ready", "missing_records": [],
                      "records_added": []}
    [updated] = await _events(intake_db, "case.updated")
    assert updated["data"] == {"case_id": opened.case_id, "status": "ready",
                               "missing_records": [], "records_added": ["imaging"]}
    other = Principal("k", "submitter", "somebody-else")
    async with intake_db.acquire() as conn, conn.transaction():
        with pytest.raises(handlers.CaseNotFound):
            await handlers.add_records(conn, opened.case_id, [scan], other, RULES)


async def test_withdrawal_closes_once(intake_db: asyncpg.Pool) -> None:
    sub = Submission.model_validate(submission())
    async with intake_db.acquire() as conn, conn.transaction():
        opened = await handlers.open_case(conn, sub, RULES)
    for _ in range(2):
        async with intake_db.acquire() as conn, conn.transaction():
            await handlers.withdraw(conn, opened.case_id, OPERATOR)
    [closed] = await _events(intake_db, "case.closed")
    assert closed["data"] == {"case_id": opened.case_id, "reason": "withdrawn"}
    async with intake_db.acquire() as conn, conn.transaction():
        with pytest.raises(handlers.CaseClosedError):
            await handlers.add_records(conn, opened.case_id, [], OPERATOR, RULES)


async def test_keys_are_found_by_hash_until_revoked(intake_db: asyncpg.Pool) -> None:
    now = datetime.now(UTC)
    async with intake_db.acquire() as conn:
        key_id, key = await api_keys.create(conn, name="h", role="submitter", source="h",
                                            now=now)
        stored = await conn.fetchval("SELECT key_hash FROM api_keys WHERE key_id = $1", key_id)
        assert key not in stored and key_id in key
        assert await api_keys.principal_for(conn, key) == Principal(key_id, "submitter", "h")
        assert await api_keys.principal_for(conn, key + "x") is None
        assert await api_keys.revoke(conn, key_id, now)
        assert await api_keys.principal_for(conn, key) is None
