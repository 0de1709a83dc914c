"""Durable timers: the sla service's timer store and loop against APScheduler 3 with its
SQLAlchemyJobStore, the scheduler a Python team would otherwise reach for, on the same
PostgreSQL, with the same workload, side by side in one run.

Workload, for each scheduler:
1. arm N deadlines (default 1,000,000): N - B due days from now, then B (default 10,000)
   due within one and the same second, T (about 20 s after arming ends);
2. start one fresh firing process, which sleeps until T and fires the B (each firing writes
   its effect into PostgreSQL: ours an `sla.breached` event into the outbox, APScheduler's job
   a row into a table), and measure its peak resident memory;
3. again with only the B armed, to show whether memory grows with the number armed.

Reported: arming rate (deadlines/s through each scheduler's own API: ours one transaction per
clock as the sla handlers arm them; APScheduler `add_job` on a started, paused scheduler),
firing lateness p50/p99/max of the B (fired minus due, by PostgreSQL's clock) and peak RSS.

    .venv/bin/python bench/sla_timers.py [--timers 1000000] [--burst 10000]
        [--only ours|apscheduler] [--out results.json]

Uses the embedded PostgreSQL unless DATABASE_URL is set. Not a test: run it by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sla_bench_aps import aps_arm, aps_fire_child
from sla_bench_ours import ours_arm, ours_fire_child

from oncoroute_shared.embedded.postgres import EmbeddedPostgres


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def database() -> Iterator[str]:
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    with tempfile.TemporaryDirectory(prefix="oncoroute-bench-sla-") as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pg", port=free_port()).start()
        try:
            yield pg.url
        finally:
            pg.stop()


def fire_in_child(kind: str, dsn: str, schema: str, burst: int, due_at: float) -> dict[str, Any]:
    """A fresh process fires the burst; it reports its memory and when it was ready."""
    child = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--dsn", dsn, "--schema", schema,
         "--burst", str(burst), "--due", str(due_at)],
        capture_output=True, text=True, timeout=1800, check=False)
    if child.returncode != 0:
        raise RuntimeError(f"{kind} firing process failed:\n{child.stderr[-4000:]}")
    return dict(json.loads(child.stdout.strip().splitlines()[-1]))


def run(kind: str, dsn: str, timers: int, burst: int, tag: str) -> dict[str, Any]:
    schema = f"bench_{kind}_{tag}"
    arm = ours_arm if kind == "ours" else aps_arm
    print(f"[{kind}/{tag}] arming {timers:,} deadlines ({burst:,} in one second)...",
          flush=True)
    armed = arm(dsn, schema, timers, burst)
    print(f"[{kind}/{tag}] armed at {armed['rate']:,.0f}/s; firing process waits for the "
          f"burst", flush=True)
    fired = fire_in_child(kind, dsn, schema, burst, armed["due_at"])
    if not fired["ready_before_due"]:
        print(f"[{kind}/{tag}] warning: the firing process was not ready before the burst",
              flush=True)
    result = {"scheduler": kind, "armed": timers, "burst": burst, **armed, **fired}
    print(f"[{kind}/{tag}] lateness p50 {fired['p50']:.3f}s p99 {fired['p99']:.3f}s "
          f"max {fired['max']:.3f}s; peak RSS {fired['peak_rss_mb']:.0f} MB", flush=True)
    return result


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| scheduler | armed | arming rate (/s) | lateness p50 | p99 | max | "
             "firing process RSS: ready / peak |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['scheduler']} | {r['armed']:,} | {r['rate']:,.0f} | "
                     f"{r['p50']:.3f} s | {r['p99']:.3f} s | {r['max']:.3f} s | "
                     f"{r['ready_rss_mb']:.0f} / {r['peak_rss_mb']:.0f} MB |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timers", type=int, default=1_000_000)
    parser.add_argument("--burst", type=int, default=10_000)
    parser.add_argument("--only", choices=["ours", "apscheduler"])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--child", choices=["ours", "apscheduler"], help=argparse.SUPPRESS)
    parser.add_argument("--dsn", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    parser.add_argument("--due", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        fire = ours_fire_child if args.child == "ours" else aps_fire_child
        print(json.dumps(fire(args.dsn, args.schema, args.burst, args.due)))
        return
    kinds = [args.only] if args.only else ["ours", "apscheduler"]
    results = []
    started = time.monotonic()
    with database() as dsn:
        for kind in kinds:
            results.append(run(kind, dsn, args.timers, args.burst, "full"))
            results.append(run(kind, dsn, args.burst, args.burst, "burst_only"))
    print(f"\n{table(results)}\n\n({time.monotonic() - started:,.0f} s in all)")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
