"""A clock's lifecycle driven by real events through the handlers on the real PostgreSQL:
what is stored, which timers are armed, what goes into the outbox; and the read model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from oncoroute_shared.contracts.assignments import (
    AssignmentChanged,
    AssignmentOffered,
    CaseOpinionReady,
    Reviewer,
)
from oncoroute_shared.contracts.cases import (
    CaseClosed,
    CaseOpened,
    CaseUpdated,
    Classification,
)
from oncoroute_shared.contracts.submissions import Submission
from oncoroute_shared.envelope import CloudEvent, new_event
from oncoroute_sla.adapters import clocks, readmodel
from oncoroute_sla.domain.clock import standing
from oncoroute_sla.domain.policy import SlaPolicy
from oncoroute_sla.handlers import assignments, cases

from ..support.submissions import submission
from .test_sla_timers import SlaSchema, sla_schema_fixture  # noqa: F401  (the fixture)

pytestmark = pytest.mark.integration
POLICY = SlaPolicy()
H = timedelta(hours=1)


def event(short: str, data: Any, at: datetime) -> CloudEvent:
    return new_event(short, source="test", subject=data.case_id, data=data, time=at)


def opened(case_id: str, at: datetime, tier: str = "standard",
           status: str = "ready") -> tuple[CloudEvent, CaseOpened]:
    data = CaseOpened(case_id=case_id, opened_at=at, status=status,  # type: ignore[arg-type]
                      classification=Classification(tier=tier, tumor_group="breast",
                                                    fast_progressing=tier != "standard",
                                                    rule="test"),
                      submission=Submission.model_validate(submission()))
    return event("case.opened", data, at), data


async def open_case(conn: asyncpg.Connection, case_id: str, at: datetime, **kw: Any) -> None:
    ev, data = opened(case_id, at, **kw)
    await cases.on_case_opened(conn, ev, data, POLICY, at)


async def update(conn: asyncpg.Connection, case_id: str, status: str, at: datetime) -> None:
    data = CaseUpdated(case_id=case_id, status=status)  # type: ignore[arg-type]
    await cases.on_case_updated(conn, event("case.updated", data, at), data, POLICY, at)


async def armed(conn: asyncpg.Connection, case_id: str) -> dict[str, timedelta]:
    rows = await conn.fetch("SELECT step, due_at, c.opened_at FROM timers JOIN clocks c"
                            " USING (case_id) WHERE case_id = $1 AND fired_at IS NULL", case_id)
    return {r["step"]: r["due_at"] - r["opened_at"] for r in rows}


async def emitted(db: SlaSchema, case_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [(e.type.removeprefix("org.oncoroute.").removesuffix(".v1"), e.data)
            for e in await db.outbox() if e.subject == case_id]


NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)


async def test_a_ready_standard_case_starts_its_clock_and_arms_its_ladder(
    sla_schema: SlaSchema,
) -> None:
    async with sla_schema.pool.acquire() as conn, conn.transaction():
        await open_case(conn, "c-ready", NOW)
        await open_case(conn, "c-ready", NOW)  # redelivered: no second effect
        assert await armed(conn, "c-ready") == {
            "warning:0.5": 24 * H, "warning:0.75": 36 * H, "escalation:1": 36 * H,
            "escalation:2": 43.2 * H, "breach": 48 * H}
    out = await emitted(sla_schema, "c-ready")
    assert [t for t, _ in out] == ["sla.started"]
    assert out[0][1]["turnaround_seconds"] == 48 * 3600


async def test_awaiting_records_holds_the_clock_until_records_arrive(
    sla_schema: SlaSchema,
) -> None:
    async with sla_schema.pool.acquire() as conn, conn.transaction():
        await open_case(conn, "c-wait", NOW, status="awaiting_records")
        assert await armed(conn, "c-wait") == {"records:1": 24 * H}
        await update(conn, "c-wait", "ready", NOW + 30 * H)
        steps = await armed(conn, "c-wait")
        assert steps["breach"] == 78 * H and "records:1" not in steps
        await update(conn, "c-wait", "awaiting_records", NOW + 40 * H)  # paused mid-run
        assert await armed(conn, "c-wait") == {"records:1": 64 * H}
        await update(conn, "c-wait", "ready", NOW + 50 * H)  # 10 h paused
        steps = await armed(conn, "c-wait")
        assert steps["breach"] == 88 * H and steps["warning:0.5"] == 64 * H
    types = [t for t, _ in await emitted(sla_schema, "c-wait")]
    assert types == ["sla.paused", "sla.started", "sla.paused", "sla.resumed"]


async def test_a_fast_progressing_case_is_escalated_at_opening(sla_schema: SlaSchema) -> None:
    async with sla_schema.pool.acquire() as conn, conn.transaction():
        await open_case(conn, "c-fast", NOW, tier="fast_progressing", status="awaiting_records")
        await open_case(conn, "c-fast", NOW, tier="fast_progressing")
    out = await emitted(sla_schema, "c-fast")
    assert [t for t, _ in out] == ["sla.started", "sla.escalated"]
    assert out[1][1]["level"] == "expedite"
    assert out[1][1]["audience"] == ["tumor_group_lead", "operators_on_call"]


async def test_offers_arm_and_answers_disarm_acceptance_timers(sla_schema: SlaSchema) -> None:
    async with sla_schema.pool.acquire() as conn, conn.transaction():
        await open_case(conn, "c-offer", NOW)
        for aid in ("a-1", "a-2"):
            offer = AssignmentOffered(assignment_id=aid, case_id="c-offer", seat="s", role="r",
                                      tier="standard", offered_at=NOW + H,
                                      reviewer=Reviewer(id=f"sp-{aid}", name="Dr X"))
            await assignments.on_offered(conn, event("assignment.offered", offer, NOW), offer,
                                         POLICY, NOW)
        assert (await armed(conn, "c-offer"))["acceptance:a-1"] == 5 * H
        change = AssignmentChanged(assignment_id="a-1", case_id="c-offer", seat="s",
                                   reviewer_id="sp-a-1", at=NOW + 2 * H)
        await assignments.on_answered(conn, event("assignment.accepted", change, NOW), change,
                                      "accepted", NOW)
        steps = await armed(conn, "c-offer")
        assert "acceptance:a-1" not in steps and "acceptance:a-2" in steps
        ready = CaseOpinionReady(case_id="c-offer", seats=[])
        await assignments.on_opinion_ready(conn, event("case.opinion_ready", ready, NOW + 20 * H),
                                           ready, NOW + 20 * H)
        assert await armed(conn, "c-offer") == {}
    met = (await emitted(sla_schema, "c-offer"))[-1]
    assert met[0] == "sla.met" and met[1]["on_time"] is True
    assert met[1]["turnaround_seconds"] == 20 * 3600


async def test_an_opinion_before_case_opened_still_ends_in_met(sla_schema: SlaSchema) -> None:
    async with sla_schema.pool.acquire() as conn, conn.transaction():
        ready = CaseOpinionReady(case_id="c-early", seats=[])
        await assignments.on_opinion_ready(conn, event("case.opinion_ready", ready, NOW + 50 * H),
                                           ready, NOW + 50 * H)
        await open_case(conn, "c-early", NOW)
        assert await armed(conn, "c-early") == {}
    out = await emitted(sla_schema, "c-early")
    assert [t for t, _ in out] == ["sla.met"]
    assert out[0][1]["on_time"] is False and out[0][1]["lateness_seconds"] == 2 * 3600


async def test_closing_cancels_the_clock_and_its_timers(sla_schema: SlaSchema) -> None:
    async with sla_schema.pool.acquire() as conn, conn.transaction():
        await open_case(conn, "c-close", NOW)
        closed = CaseClosed(case_id="c-close", reason="withdrawn")
        await cases.on_case_closed(conn, event("case.closed", closed, NOW + H), closed, NOW + H)
        assert await armed(conn, "c-close") == {}
        clock = await clocks.lock(conn, "c-close")
    assert clock is not None and clock.state == "cancelled"


async def test_the_read_model_judges_clocks_as_the_domain_does(sla_schema: SlaSchema) -> None:
    now = await sla_schema.now()
    ages = {"on-track": 1 * H, "at-risk": 40 * H, "breached": 50 * H}
    async with sla_schema.pool.acquire() as conn, conn.transaction():
        for name, age in ages.items():
            await open_case(conn, f"rm-{name}", now - age)
        await open_case(conn, "rm-held", now - 60 * H, status="awaiting_records")
        await open_case(conn, "rm-paused", now - 10 * H)
        await update(conn, "rm-paused", "awaiting_records", now - 5 * H)
    async with sla_schema.pool.acquire() as conn:
        total, items = await readmodel.open_cases(conn, POLICY.at_risk_at, readmodel.Filters())
        by_id = {i["case_id"]: i for i in items}
        for case_id, item in by_id.items():
            clock = await clocks.lock(conn, case_id)
            assert clock is not None
            assert item["state"] == standing(clock, now, POLICY.at_risk_at)
        assert [i["case_id"] for i in items][:2] == ["rm-breached", "rm-at-risk"]
        assert {k: by_id[k]["state"] for k in by_id} == {
            "rm-on-track": "on_track", "rm-at-risk": "at_risk", "rm-breached": "breached",
            "rm-held": "paused", "rm-paused": "paused"}
        assert abs(by_id["rm-paused"]["time_remaining_seconds"] - 43 * 3600) < 1
        _, paused = await readmodel.open_cases(conn, POLICY.at_risk_at,
                                               readmodel.Filters(standing="paused", limit=1))
        assert total == 5 and len(paused) == 1 and paused[0]["state"] == "paused"
        detail = await readmodel.one_case(conn, POLICY.at_risk_at, "rm-paused")
        assert detail is not None
        assert [h["what"] for h in detail["history"]] == ["opened", "paused"]
        summary = await readmodel.summary(conn, POLICY.at_risk_at, 7 * 24 * H, ["standard"])
        assert summary["open"]["standard"] == {"on_track": 1, "at_risk": 1, "breached": 1,
                                               "paused": 2}


async def test_the_summary_counts_breaches_met_on_time_and_turnaround(
    sla_schema: SlaSchema,
) -> None:
    now = await sla_schema.now()
    async with sla_schema.pool.acquire() as conn, conn.transaction():
        for case_id, hours in (("s-1", 10), ("s-2", 30), ("s-3", 60)):
            await open_case(conn, case_id, now - hours * H)
            ready = CaseOpinionReady(case_id=case_id, seats=[])
            await assignments.on_opinion_ready(conn, event("case.opinion_ready", ready, now),
                                               ready, now)
        await open_case(conn, "s-4", now - 50 * H)
        await conn.execute("UPDATE timers SET fired_at = now() WHERE case_id = 's-4'"
                           " AND step = 'breach'")
        summary = await readmodel.summary(conn, POLICY.at_risk_at, 24 * H, ["standard"])
    tier = summary["by_tier"]["standard"]
    assert (tier["breaches"], tier["met"], tier["met_on_time"]) == (1, 3, 2)
    assert tier["met_on_time_rate"] == round(2 / 3, 4)
    assert tier["turnaround_p50_seconds"] == 30 * 3600
    assert summary["by_tumor_group"]["breast"]["breaches"] == 1
    assert summary["by_tumor_group"]["breast"]["met_on_time"] == 2
