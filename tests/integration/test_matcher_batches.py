"""The matcher's cases topic a batch at a time (cases opened stored together with their seats)
against the same events one at a time, through the real consumer and the matcher's real
subscription on the real PostgreSQL: the same cases and seats, with their traces, either way,
and fewer statements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from oncoroute_matcher.bootstrap import validate_policy
from oncoroute_matcher.domain.panel import Deadlines, MatchingConfig
from oncoroute_matcher.entrypoints.cli import MIGRATIONS
from oncoroute_matcher.entrypoints.kafka import subscriptions
from oncoroute_matcher.handlers import batches
from oncoroute_shared.contracts.cases import CaseOpened
from oncoroute_shared.embedded.stack import Infrastructure
from oncoroute_shared.envelope import CloudEvent, new_event
from oncoroute_shared.messaging.consumer import Batched, Processor
from oncoroute_shared.policy import load_document
from oncoroute_shared.runtime import Runtime

from ..support.submissions import submission
from .conftest import one_by_one_and_batched, traced_records, two_schemas

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 4, 10, tzinfo=UTC)
CFG = MatchingConfig(validate_policy(load_document(None)), Deadlines.from_policy(
    load_document(None)))


def _opened_data(case_id: str, *, status: str = "ready", tier: str = "standard",
                 group: str | None = "breast", **sub: Any) -> dict[str, Any]:
    return {"case_id": case_id, "opened_at": T0.isoformat(), "status": status,
            "classification": {"tier": tier, "tumor_group": group,
                               "fast_progressing": tier == "fast_progressing", "rule": "t"},
            "submission": submission(external_id=f"ext-{case_id}", **sub)}


def _opened(case_id: str, **kw: Any) -> CloudEvent:
    return new_event("case.opened", source="test", subject=case_id,
                     data=_opened_data(case_id, **kw), time=T0)


def _updated(case_id: str) -> CloudEvent:
    return new_event("case.updated", source="test", subject=case_id, time=T0, data={
        "case_id": case_id, "status": "ready", "missing_records": [],
        "records_added": ["pathology_report"]})


def _closed(case_id: str) -> CloudEvent:
    return new_event("case.closed", source="test", subject=case_id, time=T0,
                     data={"case_id": case_id, "reason": "withdrawn"})


# each step is one batch in the batch run
STEPS: list[tuple[str, list[CloudEvent]]] = [
    ("cases", [_opened("c-old")]),
    ("cases", [
        _opened("c-1"),
        _opened("c-awaiting", status="awaiting_records"),
        _opened("c-old"),  # a redelivery of a case stored before
        _opened("c-dup"), _opened("c-dup"),
        _opened("c-3", status="awaiting_records"), _updated("c-3"),
        _opened("c-4"), _closed("c-4"),
        _opened("c-panel", reasons=["confirm_diagnosis", "unclear_test_results",
                                    "surgery_recommended", "rare_cancer"],
                records=[{"kind": "pathology_report", "uri": "https://records.example.org/1"},
                         {"kind": "imaging", "uri": "https://records.example.org/2"}]),
        _opened("c-haem", icd10="C92.0", group="haematologic", tier="fast_progressing"),
        _opened("c-none", group=None, reasons=[]),
        *(_opened(f"c-many-{n}") for n in range(10))]),
]


@pytest.fixture
async def two(infra: Infrastructure) -> AsyncIterator[tuple[asyncpg.Pool, asyncpg.Pool]]:
    async with two_schemas(infra, "matcher_b_", MIGRATIONS) as pools:
        yield pools


def _processors(pool: asyncpg.Pool) -> dict[str, Processor]:
    sub = next(s for s in subscriptions(Runtime("matcher", state={"config": CFG}))
               if s.topic == "cases")
    sub.consumer = "matcher.cases"
    return {"cases": Processor(pool, sub, max_attempts=1)}


async def _state(pool: asyncpg.Pool) -> dict[str, Any]:
    """What the matcher stores of the cases, without the wall clock's times."""
    return {
        "cases": [{k: v for k, v in r.items() if k != "updated_at"} for r in await pool.fetch(
            "SELECT * FROM cases ORDER BY case_id")],
        "seats": [{k: v for k, v in r.items() if k not in ("created_at", "updated_at")}
                  for r in await pool.fetch("SELECT * FROM seats ORDER BY case_id, seat")],
    }


async def test_a_batch_stores_what_one_event_at_a_time_stores(
    two: tuple[asyncpg.Pool, asyncpg.Pool],
) -> None:
    got = await one_by_one_and_batched(two, _processors, STEPS, traced_records, _state)
    # and the scenario does what it should, so the comparison compares something
    cases = {c["case_id"]: c for c in got["cases"]}
    assert len(cases) == 19
    seats = {(s["case_id"], s["seat"]): s for s in got["seats"]}
    assert {seat for case_id, seat in seats if case_id == "c-panel"} == {
        "disease_specialist", "pathologist", "radiologist", "surgical_oncologist"}
    assert seats[("c-panel", "disease_specialist")]["require_expert"] is True
    assert seats[("c-haem", "pathologist")]["roles"] == ["haematopathologist"]
    assert seats[("c-none", "disease_specialist")]["roles"] == [
        "medical_oncologist", "paediatric_oncologist"]
    assert seats[("c-4", "disease_specialist")]["status"] == "released"
    assert not cases["c-awaiting"]["routable"] and cases["c-3"]["routable"]
    traces = {s["trace_context"]["traceparent"] for s in got["seats"]
              if s["case_id"].startswith("c-many")}
    assert len(traces) == 10  # each seat continues its own event's trace


async def test_cases_opened_take_three_statements_a_batch(
    two: tuple[asyncpg.Pool, asyncpg.Pool],
) -> None:
    pool, _ = two

    def items(events: list[CloudEvent]) -> list[Batched]:
        return [Batched(e, CaseOpened.model_validate(e.data), {}) for e in events]

    statements: list[str] = []
    async with pool.acquire() as conn:
        conn.add_query_logger(lambda q: statements.append(q.query))
        async with conn.transaction():
            # the first use of a type on a connection looks it up: warm up, then count
            await batches.on_case_events(conn, items([_opened("w")]), CFG, T0)
            statements.clear()
            opened = items([_opened(f"c-{n}", reasons=["confirm_diagnosis"])
                            for n in range(20)])
            assert await batches.on_case_events(conn, opened, CFG, T0) == []
            assert len(statements) <= 3, statements
            statements.clear()
            again = items([_opened("c-0"), _opened("c-1"), _opened("c-1")])
            assert await batches.on_case_events(conn, again, CFG, T0) == again[1:]
            assert len(statements) == 1, statements  # c-0 is stored: nothing more
        assert await conn.fetchval("SELECT count(*) FROM seats") == 42  # two each
