"""The matcher's HTTP API on the real PostgreSQL: operator and per-specialist tokens (stored
only as hashes), the roster, absences, reviewers acting on their own assignments, the queue
and reassignment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from oncoroute_matcher.adapters import tokens
from oncoroute_matcher.entrypoints import http
from oncoroute_shared import signed_links
from oncoroute_shared.runtime import Runtime

from .test_matcher_lifecycle import CFG, db, events, open_case, opened, sweep

pytestmark = pytest.mark.integration
SECRET = "link-secret-for-tests"
__all__ = ["db"]  # the fixture, shared with the lifecycle tests

PERSON: dict[str, Any] = {"name": "Dr A", "roles": ["haematologist"],
                          "tumor_groups": ["haematologic"], "max_active": 2,
                          "regions": ["GB"], "languages": ["en"], "timezone": "Europe/London"}


@pytest.fixture
async def api(db: asyncpg.Pool) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    runtime = Runtime("matcher", pool=db, state={"config": CFG, "link_secrets": [SECRET]})
    app = FastAPI()
    app.include_router(http.router(runtime))
    now = datetime.now(UTC)
    async with db.acquire() as conn:
        operator = await tokens.issue(conn, tokens.OPERATOR, None, "test", now)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://matcher") as client:
        yield client, {"Authorization": f"Bearer {operator}"}


async def _token(db: asyncpg.Pool, specialist_id: str) -> dict[str, str]:
    async with db.acquire() as conn:
        token = await tokens.issue(conn, tokens.SPECIALIST, specialist_id, None,
                                   datetime.now(UTC))
    return {"Authorization": f"Bearer {token}"}


async def test_roster_endpoints_need_an_operator(api: Any, db: asyncpg.Pool) -> None:
    client, op = api
    assert (await client.get("/v1/specialists")).status_code == 401
    bad = {"Authorization": "Bearer orop_guess"}
    assert (await client.get("/v1/specialists", headers=bad)).status_code == 401
    r = await client.put("/v1/specialists/sp-1", json=PERSON, headers=op)
    assert r.status_code == 201, r.text
    assert (await client.put("/v1/specialists/sp-1", json={**PERSON, "max_active": 3},
                             headers=op)).status_code == 200
    mine = await _token(db, "sp-1")
    assert (await client.get("/v1/specialists", headers=mine)).status_code == 403
    assert (await client.get("/v1/specialists/sp-1", headers=mine)).json()["max_active"] == 3
    listed = (await client.get("/v1/specialists", headers=op)).json()
    assert [(s["id"], s["active_count"], s["max_active"]) for s in listed] == [("sp-1", 0, 3)]
    # the token itself is never stored
    stored = await db.fetch("SELECT token_hash FROM api_tokens")
    assert all(mine["Authorization"].split()[1] not in r["token_hash"] for r in stored)


async def test_bad_specialist_is_rejected_with_the_field(api: Any) -> None:
    client, op = api
    r = await client.put("/v1/specialists/sp-2", json={**PERSON, "timezone": "Mars/Base",
                                                       "working_hours": "9 to 5"}, headers=op)
    assert r.status_code == 422
    fields = {tuple(d["loc"]) for d in r.json()["detail"]}
    assert fields == {("timezone",), ("working_hours",)}


async def test_reviewer_acts_on_own_assignments_only(api: Any, db: asyncpg.Pool) -> None:
    client, op = api
    for sid in ("sp-a", "sp-b"):
        await client.put(f"/v1/specialists/{sid}", json=PERSON, headers=op)
    case = opened()
    await open_case(db, case)
    await sweep(db)
    a_token, b_token = await _token(db, "sp-a"), await _token(db, "sp-b")
    [mine] = (await client.get("/v1/specialists/sp-a/assignments", headers=a_token)).json()
    aid = mine["assignment_id"]
    assert (await client.get("/v1/specialists/sp-a/assignments",
                             headers=b_token)).status_code == 403
    assert (await client.post(f"/v1/assignments/{aid}/accept",
                              headers=b_token)).status_code == 403
    assert (await client.post(f"/v1/assignments/{aid}/accept", headers=op)).status_code == 403
    r = await client.post(f"/v1/assignments/{aid}/accept", headers=a_token)
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    r = await client.post(f"/v1/assignments/{aid}/decline", json={"reason": "x"},
                          headers=a_token)
    assert r.status_code == 409 and "cannot decline" in r.json()["detail"]
    r = await client.post(f"/v1/assignments/{aid}/opinion", headers=a_token, json={
        "diagnosis": "confirmed", "treatment_plan": "alternative", "summary": "s",
        "report_uri": "https://reports/9"})
    assert r.status_code == 200 and r.json()["status"] == "completed"
    [ready] = await events(db, "case.opinion_ready")
    assert ready.data["seats"][0]["treatment_plan"] == "alternative"
    r = await client.post(f"/v1/assignments/{aid}/opinion", headers=a_token, json={
        "diagnosis": "maybe", "treatment_plan": "agreed", "summary": "s", "report_uri": "u"})
    assert r.status_code == 422


async def test_absence_queue_and_reassign(api: Any, db: asyncpg.Pool) -> None:
    client, op = api
    await client.put("/v1/specialists/sp-a", json=PERSON, headers=op)
    now = datetime.now(UTC)
    r = await client.post("/v1/specialists/sp-a/absences", headers=await _token(db, "sp-a"),
                          json={"starts_at": (now - timedelta(hours=1)).isoformat(),
                                "ends_at": (now + timedelta(days=5)).isoformat()})
    assert r.status_code == 201, r.text
    assert (await client.post("/v1/specialists/sp-a/absences", headers=op, json={
        "starts_at": now.isoformat(), "ends_at": now.isoformat()})).status_code == 422
    case = opened()
    await open_case(db, case)
    await sweep(db, datetime.now(UTC))
    queue = (await client.get("/v1/queue", headers=op)).json()["items"]
    assert [(q["case_id"], q["reasons"], q["summary"]) for q in queue] == [
        (case.case_id, {"on_leave": 1}, "1 on leave")]
    await client.put("/v1/specialists/sp-b", json=PERSON, headers=op)
    await client.put("/v1/specialists/sp-c", json=PERSON, headers=op)
    await sweep(db, datetime.now(UTC))
    seats = (await client.get(f"/v1/cases/{case.case_id}/seats", headers=op)).json()["seats"]
    assert seats[0]["assignment"]["specialist_id"] == "sp-b"
    aid = seats[0]["assignment"]["assignment_id"]
    r = await client.post(f"/v1/assignments/{aid}/reassign", headers=op,
                          json={"reason": "operator choice", "specialist_id": "sp-a"})
    assert r.status_code == 409 and "on_leave" in r.json()["detail"]
    r = await client.post(f"/v1/assignments/{aid}/reassign", headers=op,
                          json={"reason": "operator choice"})
    assert r.status_code == 200 and r.json()["reviewer_id"] == "sp-c"
    assert (await client.delete("/v1/specialists/sp-c", headers=op)).json()["active"] is False
    assert (await client.delete("/v1/specialists/nobody", headers=op)).status_code == 404


async def test_signed_links_from_messages(api: Any, db: asyncpg.Pool) -> None:
    client, op = api
    for sid in ("sp-a", "sp-b"):
        await client.put(f"/v1/specialists/{sid}", json=PERSON, headers=op)
    case = opened()
    await open_case(db, case)
    await sweep(db)
    row = await db.fetchrow("SELECT assignment_id, specialist_id FROM assignments")
    aid, reviewer = row["assignment_id"], row["specialist_id"]
    soon = datetime.now(UTC) + timedelta(hours=1)

    def token(action: str = "decline", secret: str = SECRET, expires: datetime = soon,
              assignment: str = aid) -> str:
        return signed_links.sign(secret, signed_links.LinkClaims(
            assignment, reviewer, action, expires))  # type: ignore[arg-type]

    page = await client.get(f"/v1/assignments/{aid}/decline", params={"token": token()})
    assert page.status_code == 200 and 'name="reason"' in page.text
    assert f'action="decline/by-link?token={token()}"' in page.text  # relative to the link
    assert await db.fetchval("SELECT status FROM assignments") == "offered"  # opening: no change
    for bad, why in [(token(secret="another-secret-value"), "bad signature"),
                     (token(expires=datetime.now(UTC) - timedelta(seconds=1)), "expired"),
                     (token("accept"), "another action"), (token(assignment="x"), "another")]:
        r = await client.post(f"/v1/assignments/{aid}/decline/by-link", params={"token": bad},
                              content="reason=no", headers={
                                  "content-type": "application/x-www-form-urlencoded"})
        assert r.status_code == 403 and why in r.text
    r = await client.post(f"/v1/assignments/{aid}/decline/by-link", params={"token": token()},
                          content="reason=on+leave", headers={
                              "content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200 and "declined" in r.text
    got = await db.fetchrow("SELECT status, reason FROM assignments WHERE assignment_id = $1",
                            aid)
    assert (got["status"], got["reason"]) == ("declined", "on leave")
    r = await client.post(f"/v1/assignments/{aid}/decline/by-link", params={"token": token()})
    assert r.status_code == 409
