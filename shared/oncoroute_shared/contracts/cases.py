"""Events intake writes on `cases`."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from .submissions import Submission

CaseStatus = Literal["awaiting_records", "ready", "closed"]
Tier = str  # named by the policy: `standard`, `fast_progressing`, ...


class Classification(BaseModel):
    tier: Tier = Field(examples=["standard", "fast_progressing"])
    tumor_group: str | None = Field(None, examples=["haematologic", "breast"])
    fast_progressing: bool
    rule: str = Field(description="The policy rule that decided the tier")
    needs_triage: bool = Field(False, description="Could not be classified; operators look")


class CaseOpened(BaseModel):
    case_id: str
    opened_at: datetime
    status: CaseStatus
    classification: Classification
    missing_records: list[str] = Field(default_factory=list)
    submission: Submission


class Problem(BaseModel):
    path: str = Field(description="Dotted path of the offending field, or (root)")
    message: str


class CaseRejected(BaseModel):
    source: str | None = None
    external_id: str | None = None
    submission_event_id: str
    errors: list[Problem]


class CaseUpdated(BaseModel):
    case_id: str
    status: CaseStatus
    missing_records: list[str] = Field(default_factory=list)


class CaseClosed(BaseModel):
    case_id: str
    reason: Literal["withdrawn", "completed", "cancelled"]
