"""Clock arithmetic. Pure: `now` is passed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .policy import SlaPolicy, TierPolicy


@dataclass(frozen=True)
class Deadline:
    tier: str
    started_at: datetime
    deadline: datetime
    turnaround: timedelta


def tier_policy(policy: SlaPolicy, tier: str) -> TierPolicy:
    return policy.tiers.get(tier) or policy.tiers["standard"]


def start(policy: SlaPolicy, tier: str, now: datetime, time_scale: float = 1.0) -> Deadline:
    turnaround = tier_policy(policy, tier).turnaround / time_scale
    return Deadline(tier, now, now + turnaround, turnaround)
