"""The sla service's side of bench/sla_timers.py: arm through the adapters the handlers use,
fire with the service's own TimerLoop and fire_due (the code `oncoroute run sla` runs)."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from oncoroute_shared.db.migrations import migrate
from oncoroute_shared.db.pool import create_pool
from oncoroute_sla.adapters import clocks, timers
from oncoroute_sla.bootstrap import SPEC
from oncoroute_sla.domain.clock import open_clock
from oncoroute_sla.domain.policy import SlaPolicy
from oncoroute_sla.domain.schedule import Step
from oncoroute_sla.entrypoints.timer_loop import TimerLoop
from oncoroute_sla.handlers.firing import Batch, fire_due

POLICY = SlaPolicy()
FAR_STEPS = ("warning:0.5", "warning:0.75", "escalation:1", "escalation:2", "breach")
WORKERS = 8
LEAD_S = 20.0  # the burst falls due this long after arming it began


def rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the
    parent across fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def percentiles(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": cuts[49], "p99": cuts[98], "max": max(values)}


async def _arm(dsn: str, schema: str, n: int, burst: int) -> dict[str, Any]:
    pool = await create_pool(dsn, schema, WORKERS)
    try:
        async with pool.acquire() as conn:
            await migrate(conn, schema, SPEC.migrations)
        now: datetime = await pool.fetchval("SELECT clock_timestamp()")
        far = n - burst
        rng = random.Random(7)
        plan: list[tuple[str, list[Step]]] = []
        for i in range(0, far, len(FAR_STEPS)):
            names = FAR_STEPS[: min(len(FAR_STEPS), far - i)]
            plan.append((f"far-{i}", [Step(s, now + timedelta(days=rng.uniform(2, 30)))
                                      for s in names]))
        started = time.monotonic()
        await _arm_clocks(pool, plan, now)
        due = await pool.fetchval("SELECT clock_timestamp()") + timedelta(seconds=LEAD_S)
        await _arm_clocks(pool, [(f"burst-{j}", [Step("breach", due + timedelta(
            seconds=j / burst))]) for j in range(burst)], now)
        seconds = time.monotonic() - started
        return {"rate": n / seconds, "arming_seconds": seconds, "due_at": due.timestamp()}
    finally:
        await pool.close()


async def _arm_clocks(pool: asyncpg.Pool, plan: list[tuple[str, list[Step]]],
                      now: datetime) -> None:
    """One transaction per clock, as the sla handlers arm a case's ladder."""
    async def worker(share: list[tuple[str, list[Step]]]) -> None:
        async with pool.acquire() as conn:
            for case_id, steps in share:
                async with conn.transaction():
                    await clocks.insert(conn, open_clock(POLICY, case_id, "standard", "breast",
                                                         "ready", now))
                    await timers.arm(conn, case_id, steps)

    await asyncio.gather(*(worker(plan[w::WORKERS]) for w in range(WORKERS)))


def ours_arm(dsn: str, schema: str, n: int, burst: int) -> dict[str, Any]:
    return asyncio.run(_arm(dsn, schema, n, burst))


async def _fire(dsn: str, schema: str, burst: int, due_at: float) -> dict[str, Any]:
    pool = await create_pool(dsn, schema, 4)
    try:
        async def fire(conn: asyncpg.Connection, limit: int) -> Batch:
            return await fire_due(conn, POLICY, limit)

        loop = TimerLoop(pool, fire, f"{schema}_timers", dsn)
        task = asyncio.create_task(loop.run())
        ready_rss, ready_in_time = rss_mb(), time.time() < due_at
        while loop.fired < burst:  # counted after each commit  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        late = [r["late"] for r in await pool.fetch(
            "SELECT extract(epoch FROM fired_at - due_at)::float8 AS late FROM timers"
            " WHERE fired_at IS NOT NULL")]
        events = await pool.fetchval("SELECT count(*) FROM outbox")
        assert len(late) == burst and events >= burst, (len(late), events)
        return {**percentiles(late), "peak_rss_mb": rss_mb(), "ready_rss_mb": ready_rss,
                "ready_before_due": ready_in_time}
    finally:
        await pool.close()


def ours_fire_child(dsn: str, schema: str, burst: int, due_at: float) -> dict[str, Any]:
    return asyncio.run(_fire(dsn, schema, burst, due_at))
