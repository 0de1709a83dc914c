"""Refuse a request whose path or query holds a NUL character (`%00`): PostgreSQL text cannot
store one, so no route of any service can serve it; without this guard the database error
would surface as a 500. The answer is a 422 in FastAPI's own validation-error shape (what
every route's OpenAPI document declares), before any route or dependency runs."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send


class RefuseNul:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            where = None
            if "\x00" in scope.get("path", "") or b"%00" in scope.get("raw_path", b""):
                where = "path"
            elif b"%00" in scope.get("query_string", b"") or b"\x00" in scope.get(
                    "query_string", b""):
                where = "query"
            if where is not None:
                response = JSONResponse({"detail": [{
                    "loc": [where], "msg": "NUL characters are not allowed",
                    "type": "value_error"}]}, status_code=422)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
