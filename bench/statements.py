"""What PostgreSQL does for one case: statements and transactions per case at a fixed arrival
rate, from `pg_stat_statements`, all four services as processes on the embedded stack.

The counts vary less than timings on a shared machine but do vary: at a low rate most
batches hold one event, and how many hold more follows the machine's speed at the moment
(five runs at 50/s on 2026-12-07 gave 27.8-41.1 statements per case). They show what a
change to the statements of one event saved; compare what batching saves with CPU per case
flat out (`end_to_end.py`). At a low rate fixed costs per batch (transactions, wake-ups,
leases) show most.

    .venv/bin/python bench/statements.py --rate 20 --cases 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).parent))
from _system import embedded_stack, running_system  # noqa: E402
from end_to_end import settle  # noqa: E402
from throughput import submit_kafka, wait_done  # noqa: E402

TRACKING = ("shared_preload_libraries=pg_stat_statements", "pg_stat_statements.track=all")


async def measure(kafka: str, dsn: str, rate: float, cases: int, top: int,
                  preload: int, order: str) -> dict[str, Any]:
    db = await asyncpg.connect(dsn)
    try:
        await db.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        # plans cached, groups settled; `preload` cases flat out first: a record to grow on
        await submit_kafka(kafka, "statements-warm", 50 + preload, 0)
        await wait_done(dsn, "statements-warm", 50 + preload, 600)
        await settle(dsn)
        await db.execute("SELECT pg_stat_statements_reset()")
        start = time.time()
        await submit_kafka(kafka, "statements", cases, rate)
        await wait_done(dsn, "statements", cases, 600)
        elapsed = time.time() - start
        # top level only: a trigger's NOTIFY is part of the statement that fired it
        total = await db.fetchrow(
            "SELECT sum(calls) AS calls, sum(calls) FILTER (WHERE query = 'COMMIT') AS commits,"
            " sum(total_exec_time) AS ms FROM pg_stat_statements WHERE toplevel")
        rows = await db.fetch(
            "SELECT calls, total_exec_time, query FROM pg_stat_statements WHERE toplevel"
            f" ORDER BY {'calls' if order == 'calls' else 'total_exec_time'} DESC LIMIT $1",
            top)
    finally:
        await db.close()
    return {
        "rate": rate, "cases": cases, "preload": preload, "seconds": round(elapsed, 1),
        "statements_per_case": round(float(total["calls"]) / cases, 1),
        "explicit_transactions_per_case": round(float(total["commits"] or 0) / cases, 1),
        "statement_ms_per_case": round(float(total["ms"]) / cases, 2),
        "top": [{"per_case": round(r["calls"] / cases, 2),
                 "ms_each": round(r["total_exec_time"] / r["calls"], 3),
                 "statement": " ".join(r["query"].split())[:140]} for r in rows],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=20, help="cases/s (0: flat out)")
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--top", type=int, default=25, help="statements listed")
    parser.add_argument("--order", choices=["calls", "time"], default="calls",
                        help="list the statements called most, or those taking most time")
    parser.add_argument("--fetch-wait-ms", type=int, default=20)
    parser.add_argument("--preload", type=int, default=0,
                        help="cases sent flat out (and settled) before the measured ones")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with embedded_stack(TRACKING) as infra, running_system(
            {"KAFKA_FETCH_MAX_WAIT_MS": str(args.fetch_wait_ms)}, infra=infra):
        result = asyncio.run(measure(infra.kafka or "", infra.database_url or "", args.rate,
                                     args.cases, args.top, args.preload, args.order))
    print(f"{result['cases']} cases at {result['rate']}/s: {result['statements_per_case']}"
          f" statements per case, {result['explicit_transactions_per_case']} explicit"
          f" transactions, {result['statement_ms_per_case']} ms in statements")
    for row in result["top"]:
        print(f"{row['per_case']:7.2f} x {row['ms_each']:7.3f} ms  {row['statement']}")
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
