"""When a delivery may go: quiet hours, retries with backoff and jitter, giving up. Pure."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from .policy import QuietHours, Retry, Urgency

Status = Literal["pending", "sent", "deferred", "retrying", "failed"]
Outcome = Literal["sent", "retryable", "permanent"]


def quiet_until(now: datetime, tz: str, quiet: QuietHours | None) -> datetime | None:
    """The end of the quiet hours `now` falls in (in zone `tz`), or None outside them."""
    if quiet is None or quiet.start == quiet.end:
        return None
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    t = local.time().replace(tzinfo=None)
    if quiet.start < quiet.end:
        inside = quiet.start <= t < quiet.end
    else:  # crosses midnight, e.g. 21:00-08:00
        inside = t >= quiet.start or t < quiet.end
    if not inside:
        return None
    day = local.date() if t < quiet.end else local.date() + timedelta(days=1)
    return datetime.combine(day, quiet.end, tzinfo=zone).astimezone(UTC)


def first_due(now: datetime, urgency: Urgency, quiet_tz: str | None,
              quiet: QuietHours | None) -> tuple[Status, datetime]:
    """Non-urgent messages to someone with quiet hours wait for them to end; never dropped."""
    if quiet_tz is not None and urgency == "low":
        release = quiet_until(now, quiet_tz, quiet)
        if release is not None:
            return "deferred", release
    return "pending", now


def backoff(now: datetime, attempts: int, retry: Retry, rng: random.Random) -> datetime:
    """Exponential backoff with jitter: between half and all of min(max, first * 2^(n-1))."""
    ceiling = min(retry.max_delay.total_seconds(),
                  retry.first_delay.total_seconds() * 2 ** max(attempts - 1, 0))
    return now + timedelta(seconds=rng.uniform(ceiling / 2, ceiling))


@dataclass(frozen=True)
class Decision:
    status: Status
    due_at: datetime
    error: str | None = None

    @property
    def gave_up(self) -> bool:
        return self.status == "failed"


def after_attempt(outcome: Outcome, error: str | None, attempts: int, now: datetime,
                  retry: Retry, rng: random.Random, urgency: Urgency = "high",
                  quiet_tz: str | None = None, quiet: QuietHours | None = None) -> Decision:
    """What a delivery becomes after its `attempts`-th try."""
    if outcome == "sent":
        return Decision("sent", now)
    if outcome == "permanent":
        return Decision("failed", now, f"permanent: {error}")
    if attempts >= retry.max_attempts:
        return Decision("failed", now, f"gave up after {attempts} attempts: {error}")
    due = backoff(now, attempts, retry, rng)
    _, due = first_due(due, urgency, quiet_tz, quiet)
    return Decision("retrying", due, error)
