"""Which seats a case needs (its panel), from the policy's `matching` section."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from oncoroute_shared.policy import parse_duration

ANY_ROLE = "any"


class SeatRule(BaseModel):
    """One seat of the panel and when a case needs it."""

    seat: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    role: str | None = Field(None, description="One role, or `any` (the skeleton's shape)")
    roles: list[str] = Field(default_factory=list, description="Any of these roles")
    roles_by_group: dict[str, list[str]] = Field(
        default_factory=dict, description="Tumour group -> roles instead of `roles`")
    when_reasons: list[str] = Field(
        default_factory=list, description="Needed when any of these reasons is given "
                                          "(empty: every case)")
    when_records: list[str] = Field(
        default_factory=list, description="...and any of these record kinds is attached")
    expert_when_reasons: list[str] = Field(
        default_factory=list, description="These reasons require expert level for the exact "
                                          "cancer type")

    @model_validator(mode="after")
    def _some_role(self) -> SeatRule:
        if not self.roles and self.role is None:
            raise ValueError("give `roles` (a list) or `role`")
        return self

    def roles_for(self, tumor_group: str | None) -> frozenset[str]:
        """The roles that may take this seat; empty means any role."""
        if tumor_group is not None and tumor_group in self.roles_by_group:
            return frozenset(self.roles_by_group[tumor_group])
        if self.roles:
            return frozenset(self.roles)
        return frozenset() if self.role in (None, ANY_ROLE) else frozenset({self.role or ""})

    def applies(self, reasons: Iterable[str], record_kinds: Iterable[str]) -> bool:
        if self.when_reasons and not set(self.when_reasons) & set(reasons):
            return False
        return not self.when_records or bool(set(self.when_records) & set(record_kinds))


class MatchingPolicy(BaseModel):
    seats: list[SeatRule] = Field(
        default_factory=lambda: [SeatRule(seat="disease_specialist", role=ANY_ROLE)])
    independent_institution: bool = Field(
        True, description="Never a reviewer from the first opinion's institution")
    licensed_region: bool = Field(
        True, description="Only reviewers licensed in the patient's country")
    review_time: dict[str, timedelta] = Field(
        default_factory=lambda: {"default": timedelta(hours=4)},
        description="Working time one review takes, by tier (`default` for the rest)")
    retry_every: timedelta = Field(
        timedelta(seconds=60), description="Waiting seats are retried at least this often")

    @field_validator("review_time", mode="before")
    @classmethod
    def _durations(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: parse_duration(d) if isinstance(d, str | int | float) else d
                    for k, d in v.items()}
        return v

    @field_validator("retry_every", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> Any:
        return parse_duration(v) if isinstance(v, str | int | float) else v

    @field_validator("seats")
    @classmethod
    def _unique(cls, v: list[SeatRule]) -> list[SeatRule]:
        names = [s.seat for s in v]
        if len(set(names)) != len(names):
            raise ValueError(f"seat names must be unique: {names}")
        if not v:
            raise ValueError("a case needs at least one seat")
        return v

    def review_time_for(self, tier: str) -> timedelta:
        return self.review_time.get(tier, self.review_time.get("default", timedelta(hours=4)))


@dataclass(frozen=True)
class SeatPlan:
    seat: str
    roles: frozenset[str]  # empty: any role
    require_expert: bool

    @property
    def role_label(self) -> str:
        return "|".join(sorted(self.roles)) or ANY_ROLE


def seats_for(policy: MatchingPolicy, tumor_group: str | None, reasons: Iterable[str],
              record_kinds: Iterable[str]) -> list[SeatPlan]:
    """The panel for a case, in policy order."""
    reasons, record_kinds = list(reasons), list(record_kinds)
    return [SeatPlan(rule.seat, rule.roles_for(tumor_group),
                     bool(set(rule.expert_when_reasons) & set(reasons)))
            for rule in policy.seats if rule.applies(reasons, record_kinds)]


class Deadlines(BaseModel):
    """Each tier's turnaround, read from the `sla` section (sla owns the clock; the matcher
    only needs the same arithmetic to pick reviewers who can finish in time)."""

    turnaround: dict[str, timedelta] = Field(default_factory=dict)

    @classmethod
    def from_policy(cls, doc: dict[str, Any]) -> Deadlines:
        tiers = ((doc.get("sla") or {}).get("tiers") or {})
        found: dict[str, timedelta] = {}
        for tier, spec in tiers.items():
            if isinstance(spec, dict) and "turnaround" in spec:
                found[str(tier)] = parse_duration(spec["turnaround"])
        return cls(turnaround=found)

    def deadline(self, tier: str, opened_at: datetime, time_scale: float) -> datetime:
        turnaround = self.turnaround.get(tier, timedelta(hours=48))
        return opened_at + turnaround / time_scale


@dataclass(frozen=True)
class MatchingConfig:
    """The policy as the handlers use it, with durations already time-scaled."""

    policy: MatchingPolicy
    deadlines: Deadlines
    time_scale: float = 1.0

    def review_time(self, tier: str) -> timedelta:
        return self.policy.review_time_for(tier) / self.time_scale

    def deadline(self, tier: str, opened_at: datetime) -> datetime:
        return self.deadlines.deadline(tier, opened_at, self.time_scale)

    @property
    def retry_every(self) -> timedelta:
        return self.policy.retry_every / self.time_scale
