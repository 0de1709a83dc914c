"""The matcher's handlers on the real PostgreSQL: panels, offers, accept/decline/expire,
opinions, closing, reassigning, the waiting queue and its reasons. Events are read back from
the outbox the handlers wrote them to."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from oncoroute_matcher import handlers
from oncoroute_matcher.adapters import roster, seats
from oncoroute_matcher.bootstrap import validate_policy
from oncoroute_matcher.domain.lifecycle import Action
from oncoroute_matcher.domain.panel import Deadlines, MatchingConfig
from oncoroute_matcher.domain.roster import Specialist
from oncoroute_matcher.entrypoints import dispatcher as dispatcher_module
from oncoroute_matcher.entrypoints import kafka as matcher_kafka
from oncoroute_matcher.entrypoints.cli import MIGRATIONS
from oncoroute_matcher.entrypoints.dispatcher import Dispatcher
from oncoroute_matcher.handlers.dispatch import Outcome, dispatch_seats
from oncoroute_shared.contracts.cases import CaseClosed, CaseOpened, CaseUpdated
from oncoroute_shared.contracts.specialist_actions import AssignmentAccept
from oncoroute_shared.embedded.stack import Infrastructure
from oncoroute_shared.envelope import decode, new_event
from oncoroute_shared.messaging.consumer import PermanentError
from oncoroute_shared.policy import load_document

from ..support.submissions import submission
from ..support.waiting import eventually
from .conftest import migrated_schema

pytestmark = pytest.mark.integration
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # a Wednesday, 10:00 UTC
CFG = MatchingConfig(validate_policy(load_document(None)), Deadlines.from_policy(
    load_document(None)))
EVENT = new_event("case.opened", source="test", subject="x", data={})


@pytest.fixture
async def db(infra: Infrastructure) -> AsyncIterator[asyncpg.Pool]:
    async with migrated_schema(infra, "t_matcher_", MIGRATIONS, pool_size=6) as pool:
        yield pool


def sp(id: str, roles: str = "haematologist", groups: str = "haematologic", cap: int = 3,
       **kw: Any) -> Specialist:
    return Specialist.model_validate({"id": id, "name": id, "roles": roles,
                                      "tumor_groups": groups, "max_active": cap,
                                      "regions": ["GB"], "languages": ["en"], **kw})


async def load(pool: asyncpg.Pool, *people: Specialist) -> None:
    async with pool.acquire() as conn:
        await roster.upsert(conn, list(people), NOW)


def opened(icd10: str = "C92.0", reasons: list[str] | None = None, *, tier: str = "standard",
           group: str = "haematologic", status: str = "ready", **sub: Any) -> CaseOpened:
    doc = submission(icd10=icd10, reasons=reasons or [], **sub)
    return CaseOpened.model_validate({
        "case_id": f"case-{uuid.uuid4().hex[:8]}", "opened_at": NOW, "status": status,
        "classification": {"tier": tier, "tumor_group": group,
                           "fast_progressing": tier == "fast_progressing", "rule": "t"},
        "submission": doc})


async def open_case(pool: asyncpg.Pool, case: CaseOpened) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await handlers.on_case_opened(conn, EVENT, case, CFG, NOW)


async def sweep(pool: asyncpg.Pool, at: datetime = NOW) -> tuple[int, int]:
    return await Dispatcher(lambda: pool, lambda: CFG, lambda: at).sweep()


async def events(pool: asyncpg.Pool, short: str | None = None) -> list[Any]:
    rows = await pool.fetch("SELECT value FROM outbox ORDER BY id")
    found = [decode(bytes(r["value"])) for r in rows]
    return [e for e in found
            if short is None or e.type == f"org.oncoroute.{short}.v1"]


async def live(pool: asyncpg.Pool, case_id: str) -> dict[str, str]:
    async with pool.acquire() as conn:
        return {a["seat"]: a["specialist_id"] for a in await seats.live_assignments(conn, case_id)}


async def do(pool: asyncpg.Pool, case_id: str, seat: str, action: Action, **kw: Any) -> None:
    a = await pool.fetchrow("SELECT * FROM assignments WHERE case_id = $1 AND seat = $2"
                            " AND status IN ('offered', 'accepted')", case_id, seat)
    async with pool.acquire() as conn, conn.transaction():
        await handlers.act(conn, a["assignment_id"], action, NOW,
                           reviewer_id=a["specialist_id"], **kw)


OPINION = handlers.Opinion("refined", "modified", "Subtype refined", "https://reports/1")


async def test_panel_seats_each_go_to_a_different_eligible_reviewer(db: asyncpg.Pool) -> None:
    await load(db, sp("haem-a"), sp("haem-b", cap=5), sp("hp-1", roles="haematopathologist"),
               sp("path-1", roles="pathologist"))
    case = opened(reasons=["confirm_diagnosis"])
    await open_case(db, case)
    assert await sweep(db) == (2, 0)
    holders = await live(db, case.case_id)
    assert holders["pathologist"] == "hp-1"  # haematopathologist for a haematologic case
    assert holders["disease_specialist"] == "haem-a"  # equal load ratio and age: by id
    offered = await events(db, "assignment.offered")
    assert {e.data["seat"] for e in offered} == {"disease_specialist", "pathologist"}
    assert all(e.data["deadline"] and e.data["tier"] == "standard" for e in offered)
    counts = {r["id"]: r["active_count"] for r in await db.fetch(
        "SELECT id, active_count FROM specialists")}
    assert counts == {"haem-a": 1, "haem-b": 0, "hp-1": 1, "path-1": 0}


async def test_one_reviewer_never_takes_two_seats_of_a_case_in_one_group(
    db: asyncpg.Pool,
) -> None:
    """The dispatcher reads a group's seats before offering any of them: a reviewer it offers
    one seat of a case is on that case for the next seat, though the seat's row said not.
    (Else the database refuses the second offer and the whole group is rolled back.)"""
    await load(db, sp("both", roles="haematologist;haematopathologist", cap=5))
    case = opened(reasons=["confirm_diagnosis"])
    await open_case(db, case)
    async with db.acquire() as conn, conn.transaction():
        outcomes = await dispatch_seats(conn, [(case.case_id, "disease_specialist"),
                                               (case.case_id, "pathologist")], CFG, NOW)
    assert outcomes == [Outcome.OFFERED, Outcome.UNMATCHED]
    assert await live(db, case.case_id) == {"disease_specialist": "both"}
    [unmatched] = await events(db, "case.unmatched")
    assert unmatched.data["seat"] == "pathologist"
    assert unmatched.data["reasons"] == {"already_on_case_or_declined": 1}


async def test_decline_reoffers_to_the_next_best_never_the_decliner(db: asyncpg.Pool) -> None:
    await load(db, sp("a"), sp("b", cap=4))
    case = opened()
    await open_case(db, case)
    await sweep(db)
    assert await live(db, case.case_id) == {"disease_specialist": "a"}
    await do(db, case.case_id, "disease_specialist", Action.DECLINE, reason="conflict")
    assert (await events(db, "assignment.declined"))[0].data["reason"] == "conflict"
    assert await sweep(db) == (1, 0)
    assert await live(db, case.case_id) == {"disease_specialist": "b"}
    await do(db, case.case_id, "disease_specialist", Action.DECLINE, reason="busy")
    assert await sweep(db) == (0, 0)  # nobody left: b and a both declined
    [unmatched] = await events(db, "case.unmatched")
    assert unmatched.data["reasons"] == {"already_on_case_or_declined": 2}
    assert await db.fetchval("SELECT sum(active_count) FROM specialists") == 0


async def test_expiry_reoffers_and_a_stale_timer_changes_nothing(db: asyncpg.Pool) -> None:
    await load(db, sp("a"), sp("b", cap=4))
    case = opened()
    await open_case(db, case)
    await sweep(db)
    first = await db.fetchval("SELECT assignment_id FROM assignments")
    async with db.acquire() as conn, conn.transaction():
        assert await handlers.expire(conn, first, NOW)
    await sweep(db)
    assert await live(db, case.case_id) == {"disease_specialist": "b"}
    await do(db, case.case_id, "disease_specialist", Action.ACCEPT)
    second = (await events(db, "assignment.offered"))[-1].data["assignment_id"]
    async with db.acquire() as conn, conn.transaction():
        assert not await handlers.expire(conn, second, NOW)  # answered before the timer
    assert [e.data["assignment_id"] for e in await events(db, "assignment.expired")] == [first]


async def test_opinion_ready_once_every_seat_has_submitted(db: asyncpg.Pool) -> None:
    await load(db, sp("haem"), sp("hp", roles="haematopathologist"))
    case = opened(reasons=["confirm_diagnosis"])
    await open_case(db, case)
    await sweep(db)
    await do(db, case.case_id, "disease_specialist", Action.ACCEPT)
    await do(db, case.case_id, "disease_specialist", Action.OPINION, opinion=OPINION)
    assert await events(db, "case.opinion_ready") == []
    await do(db, case.case_id, "pathologist", Action.OPINION, opinion=handlers.Opinion(
        "confirmed", "agreed", "Agree", "https://reports/2"))
    [ready] = await events(db, "case.opinion_ready")
    outcomes = {s["seat"]: (s["diagnosis"], s["treatment_plan"], s["reviewer_id"])
                for s in ready.data["seats"]}
    assert outcomes == {"disease_specialist": ("refined", "modified", "haem"),
                        "pathologist": ("confirmed", "agreed", "hp")}
    assert len(await events(db, "assignment.completed")) == 2
    assert await db.fetchval("SELECT sum(active_count) FROM specialists") == 0


async def test_closing_a_case_releases_every_seat(db: asyncpg.Pool) -> None:
    await load(db, sp("haem"), sp("hp", roles="haematopathologist"))
    case = opened(reasons=["confirm_diagnosis"])
    await open_case(db, case)
    await sweep(db)
    await do(db, case.case_id, "disease_specialist", Action.ACCEPT)
    async with db.acquire() as conn, conn.transaction():
        await handlers.on_case_closed(conn, EVENT, CaseClosed(case_id=case.case_id,
                                                              reason="withdrawn"), NOW)
    released = await events(db, "assignment.released")
    assert {e.data["reviewer_id"] for e in released} == {"haem", "hp"}
    assert await db.fetchval("SELECT sum(active_count) FROM specialists") == 0
    assert await sweep(db) == (0, 0)
    assert await live(db, case.case_id) == {}
    with pytest.raises(handlers.ActionRefused, match="cannot opinion"):
        async with db.acquire() as conn, conn.transaction():
            a = await db.fetchval("SELECT assignment_id FROM assignments WHERE"
                                  " specialist_id = 'haem'")
            await handlers.act(conn, a, Action.OPINION, NOW, reviewer_id="haem",
                               opinion=OPINION)


async def test_unmatched_reasons_in_counts_then_served_when_capacity_frees(
        db: asyncpg.Pool) -> None:
    # the README's example: 3 at capacity, 2 conflict of interest, 1 on leave
    await load(db, *[sp(f"full-{i}", cap=1) for i in range(3)])
    blockers = [opened(icd10="C92.0", first_opinion={"physician_id": "p", "institution": "I"})
                for _ in range(3)]
    for b in blockers:
        await open_case(db, b)
    assert await sweep(db) == (3, 0)
    await load(db, sp("same-inst", institution="General Hospital"), sp("ext-9"), sp("away"),
               sp("x", groups="breast", roles="medical_oncologist", cap=5))
    async with db.acquire() as conn:
        await roster.add_absence(conn, "away", NOW - timedelta(days=1), NOW + timedelta(days=3),
                                 "leave", NOW)
    case = opened(tier="fast_progressing")
    await open_case(db, case)
    assert await sweep(db) == (0, 0)
    assert await sweep(db) == (0, 0)  # retried, reasons unchanged: no second event
    [unmatched] = await events(db, "case.unmatched")
    assert unmatched.data["reasons"] == {"at_capacity": 3, "conflict_of_interest": 2,
                                         "on_leave": 1}
    assert unmatched.data["summary"] == "3 at capacity, 2 conflict of interest, 1 on leave"
    queue = await db.fetch("SELECT case_id FROM seats WHERE status = 'waiting'")
    assert [r["case_id"] for r in queue] == [case.case_id]
    freed = (await live(db, blockers[1].case_id))["disease_specialist"]
    await do(db, blockers[1].case_id, "disease_specialist", Action.DECLINE, reason="no")
    assert await sweep(db) == (2, 0)  # freed capacity serves the waiting fast case
    assert await live(db, case.case_id) == {"disease_specialist": freed}
    assert await live(db, blockers[1].case_id) == {"disease_specialist": "ext-9"}


async def test_waiting_queue_order_fast_then_deadline_then_age(db: asyncpg.Pool) -> None:
    slow = opened(tier="standard")
    fast = opened(tier="fast_progressing")
    for c in (slow, fast):
        await open_case(db, c)
    later = opened(tier="fast_progressing")
    later = later.model_copy(update={"opened_at": NOW + timedelta(hours=1)})
    await open_case(db, later)
    async with db.acquire() as conn:
        order = [r["case_id"] for r in await seats.waiting(conn, 10)]
    assert order == [fast.case_id, later.case_id, slow.case_id]


async def test_one_sweep_serves_a_queue_longer_than_it_reads_at_once(
    db: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sweep reads the queue BATCH seats at a time and skips those it left waiting. It
    once counted the offers of earlier reads again, went past the queue's head and stopped
    early: after a burst of batched openings (one NOTIFY for a hundred cases) the rest waited
    for `retry_every`, a minute."""
    monkeypatch.setattr(dispatcher_module, "BATCH", 3)
    await load(db, sp("a", cap=20))
    for _ in range(2):  # nobody covers neuro: first in the queue, and they stay waiting
        await open_case(db, opened(tier="fast_progressing", group="neuro"))
    for _ in range(10):
        await open_case(db, opened())
    assert await sweep(db) == (10, 0)
    assert await db.fetchval("SELECT count(*) FROM seats WHERE status = 'waiting'") == 2


async def test_cases_awaiting_records_wait_until_ready(db: asyncpg.Pool) -> None:
    await load(db, sp("a"))
    case = opened(status="awaiting_records")
    await open_case(db, case)
    assert await sweep(db) == (0, 0)
    async with db.acquire() as conn, conn.transaction():
        await handlers.on_case_updated(conn, EVENT, CaseUpdated(case_id=case.case_id,
                                                                status="ready"), NOW)
    assert await sweep(db) == (1, 0)


async def test_reassign_by_hand_keeps_the_hard_rules(db: asyncpg.Pool) -> None:
    await load(db, sp("a"), sp("b", cap=5), sp("c", cap=4), sp("far", regions=["US"]))
    case = opened()
    await open_case(db, case)
    await sweep(db)
    first = await db.fetchval("SELECT assignment_id FROM assignments")
    with pytest.raises(handlers.ActionRefused, match="not_licensed_in_region"):
        async with db.acquire() as conn, conn.transaction():
            await handlers.reassign(conn, first, CFG, NOW, reason="swap", to="far")
    async with db.acquire() as conn, conn.transaction():
        got = await handlers.reassign(conn, first, CFG, NOW, reason="swap", to="c")
    assert got["reviewer_id"] == "c" and got["outcome"] == "offered"
    async with db.acquire() as conn, conn.transaction():
        got = await handlers.reassign(conn, str(got["assignment_id"]), CFG, NOW,
                                      reason="again")
    assert got["reviewer_id"] == "b"  # the next best; a and c were on the case already
    assert len(await events(db, "assignment.released")) == 2


async def test_actions_from_kafka_must_come_from_the_assigned_reviewer(
        db: asyncpg.Pool) -> None:
    await load(db, sp("a"))
    case = opened()
    await open_case(db, case)
    await sweep(db)
    a = await db.fetchval("SELECT assignment_id FROM assignments")
    async with db.acquire() as conn, conn.transaction():
        with pytest.raises(PermanentError, match="forbidden"):
            await matcher_kafka.on_accept(conn, EVENT, AssignmentAccept(
                assignment_id=a, specialist_id="someone-else"))
        with pytest.raises(PermanentError, match="not_found"):
            await matcher_kafka.on_accept(conn, EVENT, AssignmentAccept(
                assignment_id="nope", specialist_id="a"))
        await matcher_kafka.on_accept(conn, EVENT, AssignmentAccept(assignment_id=a,
                                                                    specialist_id="a"))
    assert await db.fetchval("SELECT status FROM assignments") == "accepted"


async def test_dispatcher_retries_when_an_absence_ends(db: asyncpg.Pool) -> None:
    """No event wakes it: the dispatcher's own timer fires at the absence's end."""
    now = datetime.now(UTC)
    await load(db, sp("back-soon"))
    async with db.acquire() as conn:
        await roster.add_absence(conn, "back-soon", now - timedelta(hours=1),
                                 now + timedelta(seconds=2), "leave", now)
    case = opened().model_copy(update={"opened_at": now})
    await open_case(db, case)
    dispatcher = Dispatcher(lambda: db, lambda: CFG)  # retry_every is 60s in the policy
    task = asyncio.create_task(dispatcher.run())
    try:
        async def offered() -> bool:
            return await live(db, case.case_id) == {"disease_specialist": "back-soon"}

        await eventually(offered, timeout=30, what="the seat offered once the absence ended")
        [unmatched] = await events(db, "case.unmatched")
        assert unmatched.data["reasons"] == {"on_leave": 1}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_seat_that_fails_is_set_aside_and_the_rest_of_its_group_still_offered(
    db: asyncpg.Pool, caplog: pytest.LogCaptureFixture,
) -> None:
    """The dispatcher offers up to 16 seats per transaction; one seat that cannot be
    dispatched (here: a roster row no longer valid) must not roll back the others."""
    await load(db, sp("haem-a", cap=10),
               sp("neuro-a", roles="medical_oncologist", groups="neuro"))
    await db.execute("UPDATE specialists SET working_hours = 'garbage' WHERE id = 'neuro-a'")
    good = [opened() for _ in range(3)]
    bad = opened(icd10="C71.9", group="neuro")
    for case in (good[0], bad, *good[1:]):
        await open_case(db, case)
    with caplog.at_level("WARNING", logger="oncoroute.matcher.dispatcher"):
        assert await sweep(db) == (3, 0)
    for case in good:
        assert (await live(db, case.case_id))["disease_specialist"] == "haem-a"
    assert await live(db, bad.case_id) == {}
    [warning] = [r.getMessage() for r in caplog.records]
    assert bad.case_id in warning and "not dispatched" in warning
    offered = await events(db, "assignment.offered")
    assert sorted(e.subject for e in offered) == sorted(c.case_id for c in good)


class _Capture:
    """Stands in for the connection to catch the statement the adapter sends."""

    query = ""

    async def fetch(self, query: str, *_args: object) -> list[object]:
        self.query = query
        return []


def _rows_read(plan: dict[str, Any], relation: str) -> float:
    here = (plan.get("Actual Rows", 0) * plan.get("Actual Loops", 0)
            if plan.get("Relation Name") == relation else 0)
    return here + sum(_rows_read(p, relation) for p in plan.get("Plans", []))


async def test_a_sweep_reads_only_the_cases_of_waiting_seats(db: asyncpg.Pool) -> None:
    """After a burst, before autovacuum has analysed the tables, the planner believed the
    tables were empty and joined every case to every waiting seat (200 ms a sweep at 2,000
    cases, 50 sweeps a second at 50 cases/s). The queue must cost the waiting seats, not
    the history."""
    cases = [opened() for _ in range(150)]
    for n, case in enumerate(cases):
        await open_case(db, case)  # nobody on the roster: every seat waits
        if n == 1:  # statistics from when the tables were small, as before a burst
            await db.execute("ANALYZE seats; ANALYZE cases")
    await db.execute("UPDATE seats SET status = 'offered' WHERE case_id <> $1",
                     cases[0].case_id)  # served since, as a burst is
    sent = _Capture()
    await seats.waiting(sent, 500)  # type: ignore[arg-type]
    async with db.acquire() as conn:
        [row] = await conn.fetch(f"EXPLAIN (ANALYZE, FORMAT JSON) {sent.query}", 500)
        doc = row[0] if isinstance(row[0], list) else json.loads(row[0])  # the pool's codec
        plan = doc[0]["Plan"]
        assert [r["case_id"] for r in await seats.waiting(conn, 500)] == [cases[0].case_id]
    assert _rows_read(plan, "cases") <= 1, json.dumps(plan)


async def test_seats_are_vacuumed_and_analysed_as_a_queue(db: asyncpg.Pool) -> None:
    options = await db.fetchval("SELECT reloptions FROM pg_class WHERE oid = 'seats'::regclass")
    assert {"autovacuum_vacuum_scale_factor=0", "autovacuum_vacuum_threshold=5000",
            "autovacuum_analyze_scale_factor=0", "autovacuum_analyze_threshold=5000"
            } <= set(options)
