"""The delivery loop: lease due deliveries, up to each channel's free slots, and send each in
its own task, so a slow or failing channel never holds up the others. A slot is a send the
channel has not answered yet (`NOTIFY_CONCURRENCY` is how hard notify presses a relay or
gateway): it is free again once the channel answers, while the outcome is being recorded,
with at most as many again recording at once. Looks again (a lease and the next due time)
when a delivery is planned (LISTEN), when the next one falls due, and when a send frees a
slot or finishes if that may have left work: a channel was full, or the send is to be
retried. A send that simply went out changes nothing to look at."""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from oncoroute_shared.db.wakeup import Wakeup
from oncoroute_shared.runtime import Runtime, database_url

from ..adapters import deliveries
from ..adapters.channels import Channel, build_channels
from ..adapters.templates import Renderer
from ..handlers import Deps
from ..handlers.deliver import deliver
from ..handlers.outcomes import Outcomes

log = logging.getLogger("oncoroute.notify.worker")
IDLE_S = 5.0


def lease_for(channel: Channel) -> timedelta:
    """Longer than a send can take (it is cut off at timeout + 5 s), so no two workers send
    the same row; short enough that a crashed worker's rows go again soon."""
    return timedelta(seconds=channel.timeout_s * 2 + 5)


class Dispatcher:
    def __init__(self, pool: asyncpg.Pool, channels: dict[str, Channel], renderer: Renderer,
                 deps: Deps, concurrency: int,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 rng: random.Random | None = None) -> None:
        self._pool, self._channels, self._renderer = pool, channels, renderer
        self._outcomes = Outcomes(pool)
        self._deps, self._slots, self._clock = deps, concurrency, clock
        self._rng = rng or random.Random()
        self._inflight: dict[str, set[asyncio.Task[None]]] = {c: set() for c in channels}
        self._sending = dict.fromkeys(channels, 0)  # sends the channel has not answered yet
        self.wake = asyncio.Event()  # a send finished
        self._full: set[str] = set()  # channels that may have due rows left unleased
        self._recheck = False  # a finished send left something to look at
        self.passes = 0  # leases and next-due lookups done (the loop's database work)
        self.idle = asyncio.Event()  # the loop waits with nothing left to look at

    def _free(self, channel: str) -> int:
        return min(self._slots - self._sending[channel],
                   2 * self._slots - len(self._inflight[channel]))

    async def dispatch_due(self) -> None:
        """Lease what is due on every channel with a free slot, in one statement."""
        free = {name: self._free(name) for name in self._channels if self._free(name) > 0}
        self._full = {name for name in self._channels if name not in free}
        if not free:
            return
        async with self._pool.acquire() as conn:
            rows = await deliveries.lease_due(
                conn, free, self._clock(),
                {name: lease_for(self._channels[name]) for name in free})
        for name, slots in free.items():
            if sum(row["channel"] == name for row in rows) >= slots:
                self._full.add(name)  # more may be due than it had slots for
        for row in rows:
            name = row["channel"]
            self._sending[name] += 1
            task = asyncio.create_task(self._send(row, name))
            self._inflight[name].add(task)
            task.add_done_callback(functools.partial(self._done, name))

    async def _send(self, row: dict[str, Any], name: str) -> None:
        decision = None
        answered = False

        def free_slot() -> None:
            nonlocal answered
            if not answered:
                answered = True
                self._sending[name] -= 1
                if name in self._full:  # its next due row can go now
                    self._recheck = True
                    self.wake.set()

        try:
            decision = await deliver(self._outcomes, row, self._channels[name], self._renderer,
                                     self._deps, self._rng, self._clock, answered=free_slot)
        except asyncpg.PostgresError as exc:  # the lease runs out and the row is tried again
            log.warning("delivery %s not recorded: %s", row["delivery_id"], type(exc).__name__)
        except (OSError, asyncpg.InterfaceError) as exc:
            log.warning("delivery %s not recorded: %s", row["delivery_id"], type(exc).__name__)
        finally:
            free_slot()
            if decision is None or decision.status != "sent":
                self._recheck = True  # to be retried, or not recorded: look again

    def _done(self, channel: str, task: asyncio.Task[None]) -> None:
        self._inflight[channel].discard(task)
        failed = not task.cancelled() and task.exception() is not None
        if failed:  # a bug in a channel or the recording: say so, then look again
            log.error("a %s delivery task failed: %s", channel,
                      type(task.exception()).__name__)
        if channel in self._full or task.cancelled() or failed:
            self._recheck = True
        self.wake.set()

    async def seconds_to_next(self) -> float:
        free = [c for c in self._channels if self._free(c) > 0]
        if not free:
            return IDLE_S  # a finishing send wakes us
        async with self._pool.acquire() as conn:
            due = await deliveries.next_due(conn, free)
        if due is None:
            return IDLE_S
        return min(IDLE_S, max(0.0, (due - self._clock()).total_seconds()))

    async def _look(self) -> float:
        """Lease what is due and find when to look next: the monotonic deadline."""
        self.passes += 1
        self.wake.clear()
        self._recheck = False
        await self.dispatch_due()
        return time.monotonic() + await self.seconds_to_next()

    async def _until_something_to_do(self, listen: Wakeup, deadline: float) -> None:
        """Wait for a planned delivery (NOTIFY), the deadline, or a finished send that left
        something to look at; finished sends that simply went out are passed over."""
        while True:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                return
            if self.wake.is_set():
                self.wake.clear()
                if self._recheck:
                    return
                continue
            self.idle.set()
            notified = asyncio.ensure_future(listen.wait(timeout))
            finished = asyncio.ensure_future(self.wake.wait())
            woken: object = None
            try:
                done, _ = await asyncio.wait({notified, finished},
                                             return_when=asyncio.FIRST_COMPLETED)
            finally:
                self.idle.clear()
                for task in (notified, finished):
                    task.cancel()
                woken = (await asyncio.gather(notified, finished, return_exceptions=True))[0]
            # A NOTIFY in the same moment as a finished send: the cancelled wait may still
            # have seen it (and used it up); passing it over slept until the next timed look
            if notified in done or woken is True:
                return  # a delivery was planned, or the next one is due

    async def run(self, dsn: str | None = None) -> None:
        """Deliver until cancelled. `dsn` opens the LISTEN connection (None: no LISTEN)."""
        listen = Wakeup(dsn, "notify_deliveries")
        try:
            while True:
                try:
                    deadline = await self._look()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("delivery loop retrying after %s", type(exc).__name__)
                    await asyncio.sleep(1.0)
                    continue
                await self._until_something_to_do(listen, deadline)
        finally:
            try:
                await self.drain()
            finally:
                await listen.close()

    async def drain(self) -> None:
        """Let sends in flight finish (on shutdown), then close the channels."""
        pending = [t for tasks in self._inflight.values() for t in tasks]
        if pending:
            await asyncio.wait(pending, timeout=10)
        for channel in self._channels.values():
            await channel.close()


def delivery_loop(runtime: Runtime):  # type: ignore[no-untyped-def]
    async def run() -> None:
        dispatcher = Dispatcher(runtime.db(), build_channels(runtime.settings), Renderer(),
                                runtime.state["deps"], runtime.settings.notify_concurrency)
        await dispatcher.run(database_url(runtime.settings))

    run.__name__ = "delivery_loop"
    return run
