"""SLA clocks end to end: the four services plus a second sla process as OS processes on their
own embedded broker and PostgreSQL, on a seconds-scale policy run at ONCOROUTE_TIME_SCALE=2.

(a) a standard case runs through its warnings, escalation levels, breach and a repeat;
(b) an offer expires, the matcher re-offers the seat, the reviewer accepts through
    `specialist-actions` and submits the opinion: `sla.met` on time;
(c) a fast-progressing case is escalated (`expedite`) at opening;
(d) a case awaiting records does not run its clock until its records arrive;
(e) both sla processes are SIGKILLed mid-run and restarted: every step fires exactly once and
    the steps that fell due while they were down fire on restart, late, in due order.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import yaml

from oncoroute_shared.embedded.stack import ServiceProcess, wait_ready
from oncoroute_shared.envelope import CloudEvent, encode, new_event
from oncoroute_shared.policy import DEFAULT_POLICY

from ..support.kafka import events, publish
from ..support.stack import free_port
from ..support.submissions import submission
from ..support.waiting import eventually
from .conftest import System, isolated_system

pytestmark = pytest.mark.e2e

SCALE = 2
TURNAROUND = 24.0  # standard, after scaling (48s in the policy)
CLOCK_STEPS = {"warning:0.5": 0.5, "warning:0.75": 0.75, "escalation:1": 0.75,
               "escalation:2": 0.9, "breach": 1.0}
SLA_POLICY: dict[str, Any] = {  # every duration is halved by ONCOROUTE_TIME_SCALE=2
    "tiers": {
        "fast_progressing": {"turnaround": "60s", "acceptance_timeout": "60s",
                             "clock_starts": "opened", "expedite": True},
        "standard": {"turnaround": "48s", "acceptance_timeout": "12s",
                     "clock_starts": "ready"},
    },
    "escalation": {"levels": [{"at": 0.75, "audience": ["reviewers", "tumor_group_lead"]},
                              {"at": 0.9, "audience": ["operators_on_call"]}],
                   "repeat_every": "8s"},
    "records_reminders": {"every": "6s", "audience": ["referring_physician"]},
}


@pytest.fixture(scope="module")
def sla_system(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[System]:
    tmp = tmp_path_factory.mktemp("sla-e2e")
    doc = yaml.safe_load(Path(str(DEFAULT_POLICY)).read_text())
    doc["sla"] = SLA_POLICY
    policy = tmp / "policy.yaml"
    policy.write_text(yaml.safe_dump(doc))
    logs = artifacts / "logs" / "sla-e2e"
    env = {"ONCOROUTE_POLICY": str(policy), "ONCOROUTE_TIME_SCALE": str(SCALE)}
    with isolated_system(tmp, logs, env=env) as system:
        second = ServiceProcess("sla", free_port(), system.env, logs / "sla-2.log").start()
        system.services["sla-2"] = second
        wait_ready([second], deadline_s=120)
        yield system


async def sla_events(system: System, case_id: str) -> list[CloudEvent]:
    """The case's events on `sla-events`, in topic order (one partition per case)."""
    return [e for e in await events(system.infra.kafka or "", "sla-events")
            if e.subject == case_id]


def short(e: CloudEvent) -> str:
    return e.type.removeprefix("org.oncoroute.").removesuffix(".v1")


async def submit(system: System, doc: dict[str, Any]) -> str:
    async with system.intake_client() as client:
        r = await client.post("/v1/cases", json=doc)
    assert r.status_code == 201, r.text
    return str(r.json()["case_id"])


async def wait_for(system: System, case_id: str, what: str, *, count: int = 1,
                   timeout: float = 90, **fields: Any) -> list[CloudEvent]:
    async def probe() -> list[CloudEvent] | None:
        found = [e for e in await sla_events(system, case_id) if short(e) == what
                 and all(e.data.get(k) == v for k, v in fields.items())]
        return found if len({e.id for e in found}) >= count else None

    return await eventually(probe, timeout=timeout, interval=0.3,
                            what=f"{what} {fields or ''} for {case_id}")


async def sla_api(system: System, path: str) -> Any:
    async with system.operator_client("sla", timeout=10) as client:
        r = await client.get(path)
    assert r.status_code == 200, r.text
    return r.json()


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_every_service_reports_the_time_scale(sla_system: System) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        for name in sla_system.services:
            ready = (await client.get(f"{sla_system.url(name)}/readyz")).json()
            assert ready["time_scale"] == SCALE, name


async def test_the_sla_api_answers_bad_requests_clearly(sla_system: System) -> None:
    async with sla_system.operator_client("sla", timeout=10) as client:
        unknown = await client.get("/v1/sla/cases/no-such-case")
        window = await client.get("/v1/sla/summary", params={"window": "soon"})
        state = await client.get("/v1/sla/cases", params={"state": "late"})
    assert unknown.status_code == 404 and "no-such-case" in unknown.text
    assert window.status_code == 422 and "not a duration" in window.text
    assert state.status_code == 422


async def test_c_a_fast_progressing_case_is_escalated_at_opening(sla_system: System) -> None:
    doc = submission(icd10="C92.0", reasons=["confirm_diagnosis"])
    doc["diagnosis"] = {"icd10": "C92.0", "icd_o3_morphology": "9861/3"}
    case_id = await submit(sla_system, doc)
    [expedite] = await wait_for(sla_system, case_id, "sla.escalated", level="expedite")
    [started] = await wait_for(sla_system, case_id, "sla.started")
    assert expedite.data["audience"] == ["tumor_group_lead", "operators_on_call"]
    assert expedite.data["tier"] == "fast_progressing"
    assert started.data["turnaround_seconds"] == 30.0
    assert at(started.data["started_at"]) == at(expedite.data["due_at"]), "from opening"
    case = await sla_api(sla_system, f"/v1/sla/cases/{case_id}")
    assert [h["step"] for h in case["history"] if h["what"] == "fired"][:1] == ["expedite"]


async def test_d_a_case_awaiting_records_does_not_run_its_clock(sla_system: System) -> None:
    case_id = await submit(sla_system, submission(
        reasons=["confirm_diagnosis", "treatment_options"]))  # imaging is missing
    [held] = await wait_for(sla_system, case_id, "sla.paused")
    assert held.data.get("deadline") is None
    # Reminders go out on their own schedule while the clock stands still.
    await wait_for(sla_system, case_id, "sla.warning", step="records:1",
                   audience=["referring_physician"])
    case = await sla_api(sla_system, f"/v1/sla/cases/{case_id}")
    assert (case["clock"], case["state"], case["status"]) == ("waiting", "paused",
                                                               "awaiting_records")
    assert case["time_remaining_seconds"] == TURNAROUND, "not a second of it has run"
    assert not [e for e in await sla_events(sla_system, case_id)
                if short(e) in ("sla.started", "sla.escalated", "sla.breached")]
    async with sla_system.intake_client() as client:
        added = await client.post(f"/v1/cases/{case_id}/records", json={"records": [
            {"kind": "imaging_report", "uri": "https://records.example.org/ct-9"}]})
    assert added.status_code == 200 and added.json()["status"] == "ready", added.text
    [started] = await wait_for(sla_system, case_id, "sla.started")
    assert at(started.data["started_at"]) > at(held.data["fired_at"])
    deadline = at(started.data["started_at"]) + timedelta(seconds=TURNAROUND)
    assert at(started.data["deadline"]) == deadline
    case = await sla_api(sla_system, f"/v1/sla/cases/{case_id}")
    assert case["clock"] == "running" and case["status"] == "ready"
    assert {a["step"] for a in case["armed"]} >= set(CLOCK_STEPS)
    assert not any(a["step"].startswith("records:") for a in case["armed"])


async def test_a_a_standard_case_warns_escalates_and_breaches(sla_system: System) -> None:
    case_id = await submit(sla_system, submission())
    [started] = await wait_for(sla_system, case_id, "sla.started")
    await wait_for(sla_system, case_id, "sla.escalated", step="escalation:2:repeat:1",
                   timeout=120)
    start = at(started.data["started_at"])
    steps = [e for e in await sla_events(sla_system, case_id)
             if short(e) in ("sla.warning", "sla.escalated", "sla.breached")]
    by_step = {e.data["step"]: e for e in steps}
    assert set(CLOCK_STEPS) <= set(by_step)
    for step, fraction in CLOCK_STEPS.items():
        e = by_step[step]
        assert at(e.data["due_at"]) == start + timedelta(seconds=TURNAROUND * fraction)
        assert at(e.data["fired_at"]) >= at(e.data["due_at"]), "never early"
        assert e.data["lateness_seconds"] >= 0
    dues = [at(e.data["due_at"]) for e in steps]
    assert dues == sorted(dues), "steps reach the topic in due order"
    assert short(by_step["breach"]) == "sla.breached"
    assert (by_step["escalation:1"].data["level"], by_step["escalation:1"].data["audience"]) \
        == ("1", ["reviewers", "tumor_group_lead"])
    assert (by_step["escalation:2"].data["level"], by_step["escalation:2"].data["audience"]) \
        == ("2", ["operators_on_call"])
    assert by_step["breach"].data["audience"] == [
        "reviewers", "tumor_group_lead", "operators_on_call"]
    repeat = by_step["escalation:2:repeat:1"]
    assert at(repeat.data["due_at"]) == at(by_step["escalation:2"].data["due_at"]) \
        + timedelta(seconds=4)
    listed = await sla_api(sla_system, "/v1/sla/cases?state=breached&limit=1000")
    assert case_id in {c["case_id"] for c in listed["items"]}
    summary = await sla_api(sla_system, "/v1/sla/summary?window=1h")
    assert summary["by_tier"]["standard"]["breaches"] >= 1


async def test_b_an_expired_offer_is_reoffered_accepted_and_met_on_time(
    sla_system: System,
) -> None:
    bootstrap = sla_system.infra.kafka or ""
    # One seat (no pathologist: the diagnosis is not in question), records complete.
    case_id = await submit(sla_system, submission(reasons=["treatment_options"], records=[
        {"kind": "imaging_report", "uri": "https://records.example.org/ct-2"}]))

    async def assignment_events(kind: str) -> list[CloudEvent]:
        return [e for e in await events(bootstrap, "assignments")
                if e.subject == case_id and e.type == f"org.oncoroute.{kind}.v1"]

    [first] = await eventually(lambda: assignment_events("assignment.offered"), timeout=60,
                               what="the first offer")
    [expired] = await wait_for(sla_system, case_id, "sla.acceptance_expired",
                               assignment_id=first.data["assignment_id"])
    assert (expired.data["seat"], expired.data["reviewer_id"]) == (
        first.data["seat"], first.data["reviewer"]["id"])

    async def second_offer() -> CloudEvent | None:
        offers = await assignment_events("assignment.offered")
        return next((o for o in offers if o.data["assignment_id"]
                     != first.data["assignment_id"]), None)

    offer = await eventually(second_offer, timeout=60, what="the seat to be offered again")
    assert offer.data["seat"] == first.data["seat"]
    aid, reviewer = offer.data["assignment_id"], offer.data["reviewer"]["id"]
    await act(bootstrap, case_id, "assignment.accept", {"assignment_id": aid,
                                                        "specialist_id": reviewer})
    await eventually(lambda: assignment_events("assignment.accepted"), timeout=60,
                     what="the acceptance")
    await act(bootstrap, case_id, "opinion.submit", {
        "assignment_id": aid, "specialist_id": reviewer, "diagnosis": "confirmed",
        "treatment_plan": "agreed", "summary": "Agree with the first opinion.",
        "report_uri": "https://reports.example.org/e2e-1"})
    [met] = await wait_for(sla_system, case_id, "sla.met")
    assert met.data["on_time"] is True
    assert 0 < met.data["turnaround_seconds"] < TURNAROUND
    assert not [e for e in await sla_events(sla_system, case_id)
                if short(e) == "sla.acceptance_expired" and e.data["assignment_id"] == aid]
    case = await sla_api(sla_system, f"/v1/sla/cases/{case_id}")
    assert case["clock"] == "met" and case["armed"] == [] and case["on_time"] is True
    history = [h["what"] for h in case["history"]]
    assert {"offer_expired", "offer_accepted", "offer_completed", "met"} <= set(history)


async def act(bootstrap: str, case_id: str, kind: str, data: dict[str, Any]) -> None:
    """What a specialist's client does: an action on `specialist-actions`."""
    event = new_event(kind, source="e2e-specialist-client", subject=case_id, data=data)
    await publish(bootstrap, "specialist-actions", [(case_id.encode(), encode(event))])


async def test_e_killed_sla_processes_fire_every_step_once_and_overdue_ones_on_restart(
    sla_system: System,
) -> None:
    case_ids = await asyncio.gather(*(submit(sla_system, submission()) for _ in range(12)))
    db = await asyncpg.connect(sla_system.infra.database_url)
    try:
        async def count(sql: str) -> int:
            return int(await db.fetchval(sql, list(case_ids)))

        await eventually(lambda: count(
            "SELECT count(*) FROM sla.timers WHERE case_id = ANY($1) AND step = 'warning:0.5'"
            " AND fired_at IS NOT NULL"), timeout=90, what="the first warnings to fire")
        for name in ("sla", "sla-2"):
            sla_system.services[name].kill()

        async def overdue() -> bool:  # every case has a step that fell due while down
            return await count(
                "SELECT count(DISTINCT case_id) FROM sla.timers WHERE case_id = ANY($1)"
                " AND fired_at IS NULL AND due_at < now() - interval '2 seconds'") == 12

        await eventually(overdue, timeout=60, what="steps to fall due while sla is down")
        for name in ("sla", "sla-2"):
            sla_system.services[name].start()
        await asyncio.to_thread(wait_ready, [sla_system.services["sla"],
                                             sla_system.services["sla-2"]], 120)

        async def breached() -> bool:
            return await count("SELECT count(*) FROM sla.timers WHERE case_id = ANY($1)"
                               " AND step = 'breach' AND fired_at IS NOT NULL") == 12

        await eventually(breached, timeout=120, what="every case to breach")
    finally:
        await db.close()

    async def all_published() -> dict[str, list[CloudEvent]] | None:
        per_case: dict[str, list[CloudEvent]] = defaultdict(list)
        for e in await events(sla_system.infra.kafka or "", "sla-events"):
            if e.subject in case_ids and e.data.get("step") in CLOCK_STEPS:
                per_case[e.subject].append(e)
        done = all({e.data["step"] for e in per_case[c]} == set(CLOCK_STEPS) for c in case_ids)
        return per_case if done else None

    per_case = await eventually(all_published, timeout=60, what="every step on the topic")
    late_on_restart = 0
    for case_id, fired in per_case.items():
        ids: dict[str, set[str]] = defaultdict(set)
        for e in fired:
            ids[e.data["step"]].add(e.id)
        assert {s: len(i) for s, i in ids.items()} == dict.fromkeys(CLOCK_STEPS, 1), case_id
        first = list({e.id: e for e in fired}.values())
        dues = [at(e.data["due_at"]) for e in first]
        assert dues == sorted(dues), f"{case_id}: steps out of due order"
        late_on_restart += any(e.data["lateness_seconds"] >= 2 for e in first)
    assert late_on_restart == 12, "every case had a step fire late, on restart"
