"""The `sla` section of the policy: tiers, warnings, the escalation ladder, breach, expedite and
records reminders. Validated at start; every duration is divided by the time scale once."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from oncoroute_shared.policy import parse_duration

# Who a step is for; notify turns each name into messages. A new name needs notify's support,
# so the policy is checked against this list at start (a typo stops the service).
Audience = Literal["reviewers", "tumor_group_lead", "operators_on_call", "referring_physician"]
Audiences = list[Audience]


def _audience(*names: Audience) -> Audiences:
    return list(names)


def _duration(v: object) -> object:
    return parse_duration(v) if isinstance(v, str | int | float) else v


def _positive(v: timedelta | None) -> timedelta | None:
    if v is not None and v <= timedelta(0):
        raise ValueError("must be a positive duration")
    return v


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TierPolicy(_Section):
    turnaround: timedelta
    acceptance_timeout: timedelta
    clock_starts: Literal["opened", "ready"] = Field(
        "ready", description="`opened`: at once; `ready`: when the case's records are complete")
    expedite: bool = Field(False, description="Escalate at opening (level `expedite`)")

    _parse = field_validator("turnaround", "acceptance_timeout", mode="before")(_duration)
    _check = field_validator("turnaround", "acceptance_timeout")(_positive)


class WarningMark(_Section):
    at: float = Field(gt=0, lt=1, description="Fraction of the turnaround")
    audience: Audiences = Field(min_length=1)


class EscalationLevel(_Section):
    at: float = Field(gt=0, lt=1, description="Fraction of the turnaround")
    audience: Audiences = Field(min_length=1)


class Escalation(_Section):
    levels: list[EscalationLevel] = Field(default_factory=lambda: [
        EscalationLevel(at=0.75, audience=["reviewers", "tumor_group_lead"]),
        EscalationLevel(at=0.9, audience=["operators_on_call"]),
    ])
    repeat_every: timedelta | None = Field(
        timedelta(hours=4), description="Repeat the last level while unresolved; null: never")

    _parse = field_validator("repeat_every", mode="before")(_duration)
    _check = field_validator("repeat_every")(_positive)

    @field_validator("levels")
    @classmethod
    def _ascending(cls, v: list[EscalationLevel]) -> list[EscalationLevel]:
        if any(b.at <= a.at for a, b in zip(v, v[1:], strict=False)):
            raise ValueError("levels must be in strictly increasing order of `at`")
        return v


class Announcement(_Section):
    audience: Audiences = Field(min_length=1)


class AcceptanceExpiry(_Section):
    audience: Audiences = Field(default_factory=lambda: _audience("tumor_group_lead"),
                                description="Empty: only the matcher acts (it re-offers)")


class RecordsReminders(_Section):
    every: timedelta | None = Field(timedelta(hours=24), description="null: no reminders")
    audience: Audiences = Field(default_factory=lambda: _audience("referring_physician"),
                                min_length=1)

    _parse = field_validator("every", mode="before")(_duration)
    _check = field_validator("every")(_positive)


def _default_tiers() -> dict[str, TierPolicy]:
    return {
        "fast_progressing": TierPolicy(turnaround=timedelta(hours=24),
                                       acceptance_timeout=timedelta(hours=1),
                                       clock_starts="opened", expedite=True),
        "standard": TierPolicy(turnaround=timedelta(hours=48),
                               acceptance_timeout=timedelta(hours=4)),
    }


class SlaPolicy(_Section):
    tiers: dict[str, TierPolicy] = Field(default_factory=_default_tiers, min_length=1)
    pause_while_awaiting_records: bool = True
    warnings: list[WarningMark] = Field(default_factory=lambda: [
        WarningMark(at=0.5, audience=["reviewers"]), WarningMark(at=0.75, audience=["reviewers"])])
    escalation: Escalation = Field(default_factory=Escalation)
    breach: Announcement = Field(default_factory=lambda: Announcement(
        audience=["reviewers", "tumor_group_lead", "operators_on_call"]))
    expedite: Announcement = Field(default_factory=lambda: Announcement(
        audience=["tumor_group_lead", "operators_on_call"]))
    acceptance_expiry: AcceptanceExpiry = Field(default_factory=AcceptanceExpiry)
    records_reminders: RecordsReminders = Field(default_factory=RecordsReminders)

    @field_validator("tiers")
    @classmethod
    def _standard(cls, v: dict[str, TierPolicy]) -> dict[str, TierPolicy]:
        if "standard" not in v:
            raise ValueError("a `standard` tier is required (the fallback for unknown tiers)")
        return v

    @field_validator("warnings")
    @classmethod
    def _distinct(cls, v: list[WarningMark]) -> list[WarningMark]:
        if len({w.at for w in v}) != len(v):
            raise ValueError("two warnings at the same fraction")
        return sorted(v, key=lambda w: w.at)

    @model_validator(mode="after")
    def _repeat_needs_levels(self) -> SlaPolicy:
        if self.escalation.repeat_every is not None and not self.escalation.levels:
            raise ValueError("escalation.repeat_every needs at least one level to repeat")
        return self

    def tier(self, name: str) -> TierPolicy:
        return self.tiers.get(name) or self.tiers["standard"]

    def tier_name(self, name: str) -> str:
        return name if name in self.tiers else "standard"

    @property
    def at_risk_at(self) -> float:
        """A running clock is at risk from the first escalation level (or the last warning)."""
        if self.escalation.levels:
            return self.escalation.levels[0].at
        return self.warnings[-1].at if self.warnings else 1.0

    def scaled(self, scale: float) -> SlaPolicy:
        """The same policy with every duration divided by `scale` (ONCOROUTE_TIME_SCALE)."""
        if scale == 1:
            return self

        def div(d: timedelta | None) -> timedelta | None:
            return None if d is None else d / scale

        tiers = {name: t.model_copy(update={"turnaround": t.turnaround / scale,
                                            "acceptance_timeout": t.acceptance_timeout / scale})
                 for name, t in self.tiers.items()}
        return self.model_copy(update={
            "tiers": tiers,
            "escalation": self.escalation.model_copy(
                update={"repeat_every": div(self.escalation.repeat_every)}),
            "records_reminders": self.records_reminders.model_copy(
                update={"every": div(self.records_reminders.every)}),
        })
