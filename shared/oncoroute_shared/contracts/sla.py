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
    """`sla.warning`, `sla.escalated`, `sla.breached`, `sla.paused`, `sla.resumed`, `sla.met`,
    `sla.acceptance_expired`. `step` names the timer uniquely per case (`warning:0.5`,
    `escalation:1`, `escalation:2:repeat:1`, `breach`, `acceptance:<assignment id>`,
    `records:1`, `expedite`, `met`, `paused`, `resumed`); `audience` says who is to be told."""

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
    fraction: float | None = Field(
        None, description="Share of the turnaround elapsed at the step (breach: 1.0)")
    repeat: int | None = Field(
        None, description="Escalations: 0 for the level itself, N for its Nth repeat")
    on_time: bool | None = Field(
        None, description="`sla.met`: the opinion landed within the turnaround")
    turnaround_seconds: float | None = Field(
        None, description="`sla.met`: the actual turnaround in seconds, pauses excluded")
