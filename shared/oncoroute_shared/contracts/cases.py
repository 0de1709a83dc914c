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
    matched_on: str | None = Field(
        None, examples=["icd10", "morphology", "description", "urgent", "default"],
        description="What in the submission matched the rule",
    )


class CaseOpened(BaseModel):
    """`status` is `ready` when the case may be routed now (complete, or fast-progressing
    with records still missing) and `awaiting_records` otherwise."""

    case_id: str
    opened_at: datetime
    status: CaseStatus
    classification: Classification
    missing_records: list[str] = Field(
        default_factory=list, description="Record kinds still needed (any one per requirement)",
        examples=[["pathology_report", "pathology_slides"]],
    )
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
    """Records were added: `status: ready` once nothing is missing (or for a fast-progressing
    case that was already routable)."""

    case_id: str
    status: CaseStatus
    missing_records: list[str] = Field(default_factory=list)
    records_added: list[str] = Field(default_factory=list, description="Kinds just added")


class CaseClosed(BaseModel):
    case_id: str
    reason: Literal["withdrawn", "completed", "cancelled"]
