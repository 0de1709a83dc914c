"""Matcher's HTTP API: the roster and its load."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from oncoroute_shared.runtime import Runtime

from ..adapters import roster


def router(runtime: Runtime) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["specialists"])

    @api.get("/specialists", summary="The roster with current load")
    async def list_specialists() -> list[dict[str, Any]]:
        async with runtime.db().acquire() as conn:
            return [s.model_dump(include={"id", "name", "roles", "tumor_groups", "max_active",
                                          "active_count", "active"})
                    for s in await roster.all_specialists(conn)]

    return api
