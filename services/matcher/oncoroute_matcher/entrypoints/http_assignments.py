"""Reviewers act on their own assignments; operators reassign."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
from fastapi import APIRouter, HTTPException

from oncoroute_shared.runtime import Runtime

from .. import handlers
from ..adapters import seats
from ..adapters.tokens import Principal
from ..domain.lifecycle import Action
from .auth import require_operator, require_self_or_operator
from .schemas import DeclineBody, OpinionBody, ReassignBody

STATUS = {"not_found": 404, "forbidden": 403, "conflict": 409}
VIEW = ("assignment_id", "case_id", "seat", "specialist_id", "status", "offered_at",
        "accepted_at", "completed_at", "reason", "diagnosis", "treatment_plan", "report_uri")


def assignment_view(row: asyncpg.Record) -> dict[str, Any]:
    found = dict(row)
    return {k: found[k] for k in (*VIEW, "tier", "deadline", "tumor_group") if k in found}


def router(runtime: Runtime, who: Any) -> APIRouter:
    api = APIRouter(prefix="/assignments", tags=["assignments"])

    async def run(assignment_id: str, p: Principal, action: Action,
                  **kw: Any) -> dict[str, Any]:
        if p.specialist_id is None:
            raise HTTPException(403, "only the assigned specialist can do this")
        try:
            async with runtime.db().acquire() as conn, conn.transaction():
                row = await handlers.act(conn, assignment_id, action, datetime.now(UTC),
                                         reviewer_id=p.specialist_id, **kw)
        except handlers.ActionRefused as exc:
            raise HTTPException(STATUS[exc.kind], str(exc)) from None
        return assignment_view(row)

    @api.get("/{assignment_id}", summary="One assignment (its reviewer, or operators)")
    async def get(assignment_id: str, p: Principal = who) -> dict[str, Any]:
        async with runtime.db().acquire() as conn:
            row = await seats.assignment(conn, assignment_id)
        if row is None:
            raise HTTPException(404, f"no assignment {assignment_id}")
        require_self_or_operator(p, row["specialist_id"])
        return assignment_view(row)

    @api.post("/{assignment_id}/accept", summary="Accept an offer")
    async def accept(assignment_id: str, p: Principal = who) -> dict[str, Any]:
        return await run(assignment_id, p, Action.ACCEPT)

    @api.post("/{assignment_id}/decline", summary="Decline an offer, with a reason; the seat "
              "goes to the next best reviewer")
    async def decline(assignment_id: str, body: DeclineBody,
                      p: Principal = who) -> dict[str, Any]:
        return await run(assignment_id, p, Action.DECLINE, reason=body.reason)

    @api.post("/{assignment_id}/opinion", summary="Submit the opinion; completes the seat")
    async def opinion(assignment_id: str, body: OpinionBody,
                      p: Principal = who) -> dict[str, Any]:
        return await run(assignment_id, p, Action.OPINION, opinion=handlers.Opinion(
            body.diagnosis, body.treatment_plan, body.summary, body.report_uri))

    @api.post("/{assignment_id}/reassign", summary="Operators: take the seat from its "
              "reviewer and offer it to another (or the next best)")
    async def reassign(assignment_id: str, body: ReassignBody,
                       p: Principal = who) -> dict[str, Any]:
        require_operator(p)
        try:
            async with runtime.db().acquire() as conn, conn.transaction():
                return await handlers.reassign(conn, assignment_id, runtime.state["config"],
                                               datetime.now(UTC), reason=body.reason,
                                               to=body.specialist_id)
        except handlers.ActionRefused as exc:
            raise HTTPException(STATUS[exc.kind], str(exc)) from None

    return api
