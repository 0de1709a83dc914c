"""The wakeup a loop sleeps on: a cancellation (shutdown) is never lost, even when it
arrives in the same loop turn as the wakeup itself. On Python 3.11 `asyncio.wait_for`
returns the awaited result in that case and the cancelled loop sleeps on (CPython gh-86296);
seen as a test teardown that hung on the sla timer loop after a database restart."""

from __future__ import annotations

import asyncio

from oncoroute_shared.db.wakeup import Wakeup


async def test_a_cancellation_that_arrives_with_a_wakeup_stops_the_loop() -> None:
    wakeup = Wakeup(None, "unit")  # no database: woken by set() and timeouts only
    rounds = 0
    asleep = asyncio.Event()

    async def loop() -> None:
        nonlocal rounds
        while True:
            rounds += 1
            asleep.set()
            await wakeup.wait(3600)

    task = asyncio.create_task(loop())
    await asleep.wait()  # resumed once the loop has gone to sleep in wait()
    wakeup.set()
    task.cancel()  # the same turn: a NOTIFY and the shutdown together
    done, _ = await asyncio.wait({task}, timeout=5)
    if not done:
        task.cancel()
        await asyncio.wait({task}, timeout=5)
    assert done == {task} and task.cancelled(), f"the loop went on to round {rounds}"


async def test_a_wakeup_wakes_and_a_timeout_does_not() -> None:
    wakeup = Wakeup(None, "unit")
    assert await wakeup.wait(0.01) is False
    wakeup.set()
    assert await wakeup.wait(3600) is True
    assert not wakeup.is_set()  # cleared after each wait: the next one sleeps again
