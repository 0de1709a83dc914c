"""Events the matcher writes on `assignments`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Reviewer(BaseModel):
    id: str
    name: str
    email: str | None = None
    phone: str | None = None
    max_active: int | None = Field(
        None, description="The reviewer's capacity (live assignments at most), for operators' "
                          "workload views; absent from older producers")


class AssignmentOffered(BaseModel):
    assignment_id: str
    case_id: str
    seat: str = Field(examples=["disease_specialist", "pathologist"])
    role: str
    tumor_group: str | None = None
    tier: str
    reviewer: Reviewer
    offered_at: datetime
    roles: list[str] = Field(
        default_factory=list, description="Roles that may take the seat (empty: any)")
    fast_progressing: bool = False
    deadline: datetime | None = Field(None, description="When the case's opinion is due")
    finishes_in_time: bool | None = Field(
        None, description="The reviewer's queue lets them finish before the deadline")


class AssignmentChanged(BaseModel):
    """`assignment.accepted`, `.declined`, `.expired`, `.completed`, `.released` (the case
    was withdrawn, or an operator reassigned the seat)."""

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
    summary: str | None = Field(
        None, description="The reasons in words", examples=["3 at capacity, 1 on leave"])
    tier: str | None = None
    waiting_since: datetime | None = None


class SeatOutcome(BaseModel):
    seat: str
    reviewer_id: str
    diagnosis: str | None = None
    treatment_plan: str | None = None
    report_uri: str | None = None
    summary: str | None = None
    completed_at: datetime | None = None


class CaseOpinionReady(BaseModel):
    case_id: str
    seats: list[SeatOutcome]
