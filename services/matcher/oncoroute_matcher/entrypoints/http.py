"""Matcher's HTTP API for operators: the roster, absences, the waiting queue, case seats."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import ValidationError

from oncoroute_shared.runtime import Runtime

from ..adapters import roster, seats
from ..adapters.tokens import Principal
from ..domain.reasons import describe
from ..domain.roster import Specialist
from ..handlers import roster as roster_changes
from .auth import authenticator, require_operator, require_self_or_operator
from .http_assignments import assignment_view
from .http_assignments import router as assignments_router
from .http_links import router as links_router
from .schemas import AbsenceBody, SpecialistBody

LOAD_FIELDS = {"id", "name", "roles", "tumor_groups", "max_active", "active_count", "active",
               "on_call"}


def router(runtime: Runtime) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["specialists"])
    who = Depends(authenticator(runtime))

    @api.get("/specialists", summary="The roster with current load (operators)")
    async def list_specialists(p: Principal = who) -> list[dict[str, Any]]:
        require_operator(p)
        async with runtime.db().acquire() as conn:
            return [s.model_dump(include=LOAD_FIELDS) for s in await roster.all_specialists(conn)]

    @api.get("/specialists/{specialist_id}", summary="One specialist (operators, or themself)")
    async def get_specialist(specialist_id: str, p: Principal = who) -> dict[str, Any]:
        require_self_or_operator(p, specialist_id)
        async with runtime.db().acquire() as conn:
            s = await roster.get(conn, specialist_id)
            if s is None:
                raise HTTPException(404, f"no specialist {specialist_id}")
            absences = await roster.absences_of(conn, specialist_id, datetime.now(UTC))
        return {**s.model_dump(mode="json"), "absences": [dict(a) for a in absences]}

    @api.put("/specialists/{specialist_id}", summary="Create or replace a specialist "
             "(operators); waiting seats are matched again")
    async def put_specialist(specialist_id: str, body: SpecialistBody, response: Response,
                             p: Principal = who) -> dict[str, Any]:
        require_operator(p)
        try:
            s = Specialist.model_validate({**body.model_dump(), "id": specialist_id})
        except ValidationError as exc:
            # the shape of the 422 the OpenAPI document declares (loc, msg, type)
            raise HTTPException(422, [{"loc": e["loc"], "msg": e["msg"], "type": e["type"]}
                                      for e in exc.errors()]) from None
        async with runtime.db().acquire() as conn, conn.transaction():
            existed = await roster.get(conn, specialist_id) is not None
            await roster_changes.put_specialists(conn, [s], datetime.now(UTC))
            saved = await roster.get(conn, specialist_id)
        response.status_code = 200 if existed else 201
        assert saved is not None
        return saved.model_dump(mode="json")

    @api.delete("/specialists/{specialist_id}", summary="Take a specialist off the roster "
                "(operators): no new offers; live assignments stay until reassigned")
    async def delete_specialist(specialist_id: str, p: Principal = who) -> dict[str, Any]:
        require_operator(p)
        async with runtime.db().acquire() as conn, conn.transaction():
            if not await roster_changes.remove_specialist(conn, specialist_id,
                                                          datetime.now(UTC)):
                raise HTTPException(404, f"no specialist {specialist_id}")
        return {"id": specialist_id, "active": False}

    @api.post("/specialists/{specialist_id}/absences", status_code=201,
              summary="Time off: no offers that overlap it (operators, or themself)")
    async def add_absence(specialist_id: str, body: AbsenceBody,
                          p: Principal = who) -> dict[str, Any]:
        require_self_or_operator(p, specialist_id)
        async with runtime.db().acquire() as conn, conn.transaction():
            if await roster.get(conn, specialist_id) is None:
                raise HTTPException(404, f"no specialist {specialist_id}")
            absence_id = await roster_changes.add_absence(
                conn, specialist_id, body.starts_at, body.ends_at, body.reason,
                datetime.now(UTC))
        return {"absence_id": absence_id, "specialist_id": specialist_id,
                **body.model_dump(mode="json")}

    @api.get("/specialists/{specialist_id}/assignments",
             summary="A specialist's assignments (themself, or operators)")
    async def list_assignments(specialist_id: str, status: str | None = None,
                               p: Principal = who) -> list[dict[str, Any]]:
        require_self_or_operator(p, specialist_id)
        statuses = status.split(",") if status else ["offered", "accepted", "completed",
                                                      "declined", "expired", "released"]
        async with runtime.db().acquire() as conn:
            rows = await seats.assignments_of(conn, specialist_id, statuses)
        return [assignment_view(r) for r in rows]

    @api.get("/queue", summary="Waiting seats, in the order they are served, and why they "
             "wait (operators)")
    async def queue(limit: int = 200, p: Principal = who) -> dict[str, Any]:
        require_operator(p)
        async with runtime.db().acquire() as conn:
            rows = await seats.queue(conn, min(max(limit, 1), 1000))
        return {"items": [{**{k: r[k] for k in ("case_id", "seat", "role", "tier",
                                                "tumor_group", "fast_progressing", "deadline",
                                                "created_at", "unmatched_since", "routable")},
                           "reasons": r["unmatched_reasons"] or {},
                           "summary": describe(r["unmatched_reasons"] or {})
                           or ("awaiting records" if not r["routable"] else "being matched")}
                          for r in rows]}

    @api.get("/cases/{case_id}/seats", summary="A case's panel and who holds each seat "
             "(operators)")
    async def case_seats(case_id: str, p: Principal = who) -> dict[str, Any]:
        require_operator(p)
        async with runtime.db().acquire() as conn:
            panel = await seats.seats_of(conn, case_id)
            if not panel:
                raise HTTPException(404, f"no case {case_id}")
            live = {a["seat"]: a for a in await seats.live_assignments(conn, case_id)}
            done = {a["seat"]: a for a in await seats.completed(conn, case_id)}
        return {"case_id": case_id, "seats": [
            {"seat": s["seat"], "role": s["role"], "status": s["status"],
             "reasons": s["unmatched_reasons"] or {},
             "assignment": (assignment_view(live.get(s["seat"]) or done[s["seat"]])
                            if s["seat"] in live or s["seat"] in done else None)}
            for s in panel]}

    api.include_router(assignments_router(runtime, who))
    api.include_router(links_router(runtime))
    return api
