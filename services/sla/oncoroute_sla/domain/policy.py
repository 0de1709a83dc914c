"""The sla section of the policy: tiers and their clocks."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field, field_validator

from oncoroute_shared.policy import parse_duration


class TierPolicy(BaseModel):
    turnaround: timedelta
    acceptance_timeout: timedelta

    @field_validator("turnaround", "acceptance_timeout", mode="before")
    @classmethod
    def _duration(cls, v: object) -> object:
        return parse_duration(v) if isinstance(v, str | int | float) else v


class SlaPolicy(BaseModel):
    tiers: dict[str, TierPolicy] = Field(min_length=1)

    @field_validator("tiers")
    @classmethod
    def _standard(cls, v: dict[str, TierPolicy]) -> dict[str, TierPolicy]:
        if "standard" not in v:
            raise ValueError("a `standard` tier is required (the fallback for unknown tiers)")
        return v
