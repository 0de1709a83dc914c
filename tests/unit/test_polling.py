"""A batch subscriber waits for records in its poll only: it never sleeps after a poll that
waited and came back empty (FastStream's own step sleeps as long again, and a record arriving
meanwhile waits), and it never spins on a poll that comes back empty at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from oncoroute_shared.docs.generate import service_parts
from oncoroute_shared.messaging import polling
from oncoroute_shared.runtime import build_broker


class _Consumer:
    """Answers each poll with the next of `answers` after `waits_s` on a fake clock."""

    def __init__(self, clock: list[float], answers: list[dict[str, list[str]]],
                 waits_s: float) -> None:
        self.clock, self.answers, self.waits_s = clock, answers, waits_s
        self.polls: list[tuple[int, int | None]] = []

    async def getmany(self, *, timeout_ms: int, max_records: int | None) -> dict[str, list[str]]:
        self.polls.append((timeout_ms, max_records))
        self.clock[0] += self.waits_s
        return self.answers.pop(0)


class _Subscriber:
    batch_timeout_ms = 200
    max_records = 100


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> tuple[list[float], list[float]]:
    now, slept = [1000.0], []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(polling.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(polling.asyncio, "sleep", sleep)
    return now, slept


async def _poll(sub: Any, consumer: _Consumer) -> tuple[Any, ...]:
    result: tuple[Any, ...] = await sub.get_msg(consumer)
    return result


def test_an_empty_poll_that_waited_is_not_followed_by_a_sleep(clock: Any) -> None:
    now, slept = clock
    sub = _Subscriber()
    polling.poll_without_sleep(sub)
    consumer = _Consumer(now, [{}], waits_s=0.2)
    assert asyncio.run(_poll(sub, consumer)) == ()
    assert consumer.polls == [(200, 100)]
    assert slept == []


def test_records_are_returned_in_fetch_order_at_once(clock: Any) -> None:
    now, slept = clock
    sub = _Subscriber()
    polling.poll_without_sleep(sub)
    consumer = _Consumer(now, [{"cases-0": ["a", "b"], "cases-1": ["c"]}], waits_s=0.003)
    assert asyncio.run(_poll(sub, consumer)) == ("a", "b", "c")
    assert slept == []


def test_a_poll_that_comes_back_empty_at_once_waits_out_its_timeout(clock: Any) -> None:
    now, slept = clock
    sub = _Subscriber()
    polling.poll_without_sleep(sub)
    consumer = _Consumer(now, [{}], waits_s=0.0)  # e.g. between partition assignments
    assert asyncio.run(_poll(sub, consumer)) == ()
    assert slept == [pytest.approx(0.2)]


@pytest.mark.parametrize("service", ["intake", "matcher", "sla", "notify"])
def test_every_service_subscriber_polls_without_sleeping(service: str) -> None:
    spec, runtime, parts = service_parts()[service]
    broker = build_broker(spec, runtime, parts)
    assert broker.subscribers
    for sub in broker.subscribers:
        assert sub.get_msg.__module__ == polling.__name__
        assert sub.batch_timeout_ms == 200
