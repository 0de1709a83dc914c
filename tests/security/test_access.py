"""Access control, route by route: every HTTP route of every service, enumerated from its own
OpenAPI document, refuses a request without credentials (401 or 403; health, readiness and
metrics excepted); a specialist's token cannot read or act on another specialist's
assignments; a submitting system's key cannot read or act on another system's cases."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from oncoroute_shared.embedded.stack import SERVICES

from ..e2e.conftest import System
from ..support.submissions import submission
from ..support.waiting import eventually

pytestmark = pytest.mark.e2e
PUBLIC = {"/healthz", "/readyz", "/metrics"}
METHODS = ("get", "post", "put", "patch", "delete")


async def routes(client: httpx.AsyncClient) -> list[tuple[str, str]]:
    """(method, a concrete path) of every operation: path parameters get a valid value."""
    doc = (await client.get("/openapi.json")).json()
    found = []
    for path, item in sorted(doc["paths"].items()):
        for method in METHODS:
            if method in item and path not in PUBLIC:
                found.append((method.upper(), concrete(path, item[method])))
    return found


def concrete(path: str, operation: dict[str, Any]) -> str:
    values = {p["name"]: str((p.get("schema", {}).get("enum") or ["probe-id"])[0])
              for p in operation.get("parameters", []) if p["in"] == "path"}
    return re.sub(r"\{([^}]+)\}", lambda m: values.get(m.group(1), "probe-id"), path)


async def refusals(url: str, headers: dict[str, str]) -> tuple[int, list[str]]:
    """(routes tried, those that did not answer 401/403), each sent with `headers` only."""
    wrong = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        found = await routes(client)
        for method, path in found:
            r = await client.request(method, path, headers=headers, json={})
            if r.status_code not in (401, 403):
                wrong.append(f"{method} {path} -> {r.status_code}")
    return len(found), wrong


@pytest.mark.parametrize("name", SERVICES)
async def test_every_route_refuses_requests_without_valid_credentials(
    security_system: System, name: str,
) -> None:
    wrong: list[str] = []
    url = security_system.url(name)
    for headers in ({}, {"Authorization": "Bearer orot_forged-token"},
                    {"Authorization": "Basic b3BzOm9wcw=="}):
        count, bad = await refusals(url, headers)
        wrong += [f"{headers or 'no credentials'}: {b}" for b in bad]
    print(f"\naccess: {name}: {count} routes x 3 kinds of bad credentials, "
          f"{3 * count - len(wrong)} refused")
    assert count, f"{name} shows no routes"
    assert wrong == [], "\n".join(wrong)


async def test_health_and_metrics_stay_open(security_system: System) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        for name in SERVICES:
            for path in sorted(PUBLIC):
                r = await client.get(security_system.url(name) + path)
                assert r.status_code == 200, f"{name} {path}: {r.status_code}"


async def test_each_operator_credential_opens_only_its_own_service(
    security_system: System,
) -> None:
    """sla and notify take operator tokens; intake's keys and matcher's tokens are their own."""
    matcher_operator = _token(security_system, "--operator")
    async with httpx.AsyncClient(timeout=10) as client:
        sla, notify = security_system.url("sla"), security_system.url("notify")
        intake_key = security_system.intake_headers
        ok = security_system.operator_headers
        assert (await client.get(f"{sla}/v1/sla/cases", headers=ok)).status_code == 200
        assert (await client.get(f"{notify}/v1/notifications", params={"case_id": "x"},
                                 headers=ok)).status_code == 200
        for headers in (intake_key, _bearer(matcher_operator)):
            assert (await client.get(f"{sla}/v1/sla/cases", headers=headers)).status_code == 401
            assert (await client.get(f"{notify}/v1/notifications", params={"case_id": "x"},
                                     headers=headers)).status_code == 401
        matcher = security_system.url("matcher")
        assert (await client.get(f"{matcher}/v1/queue", headers=intake_key)).status_code == 401
        assert (await client.get(f"{matcher}/v1/queue",
                                 headers=_bearer(matcher_operator))).status_code == 200
        assert (await client.get(f"{security_system.url('intake')}/v1/cases",
                                 headers=ok)).status_code == 401


def _token(system: System, *args: str) -> str:
    issued = system.cli("specialists", "token", *args)
    assert issued.returncode == 0, issued.stderr
    return issued.stdout.strip()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _offers(client: httpx.AsyncClient, specialist: str,
                  headers: dict[str, str]) -> list[dict[str, Any]]:
    r = await client.get(f"/v1/specialists/{specialist}/assignments", headers=headers)
    assert r.status_code == 200, r.text
    return [a for a in r.json() if a["status"] == "offered"]


async def test_a_specialist_cannot_read_or_act_on_another_specialists_assignments(
    security_system: System,
) -> None:
    one, two = _bearer(_token(security_system, "sec-breast-1")), _bearer(
        _token(security_system, "sec-breast-2"))
    async with security_system.intake_client() as intake:
        for n in range(2):
            r = await intake.post("/v1/cases", json=submission(
                source="sec-access", external_id=f"spec-{n}", reasons=["reassurance"]))
            assert r.status_code == 201, r.text
    async with httpx.AsyncClient(base_url=security_system.url("matcher"), timeout=30) as m:
        async def both_offered() -> tuple[list[Any], list[Any]] | None:
            mine, theirs = await _offers(m, "sec-breast-1", one), await _offers(
                m, "sec-breast-2", two)
            return (mine, theirs) if mine and theirs else None

        _, theirs = await eventually(both_offered, timeout=90,
                                     what="an offer to each breast specialist")
        target = theirs[0]["assignment_id"]
        attempts = {
            "their assignment list": await m.get("/v1/specialists/sec-breast-2/assignments",
                                                 headers=one),
            "their profile": await m.get("/v1/specialists/sec-breast-2", headers=one),
            "their absences": await m.post(
                "/v1/specialists/sec-breast-2/absences", headers=one,
                json={"starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-02T00:00:00Z",
                      "reason": "not theirs to set"}),
            "their assignment": await m.get(f"/v1/assignments/{target}", headers=one),
            "accept": await m.post(f"/v1/assignments/{target}/accept", headers=one),
            "decline": await m.post(f"/v1/assignments/{target}/decline", headers=one,
                                    json={"reason": "not mine"}),
            "opinion": await m.post(f"/v1/assignments/{target}/opinion", headers=one, json={
                "diagnosis": "confirmed", "treatment_plan": "agreed", "summary": "x",
                "report_uri": "https://records.example.org/r"}),
            "reassign": await m.post(f"/v1/assignments/{target}/reassign", headers=one,
                                     json={"reason": "taking it"}),
            "the roster": await m.get("/v1/specialists", headers=one),
            "the queue": await m.get("/v1/queue", headers=one),
        }
        allowed = {what: r.status_code for what, r in attempts.items()
                   if r.status_code not in (403, 404)}
        assert allowed == {}, f"specialist one reached specialist two's data: {allowed}"
        still = await m.get(f"/v1/assignments/{target}", headers=two)
        assert still.json()["status"] == "offered", "another specialist changed the offer"
        absences = (await m.get("/v1/specialists/sec-breast-2", headers=two)).json()["absences"]
        assert absences == []


def _key(system: System, source: str) -> dict[str, str]:
    made = system.cli("keys", "create", "--source", source)
    assert made.returncode == 0, made.stderr
    return _bearer(made.stdout.strip())


async def test_a_submitting_system_cannot_read_or_act_on_another_systems_cases(
    security_system: System,
) -> None:
    alpha, beta = _key(security_system, "sec-alpha"), _key(security_system, "sec-beta")
    async with httpx.AsyncClient(base_url=security_system.url("intake"), timeout=30) as c:
        r = await c.post("/v1/cases", headers=alpha, json=submission(
            source="sec-alpha", external_id="alpha-1", reasons=["reassurance"]))
        assert r.status_code == 201, r.text
        case_id = r.json()["case_id"]
        assert (await c.get(f"/v1/cases/{case_id}", headers=alpha)).status_code == 200
        attempts = {
            "read": await c.get(f"/v1/cases/{case_id}", headers=beta),
            "records": await c.post(f"/v1/cases/{case_id}/records", headers=beta, json={
                "records": [{"kind": "imaging", "uri": "https://records.example.org/x"}]}),
            "withdraw": await c.post(f"/v1/cases/{case_id}/withdraw", headers=beta),
            "submit as alpha": await c.post("/v1/cases", headers=beta, json=submission(
                source="sec-alpha", external_id="alpha-forged")),
        }
        allowed = {what: r.status_code for what, r in attempts.items()
                   if r.status_code not in (403, 404)}
        assert allowed == {}, f"beta reached alpha's case: {allowed}"
        for params in ({}, {"source": "sec-alpha"}, {"external_id": "alpha-1"}):
            listed = (await c.get("/v1/cases", headers=beta, params=params)).json()["items"]
            assert all(item["case_id"] != case_id for item in listed), params
        case = (await c.get(f"/v1/cases/{case_id}", headers=alpha)).json()
        assert case["status"] != "closed", "beta withdrew alpha's case"
        forged = (await c.get("/v1/cases", headers=alpha,
                              params={"external_id": "alpha-forged"})).json()["items"]
        assert forged == [], "beta submitted in alpha's name"
