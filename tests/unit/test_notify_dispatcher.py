"""The delivery loop does not pass over a NOTIFY that came in the same moment as a finished
send (it then slept until its next timed look, IDLE_S later: a delivery 5 s late)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from oncoroute_notify.entrypoints.worker import Dispatcher

pytestmark = pytest.mark.unit


class _SeenAsItWasCancelled:
    """A LISTEN wait during which a send finishes, and which the NOTIFY reaches in the same
    moment as its cancellation: it ends with True, as `asyncio.wait_for` returns a result
    that is already there when it is cancelled."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    async def wait(self, timeout: float) -> bool:
        self.dispatcher.wake.set()  # a send finishes as the loop starts waiting
        try:
            await asyncio.sleep(timeout)
        except asyncio.CancelledError:
            return True
        return False


async def test_a_notify_seen_by_a_cancelled_wait_still_wakes_the_loop() -> None:
    none: Any = None
    dispatcher = Dispatcher(none, {}, none, none, concurrency=1)
    listen: Any = _SeenAsItWasCancelled(dispatcher)
    await asyncio.wait_for(  # without the fix it waits for the deadline, a minute away
        dispatcher._until_something_to_do(listen, time.monotonic() + 60), 10)
