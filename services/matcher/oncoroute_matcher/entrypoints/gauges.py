"""Queue and workload gauges for /metrics, refreshed from the matcher's tables.

Only one matcher process publishes them at a time (an advisory lock), so sums across
processes stay right; the others' gauges are cleared.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncpg

from oncoroute_shared.metrics import OLDEST_UNMATCHED_SEAT, REVIEWER_UTILISATION, UNMATCHED_SEATS

from ..adapters import seats

log = logging.getLogger("oncoroute.matcher.gauges")
LOCK_KEY = 0x6D617463_6867  # "matchg"
REFRESH_S = 5.0

WAITING = f"""SELECT c.tier, count(*) AS n,
       EXTRACT(EPOCH FROM clock_timestamp() - min(coalesce(s.unmatched_since, s.created_at)))
           AS oldest
  FROM seats s {seats.CASE_OF_SEAT}
 WHERE s.status = 'waiting' AND c.status = 'open' AND c.routable
 GROUP BY c.tier"""
WORKLOAD = """SELECT g AS tumor_group,
       sum(active_count)::float / nullif(sum(max_active), 0) AS ratio
  FROM specialists, unnest(tumor_groups) AS g WHERE active GROUP BY g"""


async def refresh(conn: asyncpg.Connection) -> None:
    UNMATCHED_SEATS.clear()
    OLDEST_UNMATCHED_SEAT.clear()
    REVIEWER_UTILISATION.clear()
    for row in await conn.fetch(WAITING):
        UNMATCHED_SEATS.labels(row["tier"]).set(row["n"])
        OLDEST_UNMATCHED_SEAT.labels(row["tier"]).set(float(row["oldest"] or 0))
    for row in await conn.fetch(WORKLOAD):
        REVIEWER_UTILISATION.labels(row["tumor_group"]).set(float(row["ratio"] or 0))


def gauges_loop(pool: Callable[[], asyncpg.Pool]):  # type: ignore[no-untyped-def]
    async def refresh_gauges() -> None:
        while True:
            try:
                async with pool().acquire() as conn, conn.transaction():
                    if await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", LOCK_KEY):
                        await refresh(conn)
                    else:
                        UNMATCHED_SEATS.clear()
                        OLDEST_UNMATCHED_SEAT.clear()
                        REVIEWER_UTILISATION.clear()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: keep the last values
                log.warning("gauges not refreshed: %s", type(exc).__name__)
            await asyncio.sleep(REFRESH_S)

    return refresh_gauges
