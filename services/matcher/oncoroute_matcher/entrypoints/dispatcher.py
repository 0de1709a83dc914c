"""The waiting queue's worker: offers waiting seats, best first, in every matcher process.

Woken by NOTIFY on commit (a case opened, capacity freed, the roster changed), when an
absence ends, and at least every `retry_every`. Seats are served fast-progressing first,
then by deadline, then by age; processes skip cases another one holds (SKIP LOCKED).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg

from oncoroute_shared.db.wakeup import Wakeup

from ..adapters import roster, seats
from ..domain.panel import MatchingConfig
from ..handlers.dispatch import Outcome, dispatch_seats

log = logging.getLogger("oncoroute.matcher.dispatcher")
BATCH = 500
GROUP = 16  # seats offered per transaction


class Dispatcher:
    def __init__(self, pool: Callable[[], asyncpg.Pool], cfg: Callable[[], MatchingConfig],
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), *,
                 dsn: Callable[[], str] | None = None) -> None:
        self._pool, self._cfg, self._clock, self._dsn = pool, cfg, clock, dsn
        self._wakeup: Wakeup | None = None
        self._early = False
        self.offered = 0

    def wake(self, *_: object) -> None:
        if self._wakeup is not None:
            self._wakeup.set()
        else:
            self._early = True

    async def sweep(self) -> tuple[int, int]:
        """Try every waiting seat once, best first; (offered, busy)."""
        offered = busy = 0
        offset = 0  # the seats at the head of the queue this sweep tried and left waiting
        while True:
            async with self._pool().acquire() as conn:
                batch = await seats.waiting(conn, BATCH + offset)
            batch = batch[offset:]
            now_offered = 0
            for start in range(0, len(batch), GROUP):
                for outcome in await self._dispatch_group(batch[start:start + GROUP]):
                    now_offered += outcome is Outcome.OFFERED
                    busy += outcome is Outcome.BUSY
            offered += now_offered
            if len(batch) < BATCH:
                break
            offset += len(batch) - now_offered
        self.offered += offered
        return offered, busy

    async def _dispatch_group(self, rows: list[asyncpg.Record]) -> list[Outcome]:
        """Seats in queue order, in one transaction (one commit for up to GROUP offers); if
        any seat fails, the group is rolled back and each seat tried in its own."""
        try:
            async with self._pool().acquire() as conn, conn.transaction():
                return await dispatch_seats(conn, [(row["case_id"], row["seat"]) for row in rows],
                                            self._cfg(), self._clock())
        except (asyncpg.PostgresConnectionError, OSError):
            raise  # the database is away: the loop retries the whole sweep
        except Exception as exc:  # one seat must not hold up the queue
            if len(rows) > 1:
                return [outcome for row in rows for outcome in await self._dispatch_group([row])]
            log.warning("case %s seat %s not dispatched: %s", rows[0]["case_id"],
                        rows[0]["seat"], type(exc).__name__)
            return [Outcome.SKIPPED]  # retried after retry_every

    async def _pause(self, busy: int) -> float:
        """Until the next retry: soon when another process held a case, else when the next
        absence ends or after `retry_every`."""
        if busy:
            return 0.2
        now = self._clock()
        wait = self._cfg().retry_every
        async with self._pool().acquire() as conn:
            ends = await roster.next_absence_end(conn, now)
        if ends is not None:
            wait = min(wait, ends - now + timedelta(milliseconds=50))
        return max(wait.total_seconds(), 0.05)

    async def run(self) -> None:
        async with self._pool().acquire() as conn:
            schema = await conn.fetchval("SELECT current_schema()")
        self._wakeup = Wakeup(self._dsn() if self._dsn else None, f"{schema}_dispatch")
        if self._early:
            self._wakeup.set()
        try:
            while True:
                try:
                    _, busy = await self.sweep()
                    pause = await self._pause(busy)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # database away, or a seat failed: retry, lose nothing
                    log.warning("dispatcher retrying after %s", type(exc).__name__)
                    await asyncio.sleep(1.0)
                    continue
                await self._wakeup.wait(pause)
        finally:
            await self._wakeup.close()
