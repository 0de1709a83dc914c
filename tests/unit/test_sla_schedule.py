"""Which timers a clock arms and when; what each announces when it fires. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from oncoroute_sla.domain.clock import cancel, open_clock, records_changed
from oncoroute_sla.domain.firing import DueTimer, Offer, fire
from oncoroute_sla.domain.policy import SlaPolicy
from oncoroute_sla.domain.schedule import (
    StepKind,
    acceptance_step,
    clock_steps,
    parse,
    records_reminder,
    repeat_on_resume,
)

pytestmark = pytest.mark.unit
POLICY = SlaPolicy()
NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
H = timedelta(hours=1)


def running(tier: str = "standard"):  # type: ignore[no-untyped-def]
    return open_clock(POLICY, "case-1", tier, "breast", "ready", NOW)


def due(step: str, at: datetime, late: timedelta = timedelta(0)) -> DueTimer:
    return DueTimer("case-1", step, at, at + late)


def test_a_standard_clock_arms_warnings_escalations_and_breach_at_their_fractions() -> None:
    steps = {s.name: s.due_at - NOW for s in clock_steps(POLICY, running())}
    assert steps == {"warning:0.5": 24 * H, "warning:0.75": 36 * H, "escalation:1": 36 * H,
                     "escalation:2": 43.2 * H, "breach": 48 * H}


def test_a_resumed_clock_rearms_its_steps_shifted_by_the_pause() -> None:
    paused, _ = records_changed(POLICY, running(), "awaiting_records", NOW + H)
    assert clock_steps(POLICY, paused) == []
    resumed, _ = records_changed(POLICY, paused, "ready", NOW + 3 * H)
    assert {s.name: s.due_at - NOW for s in clock_steps(POLICY, resumed)}["breach"] == 50 * H


def test_step_names_parse_back() -> None:
    assert parse("warning:0.75").fraction == 0.75
    assert (parse("escalation:2:repeat:3").level, parse("escalation:2:repeat:3").repeat) == (2, 3)
    assert parse("acceptance:a-1:x").assignment_id == "a-1:x"
    assert parse("records:4").number == 4
    assert parse("breach").kind is StepKind.BREACH
    with pytest.raises(ValueError):
        parse("lunch:1")


def test_warning_announces_its_audience_and_lateness() -> None:
    f = fire(POLICY, due("warning:0.5", NOW + 24 * H, timedelta(seconds=3)), running(), None)
    assert f.event_type == "sla.warning" and f.data is not None
    assert f.data.audience == ["reviewers"] and f.data.lateness_seconds == 3
    assert f.data.fraction == 0.5 and f.follow_up is None


def test_escalation_levels_name_their_level_and_audience() -> None:
    one = fire(POLICY, due("escalation:1", NOW + 36 * H), running(), None)
    assert one.event_type == "sla.escalated" and one.data is not None
    assert (one.data.level, one.data.audience) == ("1", ["reviewers", "tumor_group_lead"])
    assert one.follow_up is None  # only the last level repeats
    two = fire(POLICY, due("escalation:2", NOW + 43 * H), running(), None)
    assert two.data is not None and two.data.audience == ["operators_on_call"]
    assert two.follow_up is not None and two.follow_up.name == "escalation:2:repeat:1"
    assert two.follow_up.due_at == NOW + 47 * H


def test_a_late_repeat_is_followed_by_one_future_repeat_not_a_burst() -> None:
    f = fire(POLICY, due("escalation:2:repeat:1", NOW, late=10 * H), running(), None)
    assert f.follow_up is not None and f.follow_up.name == "escalation:2:repeat:2"
    assert f.follow_up.due_at == NOW + 12 * H


def test_no_repeat_when_the_policy_says_never() -> None:
    policy = POLICY.model_copy(update={"escalation": POLICY.escalation.model_copy(
        update={"repeat_every": None})})
    assert fire(policy, due("escalation:2", NOW), running(), None).follow_up is None


def test_breach_goes_to_everyone_named() -> None:
    f = fire(POLICY, due("breach", NOW + 48 * H), running(), None)
    assert f.event_type == "sla.breached" and f.data is not None and f.data.fraction == 1.0
    assert f.data.audience == ["reviewers", "tumor_group_lead", "operators_on_call"]


def test_steps_of_a_clock_no_longer_running_announce_nothing() -> None:
    assert fire(POLICY, due("breach", NOW), cancel(running(), NOW), None).event_type is None
    paused, _ = records_changed(POLICY, running(), "awaiting_records", NOW)
    assert fire(POLICY, due("breach", NOW), paused, None).event_type is None


def test_acceptance_expiry_carries_what_the_matcher_needs() -> None:
    step = acceptance_step(POLICY, "fast_progressing", "a-1", NOW)
    assert step.due_at == NOW + H and step.name == "acceptance:a-1"
    offer = Offer("a-1", "case-1", "disease_specialist", "sp-9", "fast_progressing", "offered")
    f = fire(POLICY, due(step.name, step.due_at), running("fast_progressing"), offer)
    assert f.event_type == "sla.acceptance_expired" and f.data is not None
    assert (f.data.assignment_id, f.data.seat, f.data.reviewer_id, f.data.case_id) == (
        "a-1", "disease_specialist", "sp-9", "case-1")
    assert f.data.audience == ["tumor_group_lead"]


def test_an_answered_offer_or_a_stopped_case_does_not_expire() -> None:
    offer = Offer("a-1", "case-1", "seat", "sp-9", "standard", "accepted")
    assert fire(POLICY, due("acceptance:a-1", NOW), running(), offer).event_type is None
    offer = Offer("a-1", "case-1", "seat", "sp-9", "standard", "offered")
    assert fire(POLICY, due("acceptance:a-1", NOW), cancel(running(), NOW),
                offer).event_type is None
    assert fire(POLICY, due("acceptance:a-1", NOW), None, offer).event_type is not None


def test_records_reminders_repeat_while_records_are_missing() -> None:
    waiting = open_clock(POLICY, "case-1", "standard", None, "awaiting_records", NOW)
    first = records_reminder(POLICY, 1, NOW)
    assert first is not None and first.due_at == NOW + 24 * H
    f = fire(POLICY, due(first.name, first.due_at), waiting, None)
    assert f.event_type == "sla.warning" and f.data is not None
    assert f.data.audience == ["referring_physician"] and f.data.step == "records:1"
    assert f.follow_up is not None and f.follow_up.name == "records:2"
    started, _ = records_changed(POLICY, waiting, "ready", NOW + H)
    assert fire(POLICY, due("records:2", NOW), started, None).event_type is None


def test_resume_rearms_the_repeat_only_once_the_last_level_fired() -> None:
    assert repeat_on_resume(POLICY, ["warning:0.5", "escalation:1"], NOW) is None
    again = repeat_on_resume(POLICY, ["escalation:2", "escalation:2:repeat:1"], NOW)
    assert again is not None and again.name == "escalation:2:repeat:2"
    assert again.due_at == NOW + 4 * H
