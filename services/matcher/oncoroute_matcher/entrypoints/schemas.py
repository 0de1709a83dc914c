"""HTTP request bodies (API schemas, not event contracts or rows)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SpecialistBody(_Body):
    """The full roster shape; the id is in the path. Validated as the roster file is."""

    name: str
    email: str | None = None
    phone: str | None = None
    roles: list[str]
    tumor_groups: list[str]
    cancer_types: dict[str, Literal["general", "expert"]] = Field(
        default_factory=dict, examples=[{"C92.4": "expert"}])
    max_active: int
    languages: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    institution: str | None = None
    timezone: str = "UTC"
    working_hours: str | None = Field(None, examples=["mon-fri 08:00-18:00"])
    on_call: bool = False
    active: bool = True


class AbsenceBody(_Body):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: str | None = Field(None, max_length=200, examples=["annual leave"])

    @model_validator(mode="after")
    def _order(self) -> AbsenceBody:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class DeclineBody(_Body):
    reason: str = Field(min_length=1, max_length=1000, examples=["on leave next week"])


class OpinionBody(_Body):
    diagnosis: Literal["confirmed", "refined", "changed"]
    treatment_plan: Literal["agreed", "modified", "alternative"]
    summary: str = Field(min_length=1, max_length=20000)
    report_uri: str = Field(min_length=1, max_length=2000, examples=["https://reports/1"])


class ReassignBody(_Body):
    reason: str = Field(min_length=1, max_length=1000)
    specialist_id: str | None = Field(
        None, description="Offer to this specialist (hard rules still hold); default: the "
                          "next best")
