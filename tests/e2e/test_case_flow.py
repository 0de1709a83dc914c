"""One case over HTTP and one over Kafka each reach case.opened, assignment.offered,
sla.started and notification.sent, all visible in the case's timeline."""

from __future__ import annotations

import httpx
import pytest

from oncoroute_shared.envelope import encode, new_event

from ..support.kafka import publish
from ..support.submissions import submission
from ..support.waiting import eventually
from .conftest import System

pytestmark = pytest.mark.e2e

FLOW = ("case.opened", "assignment.offered", "sla.started", "notification.sent")


async def _timeline_types(client: httpx.AsyncClient, case_id: str) -> set[str] | None:
    r = await client.get(f"/v1/cases/{case_id}")
    if r.status_code != 200:
        return None
    types = {e["type"].removeprefix("org.oncoroute.").removesuffix(".v1")
             for e in r.json()["timeline"]}
    return types if set(FLOW) <= types else None


async def test_http_submission_flows_end_to_end(system: System) -> None:
    async with system.intake_client() as client:
        r = await client.post("/v1/cases", json=submission())
        assert r.status_code == 201, r.text
        case_id = r.json()["case_id"]
        types = await eventually(lambda: _timeline_types(client, case_id), timeout=60,
                                 what="the full flow on the case timeline")
        case = (await client.get(f"/v1/cases/{case_id}")).json()
    assert set(FLOW) <= types
    assert case["classification"]["tumor_group"] == "breast"
    assert case["classification"]["tier"] == "standard"


async def test_kafka_submission_flows_end_to_end(system: System) -> None:
    doc = submission(icd10="C92.0", diagnosis={"icd10": "C92.0", "description": "AML"})
    event = new_event("case.submitted", source="test-hospital", subject=doc["external_id"],
                      data=doc)
    await publish(system.infra.kafka or "", "case-submissions",
                  [(doc["external_id"].encode(), encode(event))])
    async with system.intake_client() as client:

        async def opened() -> str | None:
            r = await client.get("/v1/cases", params={"source": doc["source"],
                                                      "external_id": doc["external_id"]})
            items = r.json().get("items", []) if r.status_code == 200 else []
            return items[0]["case_id"] if items else None

        case_id = await eventually(opened, timeout=60, what="the Kafka submission to open")
        await eventually(lambda: _timeline_types(client, case_id), timeout=60,
                         what="the full flow on the case timeline")
        case = (await client.get(f"/v1/cases/{case_id}")).json()
    assert case["classification"]["tier"] == "fast_progressing"
    sla = next(e for e in case["timeline"] if e["type"].endswith("sla.started.v1"))
    assert sla["summary"]["turnaround_seconds"] == 24 * 3600
