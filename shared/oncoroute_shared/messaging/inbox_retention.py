"""Forget processed event ids once no copy of the event can come back.

The inbox recognises an event delivered again: after a crash before the offset commit, a
relay that published and died before its commit, or a consumer group reset to the start of a
topic. None of these can bring back an event older than the topics' retention (7 days in
`deploy/`), so an id kept longer (`INBOX_RETENTION_DAYS`, at least 8, default 14) guards
nothing and only grows the table: about thirty rows a case. Pruned once an hour, in batches,
so no statement holds many locks or runs long.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import asyncpg

log = logging.getLogger("oncoroute.inbox")
EVERY_S = 3600.0
BATCH = 5000


async def prune(pool: asyncpg.Pool, keep: timedelta, now: datetime, batch: int = BATCH) -> int:
    """Delete the ids processed before `now - keep`; returns how many."""
    removed = 0
    while True:
        n = await pool.fetchval(
            "WITH gone AS (DELETE FROM inbox WHERE ctid IN (SELECT ctid FROM inbox"
            " WHERE processed_at < $1 LIMIT $2) RETURNING 1) SELECT count(*) FROM gone",
            now - keep, batch)
        removed += n
        if n < batch:
            return removed


async def run(pool: asyncpg.Pool, keep: timedelta, every_s: float = EVERY_S) -> None:
    """Prune now and then every `every_s` until cancelled; a failure is retried next time."""
    while True:
        try:
            removed = await prune(pool, keep, datetime.now(UTC))
            if removed:
                log.info("inbox: forgot %d processed event ids older than %s", removed, keep)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database is away: the next round tries again
            log.warning("inbox pruning failed: %s", type(exc).__name__)
        await asyncio.sleep(every_s)
