"""Notify's HTTP API (operators, `Authorization: Bearer <operator token>`): every delivery of a
case with its status, attempts and last error."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from oncoroute_shared.operator_access import operator_only
from oncoroute_shared.runtime import Runtime

from ..adapters import deliveries


class DeliveryView(BaseModel):
    delivery_id: str
    source_event_id: str
    source_event_type: str | None
    audience: str
    channel: str
    recipient: str
    template: str
    urgency: str
    locale: str
    status: str
    attempts: int
    last_error: str | None
    due_at: datetime
    created_at: datetime
    sent_at: datetime | None


def masked(address: str) -> str:
    """Enough to tell recipients apart, not enough to read an address off the API."""
    if "://" in address:
        return address.split("://", 1)[1].split("/", 1)[0]
    if "@" in address:
        user, _, domain = address.partition("@")
        return f"{user[:1]}***@{domain}"
    return f"***{address[-3:]}"


def router(runtime: Runtime) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["notifications"],
                    dependencies=[Depends(operator_only(runtime))])

    @api.get("/notifications", summary="Deliveries of a case: status (pending, sent, deferred,"
                                        " retrying, failed), attempts and last error")
    async def list_deliveries(case_id: str) -> list[DeliveryView]:
        async with runtime.db().acquire() as conn:
            rows = await deliveries.for_case(conn, case_id)
        return [DeliveryView(**{**r, "recipient": masked(r["recipient"])}) for r in rows]

    return api

