"""Intake consumes what its timeline and its submissions need (wiring checked, not remembered)."""

from __future__ import annotations

import pytest

from oncoroute_intake.entrypoints.kafka import subscriptions
from oncoroute_shared.contracts.registry import EVENTS
from oncoroute_shared.runtime import Runtime
from oncoroute_shared.topics import Topic

pytestmark = pytest.mark.unit


def test_every_event_of_the_timeline_topics_reaches_the_timeline() -> None:
    subs = {s.topic: s for s in subscriptions(Runtime("intake"))}
    for topic in (Topic.ASSIGNMENTS, Topic.SLA_EVENTS, Topic.NOTIFICATIONS):
        assert set(subs[topic].handlers) == {t for t, (on, _m) in EVENTS.items() if on == topic}


def test_submissions_are_handled_and_bad_ones_answered() -> None:
    subs = {s.topic: s for s in subscriptions(Runtime("intake"))}
    submissions = subs[Topic.CASE_SUBMISSIONS]
    assert set(submissions.handlers) == {"case.submitted"}
    assert submissions.on_invalid is not None
