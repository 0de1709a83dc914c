"""Notify's delivery loop statements against a large deliveries table: the lease of due rows
and the next wake-up, as they are now and as they were before 2026-11-22 (one lease per
channel, statuses passed as a parameter, the next wake-up an aggregate over every row
waiting), on the real embedded PostgreSQL.

The loop runs both after every send, so their cost multiplies by the sends per second; rows
held for quiet hours (patients' messages overnight) are what the old next wake-up read.

    .venv/bin/python bench/notify_leases.py --rows 200000 --held 20000
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).parent))
from _system import embedded_stack  # noqa: E402

from oncoroute_notify.adapters import deliveries  # noqa: E402
from oncoroute_notify.bootstrap import MIGRATIONS_DIR  # noqa: E402
from oncoroute_shared.db.migrations import migrate  # noqa: E402

CHANNELS = ["email", "sms", "webhook"]
DUE = ["pending", "retrying", "deferred"]
OLD_NEXT = """SELECT min(GREATEST(due_at, COALESCE(lease_until, due_at))) FROM deliveries
              WHERE status = ANY($1::text[]) AND channel = ANY($2::text[])"""
OLD_LEASE = """UPDATE deliveries d SET lease_until = $3, lease_token = $4, attempts = attempts + 1
               WHERE d.delivery_id IN (
                   SELECT delivery_id FROM deliveries
                   WHERE channel = $1 AND status = ANY($5::text[]) AND due_at <= $2
                     AND (lease_until IS NULL OR lease_until <= $2)
                   ORDER BY due_at LIMIT $6 FOR UPDATE SKIP LOCKED)
               RETURNING d.*"""


async def seed(conn: asyncpg.Connection, rows: int, held: int) -> None:
    """`rows` deliveries, `held` of them deferred to tomorrow morning, the rest sent."""
    await conn.execute(
        """INSERT INTO deliveries (delivery_id, source_event_id, case_id, audience, channel,
               recipient, template, context, status, due_at, created_at)
           SELECT g::text, g::text, 'case-' || g / 3, 'patient', ($3::text[])[1 + g % 3], 'r',
                  't', '{}', CASE WHEN g <= $2 THEN 'deferred' ELSE 'sent' END,
                  now() + CASE WHEN g <= $2 THEN interval '8 hours' ELSE -interval '1 hour' END,
                  now()
           FROM generate_series(1, $1) AS g""", rows, held, CHANNELS)
    await conn.execute("ANALYZE deliveries")


async def per_call_ms(call: Any, n: int) -> float:
    await call()  # prepared, planned
    start = time.perf_counter()
    for _ in range(n):
        await call()
    return (time.perf_counter() - start) * 1000 / n


async def measure(url: str, rows: int, held: int, n: int) -> dict[str, float]:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE SCHEMA bench_notify; SET search_path TO bench_notify")
        await migrate(conn, "bench_notify", MIGRATIONS_DIR)
        await seed(conn, rows, held)
        now = datetime.now(UTC)
        lease = timedelta(seconds=30)

        async def old_lease() -> None:  # one short transaction per channel
            for channel in CHANNELS:
                async with conn.transaction():
                    await conn.fetch(OLD_LEASE, channel, now, now + lease, "t", DUE, 4)

        async def old_next() -> None:
            await conn.fetchval(OLD_NEXT, DUE, CHANNELS)

        async def new_lease() -> None:
            await deliveries.lease_due(conn, dict.fromkeys(CHANNELS, 4), now,
                                       dict.fromkeys(CHANNELS, lease))

        async def new_next() -> None:
            await deliveries.next_due(conn, CHANNELS)

        result = {"rows": rows, "held": held}
        for name, call in (("lease, before", old_lease), ("next wake-up, before", old_next),
                           ("lease, now", new_lease), ("next wake-up, now", new_next)):
            result[name] = round(await per_call_ms(call, n), 3)
        await conn.execute("SET plan_cache_mode = force_generic_plan")  # what PG may choose
        result["next wake-up, before, generic plan"] = round(await per_call_ms(old_next, n), 3)
        result["next wake-up, now, generic plan"] = round(await per_call_ms(new_next, n), 3)
        return result
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000, help="deliveries on record")
    parser.add_argument("--held", type=int, default=20_000, help="of them held to tomorrow")
    parser.add_argument("--calls", type=int, default=50, help="timed calls per statement")
    args = parser.parse_args()
    with embedded_stack() as infra:
        result = asyncio.run(measure(infra.database_url or "", args.rows, args.held,
                                     args.calls))
    print(f"{result.pop('rows')} deliveries, {result.pop('held')} held; ms per loop pass:")
    for name, ms in result.items():
        print(f"  {name:40} {ms:8.3f}")


if __name__ == "__main__":
    main()
