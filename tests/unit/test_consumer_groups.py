"""The consumer groups each service really joins: one for the topics on a case's way to its
reviewers (short fetches), one for those that are not (long fetches, batches)."""

from __future__ import annotations

from typing import Any

import pytest

from oncoroute_intake.entrypoints.kafka import TIMELINE_TOPICS
from oncoroute_shared.docs.generate import service_parts
from oncoroute_shared.runtime import BACKGROUND_FETCH_MIN_BYTES, build_broker
from oncoroute_shared.topics import Topic

URGENT_MS, BACKGROUND_MS = 20, 700


def groups(service: str) -> dict[str, tuple[set[str], dict[str, Any]]]:
    spec, runtime, parts = service_parts()[service]
    runtime.settings = runtime.settings.model_copy(update={
        "kafka_fetch_max_wait_ms": URGENT_MS,
        "kafka_background_fetch_max_wait_ms": BACKGROUND_MS})
    broker = build_broker(spec, runtime, parts)
    return {sub.group_id: ({t.name if hasattr(t, "name") else str(t) for t in sub.topics},
                           sub._connection_args) for sub in broker.subscribers}


def fetch(args: dict[str, Any]) -> tuple[int, int]:
    return args["fetch_max_wait_ms"], args["fetch_min_bytes"]


def test_intake_takes_submissions_at_once_and_the_timeline_in_batches() -> None:
    got = groups("intake")
    assert set(got) == {"oncoroute.intake", "oncoroute.intake.background"}
    topics, args = got["oncoroute.intake"]
    assert topics == {Topic.CASE_SUBMISSIONS.value}
    assert fetch(args) == (URGENT_MS, 1)
    topics, args = got["oncoroute.intake.background"]
    assert topics == {t.value for t in TIMELINE_TOPICS}  # other services' events
    assert Topic.CASE_SUBMISSIONS.value not in topics
    assert fetch(args) == (BACKGROUND_MS, BACKGROUND_FETCH_MIN_BYTES)


def test_sla_clocks_are_background_work() -> None:
    got = groups("sla")
    assert set(got) == {"oncoroute.sla.background"}
    assert fetch(got["oncoroute.sla.background"][1]) == (BACKGROUND_MS,
                                                          BACKGROUND_FETCH_MIN_BYTES)


@pytest.mark.parametrize("service", ["matcher", "notify"])
def test_the_matcher_and_notify_are_on_every_case_s_path(service: str) -> None:
    got = groups(service)
    assert set(got) == {f"oncoroute.{service}"}
    assert fetch(got[f"oncoroute.{service}"][1]) == (URGENT_MS, 1)
