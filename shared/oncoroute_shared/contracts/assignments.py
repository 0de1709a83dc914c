"""Events the matcher writes on `assignments`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Reviewer(BaseModel):
    id: str
    name: str
    email: str | None = None


class AssignmentOffered(BaseModel):
    assignment_id: str
    case_id: str
    seat: str = Field(examples=["disease_specialist", "pathologist"])
    role: str
    tumor_group: str | None = None
    tier: str
    reviewer: Reviewer
    offered_at: datetime


class AssignmentChanged(BaseModel):
    """`assignment.accepted`, `.declined`, `.expired`, `.completed`."""

    assignment_id: str
    case_id: str
    seat: str
    reviewer_id: str
    reason: str | None = None
    at: datetime


class CaseUnmatched(BaseModel):
    case_id: str
    seat: str
    role: str
    tumor_group: str | None = None
    reasons: dict[str, int] = Field(
        description="Why nobody was eligible, in counts", examples=[{"at_capacity": 3}]
    )


class SeatOutcome(BaseModel):
    seat: str
    reviewer_id: str
    diagnosis: str | None = None
    treatment_plan: str | None = None
    report_uri: str | None = None


class CaseOpinionReady(BaseModel):
    case_id: str
    seats: list[SeatOutcome]
