"""notify's consumers a batch at a time (cases opened and seats offered planned together)
against the same events one at a time, through the real consumer and notify's real
subscriptions on the real PostgreSQL: the same deliveries, copies of cases and offers, and
parked events either way, and fewer statements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from oncoroute_notify import samples
from oncoroute_notify.bootstrap import MIGRATIONS_DIR
from oncoroute_notify.domain.links import Links
from oncoroute_notify.domain.policy import NotifyPolicy
from oncoroute_notify.entrypoints.kafka import subscriptions
from oncoroute_notify.handlers import Deps, batches
from oncoroute_shared.contracts.registry import model_for
from oncoroute_shared.embedded.stack import Infrastructure
from oncoroute_shared.envelope import CloudEvent, encode, new_event
from oncoroute_shared.messaging.consumer import Batched, Processor, Record
from oncoroute_shared.runtime import Runtime

from .conftest import migrated_schema, one_by_one_and_batched

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def _event(kind: str, case_id: str, **changes: Any) -> CloudEvent:
    data = {**samples.datas(case_id)[kind], **changes}
    return new_event(kind, source="test", subject=case_id, data=data, time=T0)


def _offered(aid: str, case_id: str) -> CloudEvent:
    return _event("assignment.offered", case_id, assignment_id=aid, reviewer={
        "id": f"sp-{aid}", "name": "Dr Asha Rao", "email": f"{aid}@example.org"})


def _seat(kind: str, aid: str, case_id: str) -> CloudEvent:
    return _event(kind, case_id, assignment_id=aid, reviewer_id=f"sp-{aid}")


# (topic, events) in the order they are consumed; each step is one batch in the batch run
STEPS: list[tuple[str, list[CloudEvent]]] = [
    ("cases", [_event("case.opened", "c-old")]),
    ("assignments", [_seat("assignment.accepted", "a-p", "c-park"),
                     _event("case.opinion_ready", "c-park")]),
    ("cases", [
        _event("case.opened", "c-1"), _event("case.opened", "c-2", status="ready"),
        _event("case.opened", "c-park"), _event("case.opened", "c-old"),
        _event("case.opened", "c-dup"), _event("case.opened", "c-dup"),
        _event("case.opened", "c-3"), _event("case.updated", "c-3"),
        *(_event("case.opened", f"c-many-{n}") for n in range(10))]),
    ("assignments", [
        _offered("a-1", "c-1"), _offered("a-2", "c-2"), _offered("a-u", "c-unknown"),
        _offered("a-3", "c-3"), _seat("assignment.declined", "a-3", "c-3"),
        *(_offered(f"a-m{n}", f"c-many-{n}") for n in range(10))]),
]


def _records(topic: str, events: list[CloudEvent], start: int) -> list[Record]:
    return [Record(topic, 0, start + n, (e.subject or "").encode(), encode(e), {})
            for n, e in enumerate(events)]


def _deps() -> Deps:
    doc = {**samples.policy_doc(), "quiet_hours": None}
    return Deps(NotifyPolicy.model_validate(doc),
                Links("https://portal.test", "https://matcher.test", "x" * 32, timedelta(hours=1)))


@pytest.fixture
async def two(infra: Infrastructure) -> AsyncIterator[tuple[asyncpg.Pool, asyncpg.Pool]]:
    async with (migrated_schema(infra, "notify_b_", MIGRATIONS_DIR) as one,
                migrated_schema(infra, "notify_b_", MIGRATIONS_DIR) as other):
        yield one, other


def _processors(pool: asyncpg.Pool) -> dict[str, Processor]:
    out = {}
    for sub in subscriptions(Runtime("notify", state={"deps": _deps()})):
        sub.consumer = f"notify.{sub.topic}"
        out[sub.topic] = Processor(pool, sub, max_attempts=1)
    return out


async def _state(pool: asyncpg.Pool) -> dict[str, Any]:
    """What notify stores, without delivery ids and the wall clock's times."""
    return {
        "deliveries": sorted(
            (r["source_event_id"], r["source_event_type"], r["case_id"], r["audience"],
             r["channel"], r["recipient"], r["template"], str(r["context"]), r["status"],
             r["urgency"], r["locale"])
            for r in await pool.fetch("SELECT * FROM deliveries")),
        "cases": [(r["case_id"], r["facts"]) for r in await pool.fetch(
            "SELECT case_id, facts FROM cases ORDER BY case_id")],
        "offers": [(r["assignment_id"], r["case_id"], r["seat"], r["reviewer_id"],
                    r["reviewer_name"], r["reviewer_email"], r["status"])
                   for r in await pool.fetch("SELECT * FROM offers ORDER BY assignment_id")],
        "parked": [(r["case_id"], r["event_id"]) for r in await pool.fetch(
            "SELECT case_id, event_id FROM parked_events ORDER BY id")],
    }


async def test_a_batch_plans_what_one_event_at_a_time_plans(
    two: tuple[asyncpg.Pool, asyncpg.Pool],
) -> None:
    got = await one_by_one_and_batched(two, _processors, STEPS, _records, _state)
    # and the scenario does what it should, so the comparison compares something
    assert got["parked"] == []
    kinds = {(d[2], d[1], d[3]) for d in got["deliveries"]}
    assert {("c-1", "case.opened", "patient"), ("c-1", "assignment.offered", "specialist"),
            ("c-many-9", "assignment.offered", "specialist"),
            ("c-park", "assignment.accepted", "patient")} <= kinds
    assert {o[0]: o[6] for o in got["offers"]}["a-3"] == "declined"
    assert len([d for d in got["deliveries"] if d[1] == "case.opened"]) >= 14


async def test_cases_opened_and_seats_offered_take_a_few_statements_a_batch(
    two: tuple[asyncpg.Pool, asyncpg.Pool],
) -> None:
    pool, _ = two
    deps, now = _deps(), datetime.now(UTC)

    def items(events: list[CloudEvent]) -> list[Batched]:
        return [Batched(e, model_for(e.type.split(".", 2)[2].removesuffix(".v1"))
                        .model_validate(e.data), {}) for e in events]

    statements: list[str] = []
    async with pool.acquire() as conn:
        conn.add_query_logger(lambda q: statements.append(q.query))
        async with conn.transaction():
            # the first use of a type on a connection looks it up: warm up, then count
            await batches.on_batch(conn, items([_event("case.opened", "w")]), deps, now)
            await batches.on_batch(conn, items([_offered("a-w", "w")]), deps, now)
            statements.clear()
            opened = items([_event("case.opened", f"c-{n}") for n in range(20)])
            assert await batches.on_batch(conn, opened, deps, now) == []
            assert len(statements) <= 3, statements
            again = items([_event("case.opened", "c-0"), _event("case.updated", "c-1")])
            assert await batches.on_batch(conn, again, deps, now) == again  # their handlers'
            statements.clear()
            offered = items([_offered(f"a-{n}", f"c-{n}") for n in range(20)])
            assert await batches.on_batch(conn, offered, deps, now) == []
            assert len(statements) <= 3, statements
        assert await conn.fetchval("SELECT count(*) FROM offers") == 21
        assert await conn.fetchval(
            "SELECT count(DISTINCT case_id) FROM deliveries WHERE audience = 'specialist'") == 21
