"""The board's stream: a snapshot at once, then only snapshots that changed, a heartbeat when
nothing moved, and the version moving by time alone (clocks turn at risk with no write)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from oncoroute_sla.entrypoints.board_feed import BoardChanges, encode, sse, stream

pytestmark = pytest.mark.unit
NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@contextlib.asynccontextmanager
async def moving(refresh_s: float) -> AsyncIterator[BoardChanges]:
    changes = BoardChanges("sla", refresh_s=refresh_s)
    task = asyncio.create_task(changes.run(None))  # no database: the version moves by time
    try:
        yield changes
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def event(chunk: str) -> tuple[str, dict[str, object]]:
    head, data = chunk.strip().split("\n")
    return head.removeprefix("event: "), json.loads(data.removeprefix("data: "))


async def test_only_changed_snapshots_are_sent_and_each_carries_the_server_time() -> None:
    states = iter(["on_track"] * 4 + ["at_risk"] * 100)

    async def build() -> str:
        return encode({"cases": [{"case_id": "c1", "state": next(states), "at": NOW}]})

    async with moving(0.01) as changes:
        frames = stream(changes, build, lambda: NOW, heartbeat_s=5, min_gap_s=0)
        assert await anext(frames) == "retry: 2000\n\n"
        kind, first = event(await anext(frames))
        assert kind == "snapshot" and first["server_time"] == NOW.isoformat()
        assert first["cases"] == [{"case_id": "c1", "state": "on_track", "at": NOW.isoformat()}]
        kind, second = event(await asyncio.wait_for(anext(frames), 5))
        assert kind == "snapshot"  # the three unchanged builds in between sent nothing
        assert second["cases"][0]["state"] == "at_risk"  # type: ignore[index]


async def test_a_quiet_board_sends_heartbeats() -> None:
    async def build() -> str:
        return encode({"cases": []})

    changes = BoardChanges("sla", refresh_s=3600)  # never moves during this test
    frames = stream(changes, build, lambda: NOW, heartbeat_s=0.05, min_gap_s=0)
    await anext(frames)
    assert event(await anext(frames))[0] == "snapshot"
    assert await asyncio.wait_for(anext(frames), 5) == sse("heartbeat", "{}")
    assert await asyncio.wait_for(anext(frames), 5) == sse("heartbeat", "{}")


async def test_the_version_moves_by_time_without_any_notification() -> None:
    async with moving(0.02) as changes:
        start = changes.version
        moved = await changes.after(start, timeout=5)
        assert moved > start


def test_snapshots_encode_times_and_refuse_what_they_cannot() -> None:
    assert encode({"b": 1, "a": NOW}) == '{"a":"2026-03-01T09:30:00+00:00","b":1}'
    with pytest.raises(TypeError):
        encode({"a": object()})


async def test_a_busy_board_sends_at_most_one_snapshot_per_gap() -> None:
    counter = iter(range(1000))

    async def build() -> str:  # every build differs: a busy system
        return encode({"n": next(counter)})

    async with moving(0.001) as changes:
        frames = stream(changes, build, lambda: NOW, heartbeat_s=5, min_gap_s=0.2)
        await anext(frames)
        sent = []
        for _ in range(3):
            assert event(await asyncio.wait_for(anext(frames), 5))[0] == "snapshot"
            sent.append(time.monotonic())
        assert all(b - a >= 0.19 for a, b in zip(sent, sent[1:], strict=False)), sent


async def test_heartbeats_arrive_while_the_version_moves_but_nothing_changes() -> None:
    """The version moves every refresh whatever happened; a quiet board must still send
    heartbeats, or the page would take the silence for a dead stream."""
    async def build() -> str:
        return encode({"cases": []})

    async with moving(0.01) as changes:
        frames = stream(changes, build, lambda: NOW, heartbeat_s=0.1, min_gap_s=0)
        await anext(frames)
        assert event(await anext(frames))[0] == "snapshot"
        assert await asyncio.wait_for(anext(frames), 5) == sse("heartbeat", "{}")


async def test_the_stream_ends_when_the_server_is_stopping() -> None:
    stopping = False

    async def build() -> str:
        return encode({"cases": []})

    async with moving(0.01) as changes:
        frames = stream(changes, build, lambda: NOW, lambda: stopping, heartbeat_s=5,
                        min_gap_s=0)
        await anext(frames)
        assert event(await anext(frames))[0] == "snapshot"
        stopping = True
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(anext(frames), 5)
