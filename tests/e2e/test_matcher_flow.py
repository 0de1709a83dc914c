"""A panel case through intake, matcher and sla as processes, over HTTP and Kafka: the roster
managed with the CLI (CSV, then YAML all-or-nothing), tokens, three seats offered, one offer
expiring on sla's real acceptance timer and re-offered, one declined and re-offered, every seat
submitted and `case.opinion_ready` on the topic; a withdrawn case releases its seats."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from oncoroute_shared.envelope import CloudEvent
from oncoroute_shared.policy import DEFAULT_POLICY

from ..support.kafka import events
from ..support.submissions import submission
from ..support.waiting import eventually
from .conftest import System, isolated_system

pytestmark = pytest.mark.e2e

ROSTER = "id,name,email,roles,tumor_groups,max_active,languages,regions,institution,timezone\n" + (
    "".join(f"onc-{i},Dr Onc {i},onc{i}@example.org,medical_oncologist,breast,5,en,GB,"
            f"Inst {i},UTC\n" for i in (1, 2, 3))
    + "".join(f"path-{i},Dr Path {i},path{i}@example.org,pathologist,breast,5,en,GB,"
              f"Lab {i},UTC\n" for i in (1, 2))
    + "".join(f"rad-{i},Dr Rad {i},rad{i}@example.org,radiologist,breast,5,en,GB,"
              f"Scan {i},UTC\n" for i in (1, 2)))
ACCEPT_WITHIN = "6s"
BAD_YAML = """specialists:
  - {id: y-1, name: Dr Y, roles: [radiologist], tumor_groups: [thoracic], max_active: 5,
     regions: [GB], working_hours: "mon-fri 08:00-18:00", cancer_types: [{code: C34}]}
  - {id: y-2, name: Dr Y 2, roles: [radiologist], tumor_groups: [thoracic], max_active: -1}
"""


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[System]:
    tmp = tmp_path_factory.mktemp("matcher-flow")
    doc = yaml.safe_load(Path(str(DEFAULT_POLICY)).read_text())
    for tier in doc["sla"]["tiers"].values():
        tier["acceptance_timeout"] = ACCEPT_WITHIN
    policy = tmp / "policy.yaml"
    policy.write_text(yaml.safe_dump(doc))
    with isolated_system(tmp, artifacts / "logs" / "matcher-flow", roster=ROSTER,
                         env={"ONCOROUTE_POLICY": str(policy)},
                         services=("intake", "matcher", "sla")) as system:
        yield system


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token.strip()}"}


async def _assignment_events(system: System, case_id: str) -> list[CloudEvent]:
    return [e for e in await events(system.infra.kafka or "", "assignments")
            if e.subject == case_id]


def _types(found: list[CloudEvent]) -> list[str]:
    return [e.type.removeprefix("org.oncoroute.").removesuffix(".v1") for e in found]


async def test_roster_files_are_all_or_nothing(flow: System, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_YAML)
    out = flow.cli("specialists", "import", str(bad))
    assert out.returncode == 2 and "line 4: max_active" in out.stderr
    assert "y-1" not in flow.cli("specialists", "list").stdout  # nothing imported
    good = tmp_path / "good.yaml"
    good.write_text(BAD_YAML.replace("max_active: -1", "max_active: 5, regions: [GB]"))
    out = flow.cli("specialists", "import", str(good))
    assert out.returncode == 0 and "imported 2" in out.stdout, out.stderr


async def test_panel_case_from_offer_to_opinion(flow: System) -> None:
    operator = _bearer(flow.cli("specialists", "token", "--operator").stdout)
    tokens = {sid: _bearer(flow.cli("specialists", "token", sid).stdout)
              for sid in ("onc-1", "onc-2", "onc-3", "path-1", "path-2", "rad-1", "rad-2")}
    doc = submission(reasons=["confirm_diagnosis", "unclear_test_results"], records=[
        {"kind": "pathology_report", "uri": "https://records.example.org/p"},
        {"kind": "imaging", "uri": "https://records.example.org/i"}])
    async with flow.intake_client() as intake:
        r = await intake.post("/v1/cases", json=doc)
        assert r.status_code == 201, r.text
        case_id = r.json()["case_id"]
    async with httpx.AsyncClient(base_url=flow.url("matcher"), timeout=30) as matcher:

        async def seats_now() -> dict[str, dict[str, Any]]:
            r = await matcher.get(f"/v1/cases/{case_id}/seats", headers=operator)
            return ({s["seat"]: s["assignment"] for s in r.json()["seats"]}
                    if r.status_code == 200 else {})

        async def holders() -> dict[str, dict[str, Any]] | None:
            seats = await seats_now()
            return seats if all(seats.values()) and len(seats) == 3 else None

        first = await eventually(holders, timeout=90, what="three seats offered")
        assert set(first) == {"disease_specialist", "pathologist", "radiologist"}

        async def act(seat: str, verb: str, **body: Any) -> httpx.Response:
            a = (await seats_now())[seat]
            return await matcher.post(f"/v1/assignments/{a['assignment_id']}/{verb}",
                                      headers=tokens[a["specialist_id"]], json=body or None)

        # the pathologist declines; someone else's token cannot act for them
        path = first["pathologist"]
        other = "path-2" if path["specialist_id"] == "path-1" else "path-1"
        r = await matcher.post(f"/v1/assignments/{path['assignment_id']}/accept",
                               headers=tokens[other])
        assert r.status_code == 403
        assert (await act("pathologist", "decline", reason="conflict")).status_code == 200
        assert (await act("radiologist", "accept")).status_code == 200

        # the disease specialist never answers: sla's timer expires the offer
        async def reoffered(seat: str, before: str) -> dict[str, Any] | None:
            now = await holders()
            return now if now and now[seat]["specialist_id"] != before else None

        await eventually(lambda: reoffered("pathologist", path["specialist_id"]), timeout=60,
                         what="the declined seat offered to the other pathologist")
        assert (await act("pathologist", "accept")).status_code == 200
        first_onc = first["disease_specialist"]
        await eventually(lambda: reoffered("disease_specialist", first_onc["specialist_id"]),
                         timeout=90, what="the unanswered offer expired and re-offered")
        assert (await act("disease_specialist", "accept")).status_code == 200

        opinion = {"diagnosis": "confirmed", "treatment_plan": "modified",
                   "summary": "Agree with the diagnosis; adjust the regimen",
                   "report_uri": "https://reports.example.org/1"}
        for seat in ("disease_specialist", "pathologist", "radiologist"):
            r = await act(seat, "opinion", **opinion)
            assert r.status_code == 200 and r.json()["status"] == "completed", r.text

    async def ready() -> list[CloudEvent] | None:
        found = await _assignment_events(flow, case_id)
        return found if "case.opinion_ready" in _types(found) else None

    found = await eventually(ready, timeout=60, what="case.opinion_ready on the topic")
    kinds = _types(found)
    assert kinds.count("assignment.offered") == 5  # 3 seats + 1 re-offer after each drop-out
    assert kinds.count("assignment.declined") == 1 and kinds.count("assignment.expired") == 1
    expired = next(e for e in found if e.type.endswith("assignment.expired.v1"))
    assert expired.data["assignment_id"] == first_onc["assignment_id"]
    [opinion_ready] = [e for e in found if e.type.endswith("case.opinion_ready.v1")]
    assert {s["seat"] for s in opinion_ready.data["seats"]} == {
        "disease_specialist", "pathologist", "radiologist"}
    assert {s["treatment_plan"] for s in opinion_ready.data["seats"]} == {"modified"}


async def test_withdrawn_case_releases_its_seats(flow: System) -> None:
    operator = _bearer(flow.cli("specialists", "token", "--operator").stdout)
    async with flow.intake_client() as intake:
        r = await intake.post("/v1/cases", json=submission(reasons=["confirm_diagnosis"]))
        case_id = r.json()["case_id"]
        async with httpx.AsyncClient(base_url=flow.url("matcher"), timeout=30) as matcher:

            async def offered() -> bool:
                r = await matcher.get(f"/v1/cases/{case_id}/seats", headers=operator)
                return r.status_code == 200 and all(s["status"] == "offered"
                                                    for s in r.json()["seats"])

            await eventually(offered, timeout=60, what="both seats offered")
            r = await intake.post(f"/v1/cases/{case_id}/withdraw")
            assert r.status_code in (200, 202), r.text

            async def released() -> bool:
                found = _types(await _assignment_events(flow, case_id))
                return found.count("assignment.released") == 2

            await eventually(released, timeout=60, what="both seats released")
            r = await matcher.get(f"/v1/cases/{case_id}/seats", headers=operator)
            assert {s["status"] for s in r.json()["seats"]} == {"released"}
            load = (await matcher.get("/v1/specialists", headers=operator)).json()
            assert sum(s["active_count"] for s in load) == 0
