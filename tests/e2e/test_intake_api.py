"""Intake's HTTP and FHIR API against the running system (real broker and PostgreSQL): API keys
per source, idempotent submission, problem+json answers, records completeness with
`case.updated`, withdrawal with `case.closed`, FHIR R4 bundles, and one case when the same
submission races over HTTP and Kafka."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from oncoroute_shared.envelope import CloudEvent, encode, new_event

from ..support.kafka import events, publish
from ..support.submissions import submission
from ..support.waiting import eventually
from ..unit.test_intake_fhir import bundle
from .conftest import System

pytestmark = pytest.mark.e2e
FHIR = {"content-type": "application/fhir+json"}


def _key(system: System, *args: str) -> str:
    made = system.cli("keys", "create", *args)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


def _client(system: System, key: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.AsyncClient(base_url=system.url("intake"), headers=headers, timeout=30)


async def _case_events(system: System, case_id: str, short: str) -> list[CloudEvent]:
    return [e for e in await events(system.infra.kafka or "", "cases")
            if e.subject == case_id and e.type == f"org.oncoroute.{short}.v1"]


async def test_every_endpoint_but_health_needs_a_key(system: System) -> None:
    case_id = str(uuid.uuid4())
    async with _client(system, None) as anon, _client(system, "ork_nope_nope") as wrong:
        for client in (anon, wrong):
            calls = [client.post("/v1/cases", json=submission()), client.get("/v1/cases"),
                     client.get(f"/v1/cases/{case_id}"),
                     client.post(f"/v1/cases/{case_id}/records", json={"records": []}),
                     client.post(f"/v1/cases/{case_id}/withdraw"),
                     client.post("/fhir/r4/Bundle", json=bundle(), headers=FHIR)]
            for r in await asyncio.gather(*calls):
                assert r.status_code == 401, r.text
                assert r.headers["www-authenticate"].startswith("Bearer")
        for path in ("/healthz", "/readyz", "/metrics"):
            assert (await anon.get(path)).status_code == 200


async def test_a_key_submits_and_reads_only_for_its_own_source(system: System) -> None:
    tag = uuid.uuid4().hex[:8]
    key_a = _key(system, "--source", f"hosp-a-{tag}")
    key_b = _key(system, "--source", f"hosp-b-{tag}")
    listed = system.cli("keys", "list")
    assert f"hosp-a-{tag}" in listed.stdout and key_a not in listed.stdout  # never the key
    async with _client(system, key_a) as a, _client(system, key_b) as b, \
            system.intake_client() as operator:
        foreign = await a.post("/v1/cases", json=submission(source=f"hosp-b-{tag}"))
        assert foreign.status_code == 403
        assert foreign.headers["content-type"] == "application/problem+json"
        mine = await a.post("/v1/cases", json=submission(source=f"hosp-a-{tag}"))
        assert mine.status_code == 201, mine.text
        case_id = mine.json()["case_id"]
        assert (await a.get(f"/v1/cases/{case_id}")).status_code == 200
        assert (await b.get(f"/v1/cases/{case_id}")).status_code == 404
        assert (await b.post(f"/v1/cases/{case_id}/withdraw")).status_code == 404
        assert (await b.get("/v1/cases", params={"source": f"hosp-a-{tag}"})).json()["items"] == []
        own = (await a.get("/v1/cases")).json()["items"]
        assert {c["source"] for c in own} == {f"hosp-a-{tag}"}
        assert (await operator.get(f"/v1/cases/{case_id}")).status_code == 200

        key_id = key_a.split("_")[1]
        revoked = system.cli("keys", "revoke", key_id)
        assert revoked.returncode == 0, revoked.stderr

        async def refused() -> bool:
            return (await a.get("/v1/cases")).status_code == 401

        await eventually(refused, timeout=60, what="the revoked key to be refused")


async def test_the_same_submission_answers_201_then_200_with_the_same_case(
    system: System,
) -> None:
    doc = submission()
    async with system.intake_client() as client:
        first = await client.post("/v1/cases", json=doc)
        again = await client.post("/v1/cases", json=doc)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["case_id"] == again.json()["case_id"]
    assert first.headers["location"] == f"/v1/cases/{first.json()['case_id']}"


async def _chunks() -> AsyncIterator[bytes]:
    """A body without Content-Length (chunked), larger than the limit."""
    yield b"["
    for _ in range(20):
        yield b"0," * 30_000
    yield b"0]"


async def test_bad_requests_get_problem_json_listing_every_problem(system: System) -> None:
    doc = submission(reasons=["confirm_diagnosis", "because"])
    doc["patient"]["age"] = 200
    doc["diagnosis"]["icd10"] = "C99.9"
    doc["records"][0]["kind"] = "x_ray"
    async with system.intake_client() as client:
        bad = await client.post("/v1/cases", json=doc)
        huge = await client.post("/v1/cases", content=b"[" + b"0," * 600_000 + b"0]",
                                 headers={"content-type": "application/json"})
        chunked = await client.post("/v1/cases", content=_chunks(),
                                    headers={"content-type": "application/json"})
        text = await client.post("/v1/cases", content=b"{}",
                                 headers={"content-type": "text/plain"})
        broken = await client.post("/v1/cases", content=b'{"source": ',
                                   headers={"content-type": "application/json"})
        cursor = await client.get("/v1/cases", params={"cursor": "not-a-cursor"})
        limit = await client.get("/v1/cases", params={"limit": "many"})
        unknown = await client.get("/v1/cases/not-a-case")
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    problem = bad.json()
    assert problem["status"] == 422 and problem["type"].endswith("/invalid-submission")
    assert {e["path"] for e in problem["errors"]} == {
        "patient.age", "reasons.1", "records.0.kind", "diagnosis.icd10"}
    assert "content-length" not in chunked.request.headers
    for r, status in ((huge, 413), (chunked, 413), (text, 415), (broken, 422), (cursor, 422),
                      (limit, 422), (unknown, 404)):
        assert r.status_code == status, r.text
        assert r.headers["content-type"] == "application/problem+json"
    assert "1048576" in huge.json()["detail"]
    assert [e["path"] for e in cursor.json()["errors"]] == ["cursor"]


async def test_a_submission_too_large_to_route_is_refused_and_nothing_is_opened(
    system: System,
) -> None:
    """Under the body limit and valid field by field, yet more than a `case.opened` may carry
    (a Kafka record is at most 1 MiB): 422 naming its size, and no case, rather than a case
    opened whose event could never leave the outbox."""
    doc = submission()
    uri = "https://pacs.example.org/" + "€" * 1970  # 2,000 characters, 5,935 bytes
    doc["records"] = [{"kind": "imaging", "uri": uri} for _ in range(160)]
    async with system.intake_client() as client:
        refused = await client.post("/v1/cases", json=doc)
        found = await client.get("/v1/cases", params={"external_id": doc["external_id"]})
        doc["records"] = doc["records"][:150]
        accepted = await client.post("/v1/cases", json=doc)
    assert len(refused.request.content) < 1024 * 1024
    assert refused.status_code == 422, refused.text
    [problem] = refused.json()["errors"]
    assert problem["path"] == "(root)" and "more than the 921600" in problem["message"]
    assert found.json()["items"] == []
    assert accepted.status_code == 201, accepted.text
    case_id = accepted.json()["case_id"]
    [event] = await eventually(lambda: _case_events(system, case_id, "case.opened"),
                               what="the largest routable case's case.opened")
    assert len(event.data["submission"]["records"]) == 150


async def test_missing_records_wait_then_case_updated_ready(system: System) -> None:
    doc = submission(reasons=["confirm_diagnosis", "treatment_options"])
    async with system.intake_client() as client:
        opened = await client.post("/v1/cases", json=doc)
        assert opened.status_code == 201
        body = opened.json()
        case_id = body["case_id"]
        assert (body["status"], body["missing_records"]) == \
            ("awaiting_records", ["imaging", "imaging_report"])
        [event] = await eventually(lambda: _case_events(system, case_id, "case.opened"),
                                   what="case.opened on the cases topic")
        assert event.data["status"] == "awaiting_records"
        assert event.data["missing_records"] == ["imaging", "imaging_report"]
        assert event.data["classification"]["tumor_group"] == "breast"

        added = await client.post(f"/v1/cases/{case_id}/records", json={"records": [
            {"kind": "imaging_report", "uri": "https://records.example.org/ct-1",
             "received_at": "2026-11-20T10:00:00Z"}]})
        assert added.status_code == 200, added.text
        assert (added.json()["status"], added.json()["missing_records"]) == ("ready", [])
        repeat = await client.post(f"/v1/cases/{case_id}/records", json={"records": [
            {"kind": "imaging_report", "uri": "https://records.example.org/ct-1"}]})
        assert repeat.json()["records_added"] == []
        [updated] = await eventually(lambda: _case_events(system, case_id, "case.updated"),
                                     what="case.updated on the cases topic")
        assert (updated.data["status"], updated.data["missing_records"]) == ("ready", [])
        case = (await client.get(f"/v1/cases/{case_id}")).json()
    assert case["status"] == "ready" and len(case["records"]) == 2
    # intake's own events in order (other services' events, such as the acknowledgement
    # sent to the patient, may fall between them on the timeline)
    own = [e["type"] for e in case["timeline"] if e["source"] == "oncoroute/intake"]
    assert own[:2] == ["org.oncoroute.case.opened.v1", "org.oncoroute.case.updated.v1"]


async def test_fast_progressing_cases_are_routed_even_with_records_missing(
    system: System,
) -> None:
    doc = submission(icd10="C92.0", reasons=["confirm_diagnosis"], records=[])
    doc["diagnosis"] = {"icd10": "C92.0", "icd_o3_morphology": "9861/3"}
    async with system.intake_client() as client:
        body = (await client.post("/v1/cases", json=doc)).json()
        case = (await client.get(f"/v1/cases/{body['case_id']}")).json()
    assert (body["status"], body["missing_records"]) == \
        ("ready", ["pathology_report", "pathology_slides"])
    assert case["classification"] == {
        "tier": "fast_progressing", "tumor_group": "haematologic", "fast_progressing": True,
        "rule": "acute_leukaemia", "needs_triage": False, "matched_on": "icd10"}


async def test_withdraw_closes_the_case_once(system: System) -> None:
    async with system.intake_client() as client:
        case_id = (await client.post("/v1/cases", json=submission())).json()["case_id"]
        first = await client.post(f"/v1/cases/{case_id}/withdraw")
        second = await client.post(f"/v1/cases/{case_id}/withdraw")
        late = await client.post(f"/v1/cases/{case_id}/records", json={"records": [
            {"kind": "other", "uri": "https://records.example.org/late"}]})
        closed = await client.get("/v1/cases", params={"status": "closed", "external_id":
                                                       (await client.get(
                                                           f"/v1/cases/{case_id}")).json()[
                                                           "external_id"]})
    assert first.json() == second.json() == \
        {"case_id": case_id, "status": "closed", "reason": "withdrawn"}
    assert late.status_code == 409
    assert [c["case_id"] for c in closed.json()["items"]] == [case_id]
    [event] = await eventually(lambda: _case_events(system, case_id, "case.closed"),
                               what="case.closed on the cases topic")
    assert event.data == {"case_id": case_id, "reason": "withdrawn"}


async def test_a_fhir_r4_bundle_opens_a_classified_case_once(system: System) -> None:
    ident = f"SO-{uuid.uuid4().hex[:10]}"
    doc = bundle(ServiceRequest={"identifier": [{"system": "http://hospital.example.org/so",
                                                 "value": ident}]})
    key = _key(system, "--source", "fhir-hospital")
    async with _client(system, key) as client:
        first = await client.post("/fhir/r4/Bundle", json=doc, headers=FHIR)
        again = await client.post("/fhir/r4/Bundle", json=doc, headers=FHIR)
        assert (first.status_code, again.status_code) == (201, 200), first.text
        assert first.headers["content-type"] == "application/fhir+json"
        assert first.json()["resourceType"] == "OperationOutcome"
        location = first.headers["location"]
        assert location == again.headers["location"]
        case = (await client.get(location)).json()
        bad = await client.post("/fhir/r4/Bundle", headers=FHIR, json=bundle(
            Patient={"gender": None}, ServiceRequest={"identifier": []}))
        not_fhir = await client.post("/fhir/r4/Bundle", content=b"<Bundle/>",
                                     headers={"content-type": "application/fhir+xml"})
    assert (case["source"], case["external_id"]) == ("fhir-hospital", ident)
    assert case["classification"]["tier"] == "fast_progressing"
    assert case["classification"]["tumor_group"] == "haematologic"
    assert case["reasons"] == ["confirm_diagnosis", "treatment_options"]
    assert [r["kind"] for r in case["records"]] == ["pathology_report"]
    assert bad.status_code == 422 and bad.json()["resourceType"] == "OperationOutcome"
    where = {i["expression"][0] for i in bad.json()["issue"]}
    assert where == {"Patient (submission patient.sex)",
                     "ServiceRequest.identifier (submission external_id)"}
    assert not_fhir.status_code == 415
    assert not_fhir.json()["issue"][0]["code"] == "not-supported"


async def test_a_bad_kafka_submission_is_answered_with_case_rejected(system: System) -> None:
    doc = submission(reasons=["because"])
    doc["diagnosis"]["icd10"] = "C99.9"
    del doc["patient"]
    event = new_event("case.submitted", source="test-hospital", subject=doc["external_id"],
                      data=doc)
    await publish(system.infra.kafka or "", "case-submissions",
                  [(doc["external_id"].encode(), encode(event))])

    async def rejected() -> list[CloudEvent]:
        return [e for e in await events(system.infra.kafka or "", "cases")
                if e.type.endswith("case.rejected.v1")
                and e.data["submission_event_id"] == event.id]

    [answer] = await eventually(rejected, what="case.rejected for the bad submission")
    assert (answer.data["source"], answer.data["external_id"]) == \
        ("test-hospital", doc["external_id"])
    assert {e["path"] for e in answer.data["errors"]} == {"patient", "reasons.0",
                                                          "diagnosis.icd10"}


async def test_the_same_submission_racing_over_http_and_kafka_opens_one_case(
    system: System,
) -> None:
    source = f"race-{uuid.uuid4().hex[:8]}"
    docs = [submission(icd10="C61", source=source, external_id=f"race-{i}") for i in range(40)]
    producer = AIOKafkaProducer(bootstrap_servers=system.infra.kafka, acks="all")
    await producer.start()  # connected first, so both copies leave at the same moment

    async def over_kafka() -> None:
        sent = [await producer.send("case-submissions", key=d["external_id"].encode(),
                                    value=encode(new_event("case.submitted", source=source,
                                                           subject=d["external_id"], data=d)))
                for d in docs]
        await asyncio.gather(*sent)

    try:
        async with system.intake_client() as client:
            results = await asyncio.gather(
                over_kafka(), *(client.post("/v1/cases", json=d) for d in docs))
    finally:
        await producer.stop()
    answers: list[Any] = list(results[1:])
    assert {r.status_code for r in answers} <= {200, 201}
    db = await asyncpg.connect(system.infra.database_url)
    try:
        async def all_opened() -> list[asyncpg.Record] | None:
            rows = await db.fetch("SELECT external_id, case_id FROM intake.cases"
                                  " WHERE source = $1", source)
            return rows if len(rows) == len(docs) else None

        rows = await eventually(all_opened, what="every raced submission to open")
    finally:
        await db.close()
    by_external = {r["external_id"]: r["case_id"] for r in rows}
    assert len(by_external) == len(docs)  # the unique key allows no second row
    assert all(by_external[d["external_id"]] == r.json()["case_id"]
               for d, r in zip(docs, answers, strict=True))

    async def opened_events() -> list[CloudEvent] | None:
        found = [e for e in await events(system.infra.kafka or "", "cases")
                 if e.type.endswith("case.opened.v1") and e.subject in set(by_external.values())]
        return found if len(found) >= len(docs) else None

    opened = await eventually(opened_events, what="case.opened for every raced case")
    assert sorted(e.subject or "" for e in opened) == sorted(by_external.values())


async def test_the_submission_is_published_as_json_schema(system: System) -> None:
    import jsonschema_rs

    async with system.intake_client() as client:
        r = await client.get("/v1/schemas/submission")
    assert r.status_code == 200
    validator = jsonschema_rs.validator_for(r.json())
    assert validator.is_valid(submission())
    assert not validator.is_valid(submission(reasons=["curiosity"]))
    assert not validator.is_valid(submission(records=[{"kind": "x_ray", "uri": "u"}]))
