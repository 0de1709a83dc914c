"""The one place in the system that keeps timers: sleep until the next due time, wake early
when an earlier one is armed (LISTEN/NOTIFY), fire due timers in batches.

No coarse polling: the loop sleeps exactly until the soonest timer, by the database's clock.
A long safety wake-up (`safety_wake_s`) only covers a lost notification; a short re-check
covers due timers another process has claimed but may die holding. The LISTEN connection is
its own (`Wakeup`), reopened after a database restart, and re-checks at once when it is.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable

import asyncpg

from oncoroute_shared.db.wakeup import Wakeup
from oncoroute_shared.metrics import (
    SLA_BREACHES,
    SLA_ESCALATIONS,
    SLA_FIRING_LATENESS,
    SLA_WARNINGS,
)

from ..adapters import timers
from ..handlers.firing import Announced, Batch

log = logging.getLogger("oncoroute.sla.timers")

FireBatch = Callable[[asyncpg.Connection, int], Awaitable[Batch]]


class TimerLoop:
    def __init__(self, pool: asyncpg.Pool, fire: FireBatch, channel: str, dsn: str | None, *,
                 batch_size: int = 500, safety_wake_s: float = 30.0,
                 peer_recheck_s: float = 0.5) -> None:
        self._pool = pool
        self._fire = fire
        self._batch = batch_size
        self._safety = safety_wake_s
        self._peer_recheck = peer_recheck_s
        self._wakeup = Wakeup(dsn, channel, wanted=self.earlier)
        self._sleeping_until: float | None = None  # epoch; None: any arming wakes us
        self.fired = 0

    def earlier(self, payload: str) -> bool:
        """A NOTIFY payload is the soonest due time armed (epoch): wake only if it is earlier
        than the time we sleep until."""
        try:
            due = float(payload)
        except ValueError:
            return True
        return self._sleeping_until is None or due < self._sleeping_until

    async def run(self) -> None:
        try:
            while True:
                try:
                    await self.step()
                except Exception as exc:  # never let the loop die
                    # The database is away (or a bug): nothing is lost, the timers stay due.
                    log.warning("timer loop retrying after %s", type(exc).__name__,
                                exc_info=not isinstance(exc, OSError | asyncpg.PostgresError))
                    await asyncio.sleep(1.0)
        finally:
            await self._wakeup.close()

    async def step(self) -> None:
        """Fire everything due now, then sleep until the next due time or an earlier arming."""
        self._sleeping_until = None
        self._wakeup.clear()
        while await self.fire_once() == self._batch:
            pass
        async with self._pool.acquire() as conn:
            nxt = await timers.next_due(conn)
        self._sleeping_until = nxt.due_epoch if nxt.due_epoch is not None else float("inf")
        wait = self._safety if nxt.wait_s is None else min(max(nxt.wait_s, 0.0), self._safety)
        if nxt.busy_elsewhere:
            wait = min(wait, self._peer_recheck)
        if self._wakeup.is_set() or wait <= 0:
            return
        await self._wakeup.wait(wait + 0.001)

    async def fire_once(self) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            batch = await self._fire(conn, self._batch)
        for timer in batch.due:
            SLA_FIRING_LATENESS.observe(max((timer.fired_at - timer.due_at).total_seconds(), 0))
        for announced in batch.announced:
            count(announced)
        if batch.due:
            late = max(batch.due, key=lambda t: t.fired_at - t.due_at)
            lag = (late.fired_at - late.due_at).total_seconds()
            kinds = Counter(a.event_type for a in batch.announced)
            log.log(logging.WARNING if lag > 5 else logging.DEBUG,
                    "fired %d timers (%s); latest %.3fs late", len(batch.due), dict(kinds), lag)
        self.fired += len(batch.due)
        return len(batch.due)


def count(a: Announced) -> None:
    group = a.tumor_group or "unclassified"
    if a.event_type == "sla.warning":
        SLA_WARNINGS.labels(a.step.tier, group).inc()
    elif a.event_type == "sla.escalated":
        SLA_ESCALATIONS.labels(a.step.tier, a.step.level or "").inc()
    elif a.event_type == "sla.breached":
        SLA_BREACHES.labels(a.step.tier, group).inc()
