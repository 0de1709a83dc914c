"""The operator board at `/`: a sign-in page, the board's page and assets, its snapshot and
its live stream (server-sent events).

Sign-in takes an operator token (the same tokens as sla's and notify's APIs, see
`oncoroute_shared.operator_access`) and keeps it in an HttpOnly, SameSite=Strict cookie, so
the browser's EventSource (which cannot send headers) carries it; API clients may send
`Authorization: Bearer` instead. Without either, every data route answers 401.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from importlib.resources import files
from typing import Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials

from oncoroute_shared.operator_access import CHALLENGE, bearer, token_hash
from oncoroute_shared.runtime import Runtime

from ..adapters.board import BoardFilters
from ..domain.policy import SlaPolicy
from .board_feed import BoardChanges, encode, snapshot, stream

COOKIE = "oncoroute_operator"
SESSION_S = 12 * 3600
_MAX_TOKEN = 200
_MAX_FORM = 2048
_CACHED_FILTERS = 64
ASSETS = {"board.css": "text/css", "board.js": "text/javascript"}
StandingName = Literal["on_track", "at_risk", "breached", "paused"]


def _page(name: str) -> str:
    return (files("oncoroute_sla") / "board" / name).read_text(encoding="utf-8")


def known_token(runtime: Runtime, token: str | None) -> bool:
    if not token or len(token) > _MAX_TOKEN or not token.isprintable():
        return False
    digest = token_hash(token)
    return any(hmac.compare_digest(digest, h)
               for h in runtime.settings.operator_token_digests())


def _presented(request: Request, creds: HTTPAuthorizationCredentials | None) -> str | None:
    return creds.credentials if creds is not None else request.cookies.get(COOKIE)


def signin_page(message: str = "", status: int = 401) -> HTMLResponse:
    note = f'<p class="error" role="alert">{message}</p>' if message else ""
    return HTMLResponse(_page("signin.html").replace("<!--message-->", note), status,
                        headers=CHALLENGE if status == 401 else None)


def router(runtime: Runtime, changes: BoardChanges) -> APIRouter:
    api = APIRouter(tags=["board"])

    def policy() -> SlaPolicy:
        return runtime.state["policy"]  # type: ignore[no-any-return]

    async def operator(request: Request,
                       creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        token = _presented(request, creds)
        if token is None:
            raise HTTPException(401, "sign in at / or send Authorization: Bearer <operator "
                                     "token>", CHALLENGE)
        if not known_token(runtime, token):
            raise HTTPException(401, "unknown operator token", CHALLENGE)

    def filters(tier: str | None = Query(None, max_length=100),
                tumor_group: str | None = Query(None, max_length=100),
                state: StandingName | None = None,
                source: str | None = Query(None, max_length=200),
                limit: int = Query(200, ge=1, le=1000)) -> BoardFilters:
        return BoardFilters(tier or None, tumor_group or None, state, source or None, limit)

    built: dict[BoardFilters, tuple[int, str]] = {}  # streams with the same filters share

    async def build(f: BoardFilters) -> str:
        version = changes.version
        hit = built.get(f)
        if hit is not None and hit[0] == version:
            return hit[1]
        async with runtime.db().acquire() as conn:
            body = encode(await snapshot(conn, policy(), f))
        if len(built) >= _CACHED_FILTERS:
            built.clear()
        built[f] = (version, body)
        return body

    @api.get("/", include_in_schema=False)
    async def home(request: Request,
                   creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Response:
        if not known_token(runtime, _presented(request, creds)):
            return signin_page()
        return HTMLResponse(_page("index.html"), headers={"Cache-Control": "no-store"})

    @api.get("/board/assets/{name}", include_in_schema=False)
    async def asset(name: str) -> Response:
        """The page's own CSS and script (no data in them; the sign-in page needs them)."""
        if name not in ASSETS:
            raise HTTPException(404, "no such asset")
        return Response(_page(name), media_type=ASSETS[name],
                        headers={"Cache-Control": "no-cache"})

    @api.post("/board/session", include_in_schema=False)
    async def sign_in(request: Request) -> Response:
        """The sign-in form (application/x-www-form-urlencoded, one field: `token`)."""
        body = await request.body()
        fields = parse_qs(body[:_MAX_FORM].decode("utf-8", errors="replace"))
        token = (fields.get("token") or [""])[0].strip()
        if not known_token(runtime, token):
            return signin_page("That operator token is not valid for this deployment.")
        done = RedirectResponse("/", status_code=303)
        done.set_cookie(COOKIE, token, max_age=SESSION_S, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
        return done

    @api.post("/board/signout", include_in_schema=False)
    async def sign_out() -> Response:
        done = RedirectResponse("/", status_code=303)
        done.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return done

    @api.get("/board/snapshot", dependencies=[Depends(operator)],
             summary="Everything the board shows: open cases (least time first), unmatched "
                     "seats, reviewer workload, the escalation feed, the tiles")
    async def board_snapshot(f: BoardFilters = Depends(filters)) -> Response:
        body = await build(f)
        stamped = body[:-1] + f',"server_time":"{datetime.now(UTC).isoformat()}"}}'
        return Response(stamped, media_type="application/json",
                        headers={"Cache-Control": "no-store"})

    @api.get("/board/stream", dependencies=[Depends(operator)],
             summary="The snapshot as server-sent events (`snapshot`), again on each change",
             response_class=StreamingResponse)
    async def board_stream(request: Request,
                           f: BoardFilters = Depends(filters)) -> StreamingResponse:
        async def built() -> str:
            return await build(f)

        stopping = getattr(request.app.state, "stopping", lambda: False)
        return StreamingResponse(
            stream(changes, built, lambda: datetime.now(UTC), stopping),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    return api
