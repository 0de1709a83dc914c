"""Intake's HTTP API: submit and read cases."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Response

from oncoroute_shared.contracts.submissions import Submission
from oncoroute_shared.runtime import Runtime

from .. import handlers
from ..adapters import cases


def router(runtime: Runtime) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["cases"])

    @api.post("/cases", status_code=201, summary="Submit a second-opinion request")
    async def submit(submission: Submission, response: Response) -> dict[str, Any]:
        async with runtime.db().acquire() as conn, conn.transaction():
            opened = await handlers.open_case(conn, submission, runtime.state["policy"])
        if not opened.created:
            response.status_code = 200
        return {"case_id": opened.case_id, "created": opened.created}

    @api.get("/cases", summary="Cases, newest first, filtered, with cursor pagination")
    async def list_cases(
        status: str | None = None, tier: str | None = None, tumor_group: str | None = None,
        source: str | None = None, external_id: str | None = None,
        cursor: str | None = None, limit: int = Query(50, ge=1, le=500),
    ) -> dict[str, Any]:
        filters = {"status": status, "tier": tier, "tumor_group": tumor_group,
                   "source": source, "external_id": external_id}
        async with runtime.db().acquire() as conn:
            rows, next_cursor = await cases.list_cases(conn, filters, cursor, limit)
        return {"items": rows, "next_cursor": next_cursor}

    @api.get("/cases/{case_id}", summary="A case, its status and its timeline")
    async def read(case_id: str) -> dict[str, Any]:
        async with runtime.db().acquire() as conn:
            case = await cases.get_case(conn, case_id)
            if case is None:
                raise HTTPException(404, "no such case")
            events = await cases.timeline(conn, case_id)
        return {
            "case_id": case["case_id"],
            "source": case["source"],
            "external_id": case["external_id"],
            "status": case["status"],
            "classification": {k: case[k] for k in
                               ("tier", "tumor_group", "fast_progressing", "rule",
                                "needs_triage")},
            "opened_at": case["opened_at"],
            "timeline": events,
        }

    return api
