"""Health, readiness and Prometheus metrics routes shared by every service."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, generate_latest

DEAD_LETTERS = Counter(
    "oncoroute_dead_letters_total", "Messages a consumer dead-lettered", ["consumer"]
)


def health_router(state: dict[str, Any]) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @router.get("/readyz", summary="Broker and database are reachable")
    async def readyz() -> JSONResponse:
        runtime = state["runtime"]
        broker = state.get("broker")
        checks = {"database": False, "broker": False}
        if runtime.pool is not None:
            try:
                async with asyncio.timeout(2):
                    checks["database"] = await runtime.pool.fetchval("SELECT true")
            except Exception:
                checks["database"] = False
        if broker is not None:
            try:
                checks["broker"] = bool(await broker.ping(timeout=2))
            except Exception:
                checks["broker"] = False
        ready = all(checks.values())
        scale = runtime.settings.oncoroute_time_scale if runtime.settings else None
        return JSONResponse(
            {"ready": ready, "service": runtime.name, "checks": checks, "time_scale": scale},
            status_code=200 if ready else 503,
        )

    @router.get("/metrics", summary="Prometheus metrics")
    async def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router
