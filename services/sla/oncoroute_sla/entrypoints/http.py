"""Sla's read API (operators, `Authorization: Bearer <operator token>`): open clocks, one
clock's history, the summary (the dashboard builds on it)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query

from oncoroute_shared.operator_access import operator_only
from oncoroute_shared.policy import parse_duration
from oncoroute_shared.runtime import Runtime

from ..adapters import readmodel
from ..domain.policy import SlaPolicy

StandingName = Literal["on_track", "at_risk", "breached", "paused"]


def router(runtime: Runtime) -> APIRouter:
    api = APIRouter(prefix="/v1/sla", tags=["sla"],
                    dependencies=[Depends(operator_only(runtime))])

    def policy() -> SlaPolicy:
        return runtime.state["policy"]  # type: ignore[no-any-return]

    @api.get("/cases", summary="Open cases and their clocks, least time remaining first")
    async def open_cases(
        tier: str | None = None,
        tumor_group: str | None = None,
        state: StandingName | None = Query(None, description="on_track, at_risk, breached, "
                                                             "paused"),
        status: Literal["awaiting_records", "ready"] | None = Query(
            None, description="The case's records status"),
        sort: Literal["time_remaining", "-time_remaining"] = "time_remaining",
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0),
    ) -> dict[str, Any]:
        filters = readmodel.Filters(tier, tumor_group, state, status,
                                    soonest_first=sort == "time_remaining",
                                    limit=limit, offset=offset)
        async with runtime.db().acquire() as conn:
            total, items = await readmodel.open_cases(conn, policy().at_risk_at, filters)
        return {"total": total, "items": items}

    @api.get("/cases/{case_id}", summary="One case's clock, its armed timers and its history")
    async def one_case(case_id: str) -> dict[str, Any]:
        async with runtime.db().acquire() as conn:
            case = await readmodel.one_case(conn, policy().at_risk_at, case_id)
        if case is None:
            raise HTTPException(404, f"no clock for case {case_id[:200]!r}")
        return case

    @api.get("/summary", summary="Open counts by tier and state; outcomes over a window")
    async def summary(window: str = Query("7d", description="e.g. 24h, 7d, 90m")) -> dict[str, Any]:
        try:
            span = parse_duration(window)
        except ValueError as exc:
            raise HTTPException(422, [{"loc": ["query", "window"], "msg": str(exc),
                                       "type": "value_error"}]) from None
        async with runtime.db().acquire() as conn:
            return await readmodel.summary(conn, policy().at_risk_at, span,
                                           sorted(policy().tiers))

    return api
