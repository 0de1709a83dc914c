"""Signing in to the board: the operator tokens of sla's API, kept in an HttpOnly,
SameSite=Strict cookie; without a valid one the page and its data answer 401.

Only the routes' access is exercised here (no database): a request that gets past the check
would need one, and the e2e browser test covers that."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from oncoroute_shared.operator_access import new_token
from oncoroute_shared.runtime import Runtime
from oncoroute_sla.entrypoints.board import COOKIE, router
from oncoroute_sla.entrypoints.board_feed import BoardChanges

pytestmark = pytest.mark.unit
TOKEN, DIGEST = new_token()


@pytest.fixture
def client() -> TestClient:
    runtime = Runtime("sla", settings=SimpleNamespace(
        operator_token_digests=lambda: frozenset({DIGEST})))
    app = FastAPI()
    app.include_router(router(runtime, BoardChanges("sla")))
    return TestClient(app, base_url="http://board.test")


def test_the_board_without_a_token_is_the_sign_in_form_with_401(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 401
    assert '<form method="post" action="/board/session">' in page.text
    assert 'name="token"' in page.text and page.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", ["/board/snapshot", "/board/stream"])
@pytest.mark.parametrize("credentials", [
    {}, {"cookies": {COOKIE: "orot_forged"}}, {"headers": {"Authorization": "Bearer orot_x"}},
    {"headers": {"Authorization": "Basic b3BzOm9wcw=="}}, {"cookies": {COOKIE: "x" * 5000}},
])
def test_data_without_a_valid_token_answers_401(client: TestClient, path: str,
                                                credentials: dict[str, dict[str, str]]) -> None:
    client.cookies.update(credentials.get("cookies", {}))
    r = client.get(path, headers=credentials.get("headers"))
    assert r.status_code == 401, r.text


def test_a_wrong_token_does_not_sign_in(client: TestClient) -> None:
    r = client.post("/board/session", data={"token": "orot_guess"}, follow_redirects=False)
    assert r.status_code == 401
    assert "not valid" in r.text and COOKIE not in r.headers.get("set-cookie", "")


def test_signing_in_sets_an_httponly_strict_cookie_that_opens_the_board(
    client: TestClient,
) -> None:
    r = client.post("/board/session", data={"token": f"  {TOKEN}\n"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={TOKEN};")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=43200" in cookie
    assert "Secure" not in cookie  # plain HTTP here; set over HTTPS
    client.cookies.set(COOKIE, TOKEN)
    board = client.get("/")
    assert board.status_code == 200 and 'id="case-table"' in board.text
    out = client.post("/board/signout", follow_redirects=False)
    assert out.status_code == 303 and f'{COOKIE}=""' in out.headers["set-cookie"]


def test_over_https_the_cookie_is_secure() -> None:
    runtime = Runtime("sla", settings=SimpleNamespace(
        operator_token_digests=lambda: frozenset({DIGEST})))
    app = FastAPI()
    app.include_router(router(runtime, BoardChanges("sla")))
    r = TestClient(app, base_url="https://board.test").post(
        "/board/session", data={"token": TOKEN}, follow_redirects=False)
    assert "Secure" in r.headers["set-cookie"]


def test_a_bearer_token_opens_the_board_too(client: TestClient) -> None:
    assert client.get("/", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_assets_are_served_and_nothing_else(client: TestClient) -> None:
    css = client.get("/board/assets/board.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert client.get("/board/assets/board.js").headers["content-type"].startswith(
        "text/javascript")
    for name in ("index.html", "..%2Fboard.py", "signin.html", "nothing.js"):
        assert client.get(f"/board/assets/{name}").status_code == 404
