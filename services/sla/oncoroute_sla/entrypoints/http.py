"""Sla's HTTP API: open clocks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from oncoroute_shared.runtime import Runtime


def router(runtime: Runtime) -> APIRouter:
    api = APIRouter(prefix="/v1/sla", tags=["sla"])

    @api.get("/cases", summary="Open cases and their clocks, soonest deadline first")
    async def open_cases() -> list[dict[str, Any]]:
        async with runtime.db().acquire() as conn:
            rows = await conn.fetch(
                "SELECT case_id, tier, tumor_group, state, started_at, deadline FROM clocks"
                " WHERE state IN ('running', 'paused') ORDER BY deadline NULLS LAST LIMIT 500")
        return [dict(r) for r in rows]

    return api
