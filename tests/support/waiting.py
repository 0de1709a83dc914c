"""Poll for a condition with a deadline: the only way tests wait."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T | None]], *, timeout: float = 60,
                     interval: float = 0.2, what: str = "condition") -> T:
    """Await `probe` until it returns something truthy; fail naming `what` at the deadline,
    also when a probe is still waiting then (it is cancelled, and named as the last result)."""
    end = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < end:
        try:
            result = await asyncio.wait_for(probe(), max(end - time.monotonic(), 0.01))
        except TimeoutError as exc:  # the deadline, or the probe's own timeout: try again
            last = "a probe still waiting at the deadline" if time.monotonic() >= end else exc
        except Exception as exc:  # a service may still be starting
            last = exc
        else:
            if result:
                return result
            last = result
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
