"""Events specialists' clients (and the matcher's HTTP API) write on `specialist-actions`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class AssignmentAccept(BaseModel):
    assignment_id: str
    specialist_id: str


class AssignmentDecline(BaseModel):
    assignment_id: str
    specialist_id: str
    reason: str = Field(min_length=1, max_length=1000)


class OpinionSubmit(BaseModel):
    assignment_id: str
    specialist_id: str
    diagnosis: Literal["confirmed", "refined", "changed"]
    treatment_plan: Literal["agreed", "modified", "alternative"]
    summary: str = Field(max_length=20000)
    report_uri: str = Field(max_length=2000)
