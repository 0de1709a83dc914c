"""Notify's HTTP API: delivery status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from oncoroute_shared.runtime import Runtime


def router(runtime: Runtime) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["notifications"])

    @api.get("/notifications", summary="Deliveries of a case with their status")
    async def list_deliveries(case_id: str) -> list[dict[str, Any]]:
        async with runtime.db().acquire() as conn:
            rows = await conn.fetch(
                "SELECT delivery_id, source_event_id, audience, channel, template, status,"
                " attempts, last_error, created_at, sent_at FROM deliveries"
                " WHERE case_id = $1 ORDER BY created_at", case_id)
        return [dict(r) for r in rows]

    return api
