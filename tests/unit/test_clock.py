"""Clock arithmetic: start, pause, resume, meet and how a clock stands. Pure, `now` passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from oncoroute_shared.policy import load_document, parse_duration
from oncoroute_shared.settings import SettingsError
from oncoroute_sla.bootstrap import validate_policy
from oncoroute_sla.domain.clock import (
    ClockState,
    Standing,
    meet,
    open_clock,
    records_changed,
    remaining,
    standing,
)

pytestmark = pytest.mark.unit
POLICY = validate_policy(load_document(None))
NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
H = timedelta(hours=1)


def opened(tier: str = "standard", status: str = "ready"):  # type: ignore[no-untyped-def]
    return open_clock(POLICY, "case-1", tier, "breast", status, NOW)


def test_standard_is_48h_and_fast_progressing_24h() -> None:
    assert opened("standard").deadline == NOW + 48 * H
    assert opened("fast_progressing").deadline == NOW + 24 * H


def test_unknown_tier_falls_back_to_standard() -> None:
    clock = opened("mystery")
    assert clock.tier == "standard" and clock.turnaround == 48 * H


def test_time_scale_divides_every_duration() -> None:
    fast = POLICY.scaled(3600)
    assert open_clock(fast, "c", "standard", None, "ready", NOW).turnaround == timedelta(seconds=48)
    assert fast.tier("fast_progressing").acceptance_timeout == timedelta(seconds=1)
    assert fast.escalation.repeat_every == timedelta(seconds=4)
    assert fast.records_reminders.every == timedelta(seconds=24)


def test_standard_case_awaiting_records_waits_and_fast_progressing_runs_at_once() -> None:
    waiting = opened("standard", "awaiting_records")
    assert waiting.state is ClockState.WAITING and waiting.deadline is None
    assert opened("fast_progressing", "awaiting_records").state is ClockState.RUNNING


def test_records_arriving_start_the_waiting_clock_then() -> None:
    waiting = opened("standard", "awaiting_records")
    started, what = records_changed(POLICY, waiting, "ready", NOW + 5 * H)
    assert what == "started" and started.deadline == NOW + 53 * H


def test_pause_does_not_count_and_moves_the_deadline() -> None:
    running = opened()
    paused, what = records_changed(POLICY, running, "awaiting_records", NOW + 10 * H)
    assert what == "paused" and paused.state is ClockState.PAUSED
    assert remaining(paused, NOW + 30 * H) == 38 * H  # frozen while paused
    resumed, what = records_changed(POLICY, paused, "ready", NOW + 15 * H)
    assert what == "resumed" and resumed.deadline == NOW + 53 * H
    assert resumed.paused_for == 5 * H
    assert remaining(resumed, NOW + 20 * H) == 33 * H


def test_fast_progressing_never_pauses_for_records() -> None:
    clock, what = records_changed(POLICY, opened("fast_progressing"), "awaiting_records", NOW)
    assert what is None and clock.state is ClockState.RUNNING


def test_the_pause_switch_off_keeps_the_clock_running() -> None:
    policy = POLICY.model_copy(update={"pause_while_awaiting_records": False})
    clock, what = records_changed(policy, opened(), "awaiting_records", NOW + H)
    assert what is None and clock.state is ClockState.RUNNING


def test_met_on_time_and_late_with_actual_turnaround_excluding_pauses() -> None:
    paused, _ = records_changed(POLICY, opened(), "awaiting_records", NOW + 10 * H)
    resumed, _ = records_changed(POLICY, paused, "ready", NOW + 20 * H)
    on_time = meet(resumed, NOW + 50 * H)
    assert on_time.on_time is True and on_time.actual_turnaround == 40 * H
    late = meet(resumed, NOW + 60 * H)
    assert late.on_time is False and late.actual_turnaround == 50 * H


@pytest.mark.parametrize(("after", "expected"), [
    (0 * H, Standing.ON_TRACK), (35 * H, Standing.ON_TRACK), (36 * H, Standing.AT_RISK),
    (47 * H, Standing.AT_RISK), (48 * H, Standing.BREACHED), (60 * H, Standing.BREACHED)])
def test_standing_follows_time_remaining(after: timedelta, expected: Standing) -> None:
    assert standing(opened(), NOW + after, POLICY.at_risk_at) is expected


def test_a_held_clock_stands_paused_unless_already_breached() -> None:
    assert standing(opened("standard", "awaiting_records"), NOW + 99 * H,
                    POLICY.at_risk_at) is Standing.PAUSED
    paused, _ = records_changed(POLICY, opened(), "awaiting_records", NOW + 50 * H)
    assert standing(paused, NOW + 60 * H, POLICY.at_risk_at) is Standing.BREACHED


@pytest.mark.parametrize(("text", "seconds"), [("48h", 172800), ("90m", 5400), ("20s", 20),
                                               ("1.5h", 5400), (30, 30)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


def test_bad_policy_names_the_key() -> None:
    with pytest.raises(SettingsError) as info:
        validate_policy({"sla": {"tiers": {"standard": {"turnaround": "soon",
                                                        "acceptance_timeout": "4h"}}}})
    assert "sla.tiers.standard.turnaround" in str(info.value)
