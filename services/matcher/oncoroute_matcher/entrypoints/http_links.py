"""Accept or decline from the signed link in a specialist's message (notify signs it with
`oncoroute_shared.signed_links`; the matcher verifies it). Opening the link only shows a
confirmation page, so link scanners that fetch it change nothing; the button POSTs."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from oncoroute_shared import signed_links
from oncoroute_shared.runtime import Runtime

from .. import handlers
from ..domain.lifecycle import Action

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width"><title>OncoRoute</title></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 3em auto">{body}</body></html>"""
STATUS = {"not_found": 404, "forbidden": 403, "conflict": 409}
# The link's signature is its credential: without one the answer is 403, like a bad one.
LINK_TOKEN = Query("", description="The signed token from the message")


def _page(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(PAGE.format(body=body), status_code=status)


def router(runtime: Runtime) -> APIRouter:
    api = APIRouter(prefix="/assignments", tags=["links"])

    def verify(assignment_id: str, action: Literal["accept", "decline"],
               token: str) -> signed_links.LinkClaims | HTMLResponse:
        try:
            return signed_links.verify(runtime.state["link_secrets"], token,
                                       now=datetime.now(UTC), action=action,
                                       assignment_id=assignment_id)
        except signed_links.InvalidLink as exc:
            return _page(f"<p>This link cannot be used: {escape(str(exc))}.</p>", 403)

    @api.get("/{assignment_id}/{action}", response_class=HTMLResponse,
             summary="The confirmation page behind a signed accept/decline link")
    async def confirm(assignment_id: str, action: Literal["accept", "decline"],
                      token: str = LINK_TOKEN) -> HTMLResponse:
        claims = verify(assignment_id, action, token)
        if isinstance(claims, HTMLResponse):
            return claims
        target = escape(f"{action}/by-link?token={token}", quote=True)  # relative to the link
        reason = ('<p><label>Why? <input name="reason" required maxlength="1000"></label></p>'
                  if action == "decline" else "")
        return _page(f'<form method="post" action="{target}"><p>{action.title()} this '
                     f'review request?</p>{reason}<button>{action.title()}</button></form>')

    @api.post("/{assignment_id}/{action}/by-link", response_class=HTMLResponse,
              summary="Accept or decline with a signed link (form post)")
    async def by_link(assignment_id: str, action: Literal["accept", "decline"],
                      request: Request, token: str = LINK_TOKEN) -> HTMLResponse:
        claims = verify(assignment_id, action, token)
        if isinstance(claims, HTMLResponse):
            return claims
        form = parse_qs((await request.body()).decode(errors="replace"))
        reason = (form.get("reason") or ["declined from the link"])[0].strip()[:1000]
        try:
            async with runtime.db().acquire() as conn, conn.transaction():
                await handlers.act(conn, assignment_id, Action(action), datetime.now(UTC),
                                   reviewer_id=claims.reviewer_id,
                                   reason=(reason or "declined from the link")
                                   if action == "decline" else None)
        except handlers.ActionRefused as exc:
            return _page(f"<p>Not done: {escape(str(exc))}.</p>", STATUS[exc.kind])
        done = "accepted. Thank you" if action == "accept" else "declined"
        return _page(f"<p>Review request {done}.</p>")

    return api
