"""The tests' only way to wait keeps its deadline, even when a probe never answers."""

from __future__ import annotations

import asyncio

import pytest

from ..support.waiting import eventually

pytestmark = pytest.mark.unit


async def test_a_probe_that_never_answers_fails_at_the_deadline_and_says_so() -> None:
    async def hangs() -> bool:
        await asyncio.Event().wait()
        return True

    with pytest.raises(AssertionError, match="a probe still waiting at the deadline"):
        await eventually(hangs, timeout=0.3, what="an answer")


async def test_a_probe_s_own_timeout_is_retried_like_any_other_error() -> None:
    calls = 0

    async def slow_then_ready() -> bool:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise TimeoutError("its own")
        return True

    assert await eventually(slow_then_ready, timeout=10, interval=0.01) is True
    assert calls == 3
