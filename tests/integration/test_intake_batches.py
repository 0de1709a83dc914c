"""Intake's submissions a batch at a time (new cases opened together) against the same events
one at a time, through the real consumer and intake's real subscription on the real
PostgreSQL: the same cases, timelines, `case.opened` and `case.rejected` events with their
traces either way, and fewer statements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
import pytest

from oncoroute_intake import handlers
from oncoroute_intake.entrypoints.kafka import subscriptions
from oncoroute_shared.contracts.submissions import Submission
from oncoroute_shared.embedded.stack import Infrastructure
from oncoroute_shared.envelope import CloudEvent, new_event
from oncoroute_shared.messaging.consumer import Batched, Processor
from oncoroute_shared.runtime import Runtime

from ..support.submissions import submission
from .conftest import one_by_one_and_batched, traced_records, two_schemas
from .test_intake_cases import MIGRATIONS, RULES

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 4, 10, tzinfo=UTC)
NO_RECORDS: dict[str, Any] = {"records": []}


def _submitted(external_id: str, **changes: Any) -> CloudEvent:
    return new_event("case.submitted", source="test", subject=external_id, time=T0,
                     data=submission(external_id=external_id, **changes))


def _without_patient(external_id: str) -> CloudEvent:
    doc = submission(external_id=external_id)
    del doc["patient"]
    return new_event("case.submitted", source="test", subject=external_id, time=T0, data=doc)


# each step is one batch in the batch run
STEPS: list[tuple[str, list[CloudEvent]]] = [
    ("case-submissions", [_submitted("e-old")]),
    ("case-submissions", [
        _submitted("e-1"),
        _submitted("e-old"),  # opened before: the same case, nothing new
        _submitted("e-twice"), _submitted("e-twice", urgent=True, urgent_reason="stridor"),
        _submitted("e-bad-code", diagnosis={"icd10": "C99.99", "description": "x"}),
        _submitted("e-urgent", urgent=True),  # no reason given
        _without_patient("e-no-patient"),
        _submitted("e-leukaemia", diagnosis={"icd10": "C92.0", "description": "AML"}),
        _submitted("e-awaiting", **NO_RECORDS),
        _submitted("e-other-source", source="other-hospital"),
        *(_submitted(f"e-many-{n}") for n in range(10))]),
]


@pytest.fixture
async def two(infra: Infrastructure) -> AsyncIterator[tuple[asyncpg.Pool, asyncpg.Pool]]:
    async with two_schemas(infra, "intake_b_", MIGRATIONS) as pools:
        yield pools


def _processors(pool: asyncpg.Pool) -> dict[str, Processor]:
    sub = next(s for s in subscriptions(Runtime("intake", state={"rules": RULES}))
               if s.topic == "case-submissions")
    sub.consumer = "intake.case-submissions"
    return {"case-submissions": Processor(pool, sub, max_attempts=1)}


_RANDOM = ("case_id", "id", "time", "opened_at", "updated_at")  # ids and the wall clock's times


def _plain(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _plain(v) for k, v in doc.items() if k not in _RANDOM}
    return doc


async def _state(pool: asyncpg.Pool) -> dict[str, Any]:
    """What intake stores and sends, by each case's source and external id."""
    names = {r["case_id"]: (r["source"], r["external_id"])
             for r in await pool.fetch("SELECT case_id, source, external_id FROM cases")}
    events = []
    for r in await pool.fetch("SELECT key, value, headers FROM outbox ORDER BY id"):
        doc = orjson.loads(bytes(r["value"]))
        events.append((names.get(r["key"], r["key"]), doc["type"], doc["subject"] == r["key"],
                       _plain(doc["data"]), sorted(tuple(h) for h in r["headers"])))
    return {
        "cases": sorted((names[r["case_id"]], _plain(dict(r))) for r in await pool.fetch(
            "SELECT * FROM cases")),
        "timeline": sorted((names[r["case_id"]], r["type"], r["source"], _plain(r["summary"]))
                           for r in await pool.fetch("SELECT * FROM timeline")),
        "events": sorted(events, key=repr),
    }


async def test_a_batch_opens_what_one_event_at_a_time_opens(
    two: tuple[asyncpg.Pool, asyncpg.Pool],
) -> None:
    got = await one_by_one_and_batched(two, _processors, STEPS, traced_records, _state)
    # and the scenario does what it should, so the comparison compares something
    cases = dict(got["cases"])
    assert len(cases) == 16
    assert cases[("test-hospital", "e-leukaemia")]["tier"] == "fast_progressing"
    assert cases[("test-hospital", "e-awaiting")]["status"] == "awaiting_records"
    assert cases[("test-hospital", "e-twice")]["submission"].get("urgent") is not True
    kinds = [(e[0], e[1].split(".")[2]) for e in got["events"]]
    assert kinds.count((("test-hospital", "e-1"), "case")) == 1
    rejected = {e[0] for e in got["events"] if e[1] == "org.oncoroute.case.rejected.v1"}
    assert rejected == {"rejected:test-hospital:e-bad-code", "rejected:test-hospital:e-urgent",
                        "rejected:test-hospital:e-no-patient"}
    opened = [e for e in got["events"] if e[1] == "org.oncoroute.case.opened.v1"]
    assert len(opened) == 16 and all(same_key for _, _, same_key, _, _ in opened)
    assert len({dict(e[4])["traceparent"] for e in opened}) == 16  # each its own trace
    assert len(got["timeline"]) == 16


async def test_new_submissions_take_three_statements_a_batch(
    two: tuple[asyncpg.Pool, asyncpg.Pool],
) -> None:
    pool, _ = two

    def items(events: list[CloudEvent]) -> list[Batched]:
        return [Batched(e, Submission.model_validate(e.data), {}) for e in events]

    statements: list[str] = []
    async with pool.acquire() as conn:
        conn.add_query_logger(lambda q: statements.append(q.query))
        async with conn.transaction():
            # the first use of a type on a connection looks it up: warm up, then count
            await handlers.open_submitted(conn, items([_submitted("w")]), RULES)
            statements.clear()
            new = items([_submitted(f"e-{n}") for n in range(20)])
            assert await handlers.open_submitted(conn, new, RULES) == []
            assert len(statements) <= 3, statements
            statements.clear()
            again = items([_submitted("e-0"), _submitted("e-new"), _submitted("e-new"),
                           _submitted("e-bad", urgent=True)])
            assert await handlers.open_submitted(conn, again, RULES) == again[1:]
            assert len(statements) == 1, statements  # e-0 is open already: no event
        assert await conn.fetchval("SELECT count(*) FROM cases") == 21
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 21
        assert await conn.fetchval("SELECT count(*) FROM timeline") == 21
