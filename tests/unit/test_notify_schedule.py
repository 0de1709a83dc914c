"""Quiet hours, backoff with jitter and giving up (pure)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

import pytest

from oncoroute_notify.domain.policy import QuietHours, Retry
from oncoroute_notify.domain.schedule import after_attempt, backoff, first_due, quiet_until

pytestmark = pytest.mark.unit
NIGHT = QuietHours(start=time(21), end=time(8))
RETRY = Retry(max_attempts=4, first_delay=timedelta(seconds=10),
              max_delay=timedelta(seconds=60))


def utc(hour: int, minute: int = 0, day: int = 2) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def test_quiet_hours_cross_midnight_in_the_patients_zone() -> None:
    # 17:00 UTC is 22:30 in Kolkata: quiet until 08:00 there, 02:30 UTC next day.
    assert quiet_until(utc(17), "Asia/Kolkata", NIGHT) == utc(2, 30, day=3)
    # 01:00 UTC is 06:30 in Kolkata: quiet until 08:00 the same day.
    assert quiet_until(utc(1), "Asia/Kolkata", NIGHT) == utc(2, 30)
    assert quiet_until(utc(12), "Asia/Kolkata", NIGHT) is None
    assert quiet_until(utc(22), "UTC", NIGHT) == utc(8, day=3)


def test_quiet_hours_within_a_day_and_none() -> None:
    lunch = QuietHours(start=time(12), end=time(13))
    assert quiet_until(utc(12, 30), "UTC", lunch) == utc(13)
    assert quiet_until(utc(13), "UTC", lunch) is None
    assert quiet_until(utc(3), "UTC", None) is None


def test_only_non_urgent_messages_to_someone_with_quiet_hours_wait() -> None:
    assert first_due(utc(23), "low", "UTC", NIGHT) == ("deferred", utc(8, day=3))
    assert first_due(utc(23), "high", "UTC", NIGHT) == ("pending", utc(23))
    assert first_due(utc(23), "low", None, NIGHT) == ("pending", utc(23))  # clinicians


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap() -> None:
    rng = random.Random(7)
    for attempts, ceiling in [(1, 10), (2, 20), (3, 40), (4, 60), (9, 60)]:
        delays = {(backoff(utc(12), attempts, RETRY, rng) - utc(12)).total_seconds()
                  for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered


def test_transient_failures_retry_until_the_budget_then_give_up() -> None:
    rng = random.Random(1)
    for attempts in range(1, RETRY.max_attempts):
        decision = after_attempt("retryable", "smtp 451", attempts, utc(12), RETRY, rng)
        assert decision.status == "retrying" and decision.due_at > utc(12)
    final = after_attempt("retryable", "smtp 451", RETRY.max_attempts, utc(12), RETRY, rng)
    assert final.gave_up and final.error == "gave up after 4 attempts: smtp 451"


def test_permanent_failures_are_not_retried() -> None:
    decision = after_attempt("permanent", "smtp 550", 1, utc(12), RETRY, random.Random())
    assert decision.gave_up and decision.error == "permanent: smtp 550"


def test_a_patient_retry_falling_in_quiet_hours_waits_for_morning() -> None:
    evening = datetime(2026, 3, 2, 20, 59, 55, tzinfo=UTC)
    decision = after_attempt("retryable", "timeout", 1, evening, RETRY,
                             random.Random(3), "low", "UTC", NIGHT)
    assert (decision.status, decision.due_at) == ("retrying", utc(8, day=3))
