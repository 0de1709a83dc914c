"""Events the sla service writes on `sla-events`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class SlaStarted(BaseModel):
    case_id: str
    tier: str
    started_at: datetime
    deadline: datetime
    turnaround_seconds: float = Field(description="The tier's turnaround, after time scaling")


class SlaStep(BaseModel):
    """`sla.warning`, `sla.escalated`, `sla.breached`, `sla.paused`, `sla.resumed`, `sla.met`."""

    case_id: str
    tier: str
    step: str
    level: str | None = None
    assignment_id: str | None = Field(None, description="For acceptance timers: the offer")
    seat: str | None = None
    reviewer_id: str | None = None
    audience: list[str] = Field(default_factory=list)
    deadline: datetime | None = None
    due_at: datetime | None = None
    fired_at: datetime
    lateness_seconds: float = 0.0
