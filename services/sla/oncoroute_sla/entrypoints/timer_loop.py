"""The one place in the system that keeps timers: sleep until the next due time, wake early
when an earlier one is armed (LISTEN/NOTIFY), fire due timers in batches.

No coarse polling: the loop sleeps exactly until the soonest timer, by the database's clock.
A long safety wake-up (`safety_wake_s`) only covers a lost notification; a short re-check
covers due timers another process has claimed but may die holding.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable

import asyncpg
from prometheus_client import Counter as Metric
from prometheus_client import Histogram

from ..adapters import timers
from ..domain.firing import DueTimer

log = logging.getLogger("oncoroute.sla.timers")

FIRED = Metric("oncoroute_sla_timers_fired_total", "Timers fired, by event type", ["event"])
LATENESS = Histogram("oncoroute_sla_timer_lateness_seconds", "How late timers fired",
                     buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 30, 300, 3600))

FireBatch = Callable[[asyncpg.Connection, int], Awaitable[tuple[list[DueTimer], Counter[str]]]]


class TimerLoop:
    def __init__(self, pool: asyncpg.Pool, fire: FireBatch, channel: str, *,
                 batch_size: int = 500, safety_wake_s: float = 30.0,
                 peer_recheck_s: float = 0.5) -> None:
        self._pool = pool
        self._fire = fire
        self._channel = channel
        self._batch = batch_size
        self._safety = safety_wake_s
        self._peer_recheck = peer_recheck_s
        self._wake = asyncio.Event()
        self._sleeping_until: float | None = None  # epoch; None: any arming wakes us
        self.fired = 0

    def on_armed(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            due = float(payload)
        except ValueError:
            due = 0.0
        if self._sleeping_until is None or due < self._sleeping_until:
            self._wake.set()

    async def run(self) -> None:
        listener: asyncpg.Connection | None = None
        while True:
            try:
                if listener is None or listener.is_closed():
                    listener = await self._pool.acquire()
                    await listener.add_listener(self._channel, self.on_armed)
                await self.step()
            except asyncio.CancelledError:
                if listener is not None and not listener.is_closed():
                    await listener.remove_listener(self._channel, self.on_armed)
                    await self._pool.release(listener)
                raise
            except Exception as exc:  # database away: nothing is lost, timers stay due
                log.warning("timer loop retrying after %s", type(exc).__name__)
                if listener is not None:
                    listener.terminate()
                    listener = None
                await asyncio.sleep(1.0)

    async def step(self) -> None:
        """Fire everything due now, then sleep until the next due time or an earlier arming."""
        self._sleeping_until = None
        self._wake.clear()
        while await self.fire_once() == self._batch:
            pass
        async with self._pool.acquire() as conn:
            nxt = await timers.next_due(conn)
        self._sleeping_until = nxt.due_epoch if nxt.due_epoch is not None else float("inf")
        wait = self._safety if nxt.wait_s is None else min(max(nxt.wait_s, 0.0), self._safety)
        if nxt.busy_elsewhere:
            wait = min(wait, self._peer_recheck)
        if self._wake.is_set() or wait <= 0:
            return
        try:
            await asyncio.wait_for(self._wake.wait(), wait + 0.001)
        except TimeoutError:
            pass

    async def fire_once(self) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            due, emitted = await self._fire(conn, self._batch)
        for timer in due:
            LATENESS.observe(max((timer.fired_at - timer.due_at).total_seconds(), 0.0))
        for event, n in emitted.items():
            FIRED.labels(event).inc(n)
        if due:
            late = max(due, key=lambda t: t.fired_at - t.due_at)
            lag = (late.fired_at - late.due_at).total_seconds()
            log.log(logging.WARNING if lag > 5 else logging.DEBUG,
                    "fired %d timers (%s); latest %.3fs late", len(due), dict(emitted), lag)
        self.fired += len(due)
        return len(due)
