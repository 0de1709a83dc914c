"""The `notify` section of the policy: who the leads and operators are, quiet hours, urgency
rules and the retry budget. Validated at start; durations are divided by the time scale once."""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from oncoroute_shared.policy import parse_duration

Channel = Literal["email", "sms", "webhook"]
Urgency = Literal["high", "low"]
StaffChannel = Literal["email", "sms"]
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _duration(v: object) -> object:
    return parse_duration(v) if isinstance(v, str | int | float) else v


class QuietHours(_Section):
    """Local wall-clock window (may cross midnight) in which non-urgent patient messages wait."""

    start: time
    end: time

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock(cls, v: object) -> object:
        if isinstance(v, str):
            match = _CLOCK.match(v.strip())
            if not match:
                raise ValueError(f"expected HH:MM or HH:MM:SS, got {v!r}")
            return time(int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))
        return v


class Retry(_Section):
    max_attempts: int = Field(8, ge=1, le=50, description="Tries before giving up")
    first_delay: timedelta = Field(timedelta(seconds=30))
    max_delay: timedelta = Field(timedelta(minutes=30))

    _parse = field_validator("first_delay", "max_delay", mode="before")(_duration)

    @model_validator(mode="after")
    def _order(self) -> Retry:
        if self.first_delay <= timedelta(0) or self.max_delay < self.first_delay:
            raise ValueError("need 0 < first_delay <= max_delay")
        return self


class Contact(_Section):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(None, pattern=r"^\+?[0-9 ()\-]{5,32}$")


class HighUrgency(_Section):
    """PagerDuty-style urgency: high pages at once on every staff channel, low is email only."""

    tiers: list[str] = Field(default_factory=lambda: ["fast_progressing"])
    levels: list[str] = Field(default_factory=lambda: ["2", "expedite"],
                              description="Escalation levels that are high urgency")
    events: list[str] = Field(default_factory=lambda: ["sla.breached"])


def _pager_default() -> dict[Urgency, list[StaffChannel]]:
    return {"high": ["email", "sms"], "low": ["email"]}


class NotifyPolicy(_Section):
    quiet_hours: QuietHours | None = Field(
        default_factory=lambda: QuietHours(start=time(21), end=time(8)))
    default_timezone: str = Field("UTC", description="For patients who gave none")
    retry: Retry = Field(default_factory=Retry)
    link_ttl: timedelta = Field(timedelta(hours=72), description="Accept/decline links expire")
    staff_channels: dict[Urgency, list[StaffChannel]] = Field(
        default_factory=lambda: _pager_default())
    high_urgency: HighUrgency = Field(default_factory=HighUrgency)
    tumor_group_leads: dict[str, list[Contact]] = Field(
        default_factory=dict, description="Tumour group (or `default`) -> its leads")
    operators_on_call: list[Contact] = Field(default_factory=list)
    physicians: dict[str, EmailStr] = Field(
        default_factory=dict, description="First-opinion physician id -> email, when the "
                                          "submission carries no address")

    _parse = field_validator("link_ttl", mode="before")(_duration)

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {v!r}") from None
        return v

    @field_validator("staff_channels")
    @classmethod
    def _both(cls, v: dict[Urgency, list[StaffChannel]]) -> dict[Urgency, list[StaffChannel]]:
        if set(v) != {"high", "low"} or not all(v.values()):
            raise ValueError("give a non-empty channel list for both `high` and `low`")
        return v

    def leads(self, tumor_group: str | None) -> list[Contact]:
        return self.tumor_group_leads.get(tumor_group or "", []) or \
            self.tumor_group_leads.get("default", [])

    def scaled(self, scale: float) -> NotifyPolicy:
        """Durations divided by ONCOROUTE_TIME_SCALE (quiet hours are wall-clock: unscaled)."""
        if scale == 1:
            return self
        retry = self.retry.model_copy(update={"first_delay": self.retry.first_delay / scale,
                                              "max_delay": self.retry.max_delay / scale})
        return self.model_copy(update={"retry": retry, "link_ttl": self.link_ttl / scale})
