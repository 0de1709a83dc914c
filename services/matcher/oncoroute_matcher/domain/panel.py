"""Which seats a case needs, from the policy."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SeatRule(BaseModel):
    seat: str = Field(min_length=1)
    role: str = Field("any", min_length=1)


class MatchingPolicy(BaseModel):
    seats: list[SeatRule] = Field(default_factory=lambda: [SeatRule(seat="disease_specialist")])


def seats_for(policy: MatchingPolicy) -> list[SeatRule]:
    return list(policy.seats)
