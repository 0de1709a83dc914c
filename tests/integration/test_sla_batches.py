"""sla's background consumers a batch at a time (set-based statements for cases opened and
seats offered) against the same events one at a time, through the real consumer and sla's
real subscriptions on the real PostgreSQL: the same clocks, timers, history, offers, board
rows and events either way, and far fewer statements."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from oncoroute_shared.contracts.assignments import (
    AssignmentChanged,
    AssignmentOffered,
    CaseOpinionReady,
    CaseUnmatched,
    Reviewer,
    SeatOutcome,
)
from oncoroute_shared.contracts.cases import CaseClosed, CaseOpened, CaseUpdated, Classification
from oncoroute_shared.contracts.submissions import Submission
from oncoroute_shared.embedded.stack import Infrastructure
from oncoroute_shared.envelope import decode, encode, new_event
from oncoroute_shared.messaging.consumer import Batched, Processor, Record, Subscription
from oncoroute_shared.runtime import Runtime
from oncoroute_sla.bootstrap import SPEC
from oncoroute_sla.domain.policy import SlaPolicy
from oncoroute_sla.entrypoints.kafka import subscriptions
from oncoroute_sla.handlers import batches

from ..support.submissions import submission
from .conftest import migrated_schema, one_by_one_and_batched

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
H = timedelta(hours=1)
TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _opened(case_id: str, tier: str = "standard", status: str = "ready") -> CaseOpened:
    return CaseOpened(case_id=case_id, opened_at=T0, status=status,  # type: ignore[arg-type]
                      classification=Classification(tier=tier, tumor_group="breast",
                                                    fast_progressing=tier != "standard",
                                                    rule="test"),
                      submission=Submission.model_validate(submission()))


def _offered(aid: str, case_id: str, seat: str = "disease_specialist") -> AssignmentOffered:
    return AssignmentOffered(assignment_id=aid, case_id=case_id, seat=seat, role="r",
                             tumor_group="breast", tier="standard", offered_at=T0 + H,
                             reviewer=Reviewer(id=f"sp-{aid}", name="Dr X", max_active=5))


def _unmatched(case_id: str, seat: str) -> CaseUnmatched:
    return CaseUnmatched(case_id=case_id, seat=seat, role="r", reasons={"at_capacity": 2},
                         tier="standard", waiting_since=T0)


SHORT = {CaseOpened: "case.opened", CaseUpdated: "case.updated", CaseClosed: "case.closed",
         AssignmentOffered: "assignment.offered", CaseUnmatched: "case.unmatched",
         CaseOpinionReady: "case.opinion_ready", AssignmentChanged: "assignment.accepted"}

# (topic, events) in the order they are consumed; each step is one batch in the batch run
STEPS: list[tuple[str, list[Any]]] = [
    ("assignments", [CaseOpinionReady(case_id="c-early", seats=[SeatOutcome(
        seat="disease_specialist", reviewer_id="sp-0")]), _unmatched("c-1", "pathologist")]),
    ("cases", [_opened("c-closed"), CaseClosed(case_id="c-closed", reason="withdrawn")]),
    ("cases", [
        _opened("c-1"), _opened("c-2", status="awaiting_records"),
        _opened("c-3", tier="fast_progressing"), _opened("c-early"),
        _opened("c-dup"), _opened("c-dup"),
        _opened("c-4", status="awaiting_records"), CaseUpdated(case_id="c-4", status="ready"),
        *(_opened(f"c-many-{n}") for n in range(12))]),
    ("assignments", [
        _offered("a-1", "c-1"), _offered("a-2", "c-1", "pathologist"),
        _offered("a-3", "c-closed"), _offered("a-4", "c-unknown"),
        _unmatched("c-2", "pathologist"), _offered("a-5", "c-2", "pathologist"),
        _offered("a-6", "c-4"),
        AssignmentChanged(assignment_id="a-6", case_id="c-4", seat="disease_specialist",
                          reviewer_id="sp-a-6", at=T0 + 2 * H),
        *(_offered(f"a-m{n}", f"c-many-{n}") for n in range(12))]),
]


def _records(topic: str, events: list[Any], start: int) -> list[Record]:
    return [Record(topic, 0, start + n, data.case_id.encode(),
                   encode(new_event(SHORT[type(data)], source="test", subject=data.case_id,
                                    data=data, time=T0 + n * timedelta(seconds=1))),
                   {"traceparent": TRACE})
            for n, data in enumerate(events)]


@pytest.fixture
async def two(infra: Infrastructure) -> AsyncIterator[tuple[asyncpg.Pool, asyncpg.Pool]]:
    async with (migrated_schema(infra, "sla_b_", SPEC.migrations) as one,
                migrated_schema(infra, "sla_b_", SPEC.migrations) as other):
        yield one, other


def _processors(pool: asyncpg.Pool) -> dict[str, Processor]:
    subs: list[Subscription] = subscriptions(Runtime("sla", state={"policy": SlaPolicy()}))
    out = {}
    for sub in subs:
        sub.consumer = f"sla.{sub.topic}"
        out[sub.topic] = Processor(pool, sub, max_attempts=1)
    return out


async def _state(pool: asyncpg.Pool) -> dict[str, Any]:
    """Everything sla stores and emits, without the times taken from the wall clock."""
    def rows(sql: str) -> Any:
        return pool.fetch(sql)

    outbox: dict[str, list[Any]] = defaultdict(list)
    for r in await pool.fetch("SELECT key, value, headers FROM outbox ORDER BY id"):
        event = decode(r["value"])
        data = dict(event.data)
        if event.type.endswith("sla.escalated.v1"):
            data.pop("fired_at"), data.pop("lateness_seconds")
        outbox[r["key"]].append((event.type, data, dict(map(tuple, r["headers"]))))
    return {
        "clocks": [dict(r) for r in await rows("SELECT * FROM clocks ORDER BY case_id")],
        "timers": [dict(r) for r in await rows(
            "SELECT case_id, step, due_at, fired_at IS NOT NULL AS fired FROM timers"
            " ORDER BY case_id, step")],
        "history": sorted((r["case_id"], r["what"], str(r["detail"])) for r in await rows(
            "SELECT case_id, what, detail FROM clock_history")),
        "offers": [dict(r) for r in await rows("SELECT * FROM offers ORDER BY assignment_id")],
        "unmatched": [dict(r) for r in await rows(
            "SELECT case_id, seat, reasons, since FROM unmatched_seats ORDER BY case_id, seat")],
        "outbox": dict(outbox),
    }


async def test_a_batch_leaves_what_one_event_at_a_time_leaves(
    two: tuple[asyncpg.Pool, asyncpg.Pool],
) -> None:
    got = await one_by_one_and_batched(two, _processors, STEPS, _records, _state)
    # and the scenario does what it should, so the comparison compares something
    assert {c["case_id"]: c["state"] for c in got["clocks"]} == {
        "c-1": "running", "c-2": "waiting", "c-3": "running", "c-4": "running",
        "c-closed": "cancelled", "c-dup": "running", "c-early": "met",
        **{f"c-many-{n}": "running" for n in range(12)}}
    armed = {(t["case_id"], t["step"]) for t in got["timers"] if not t["fired"]}
    assert {("c-1", "acceptance:a-1"), ("c-1", "acceptance:a-2"), ("c-unknown", "acceptance:a-4"),
            ("c-2", "acceptance:a-5"), ("c-2", "records:1")} <= armed
    assert ("c-closed", "acceptance:a-3") not in armed and ("c-4", "acceptance:a-6") not in armed
    assert [(u["case_id"], u["seat"]) for u in got["unmatched"]] == []
    assert [t for t, _, _ in got["outbox"]["c-3"]] == [
        "org.oncoroute.sla.started.v1", "org.oncoroute.sla.escalated.v1"]
    assert all(h["traceparent"].split("-")[1] == TRACE.split("-")[1]
               for events in got["outbox"].values() for _, _, h in events)


async def test_the_common_events_take_a_few_statements_a_batch(
    two: tuple[asyncpg.Pool, asyncpg.Pool],
) -> None:
    """Twenty cases opened and offered: a handful of statements for each batch; what the
    batch handler leaves (a case it already knows, a case with other events) is returned."""
    pool, _ = two
    policy, now = SlaPolicy(), datetime.now(UTC)

    def items(events: list[Any], short: str) -> list[Batched]:
        return [Batched(new_event(short, source="t", subject=e.case_id, data=e), e, {})
                for e in events]

    statements: list[str] = []
    async with pool.acquire() as conn:
        conn.add_query_logger(lambda q: statements.append(q.query))
        async with conn.transaction():
            # the first use of a type on a connection looks it up: warm up, then count
            await batches.on_case_events(conn, items([_opened("w")], "case.opened"), policy, now)
            await batches.on_assignment_events(
                conn, items([_offered("a-w", "w")], "assignment.offered"), policy, now)
            statements.clear()
            left = await batches.on_case_events(
                conn, items([_opened(f"c-{n}") for n in range(20)], "case.opened"), policy, now)
            assert left == [] and len(statements) <= 5, statements
            left = await batches.on_case_events(
                conn, items([_opened("c-0"), _opened("c-x")], "case.opened"), policy, now)
            assert [b.data.case_id for b in left] == ["c-0"]  # sla knows it: its own handler
            statements.clear()
            left = await batches.on_assignment_events(conn, items(
                [_offered(f"a-{n}", f"c-{n}") for n in range(20)], "assignment.offered"),
                policy, now)
            assert left == [] and len(statements) <= 5, statements
        assert await conn.fetchval("SELECT count(*) FROM timers WHERE step LIKE 'acceptance:%'"
                                   ) == 21
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 22  # sla.started each
