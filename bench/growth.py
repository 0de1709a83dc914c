"""Growth: the operator board's API, end-to-end throughput and latency, and the matcher's
decision time as the record grows (10^4 .. 10^6 cases, 100 .. 10,000 specialists).

Each point gets a fresh embedded stack: the services' migrations, then `_history.py` seeds
the cases on record and the roster straight into PostgreSQL, then the four services start
and are measured:

- `dashboard`: sequential requests with an operator token to every read the board and the
  sla API serve (`/board/snapshot` with each filter, `/v1/sla/cases`, `/v1/sla/summary`,
  `/v1/sla/cases/{id}`) and the SQL of sla's Grafana gauges. Board snapshots are cached
  per filter until the board changes (at least every 2 s); the `limit` is varied so that
  every request builds its snapshot (the cost an operator sees after a change), and one
  view measures the cached answer.
- `throughput`: `throughput.py`'s Kafka submissions, a burst flat out then a fixed rate,
  each case done when notify has recorded the specialist's offer as sent.
- `matcher` (once, its own schema): `matcher_decision.py` at each roster size.

    .venv/bin/python bench/growth.py [--sizes 10000,100000,1000000] [--roster-sizes ...]
        [--out docs/plots/growth.json] [--plots docs/plots]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).parent))
from _history import row_counts, seed_cases, seed_roster  # noqa: E402
from _system import cli, free_port  # noqa: E402
from growth_dashboard import measure_dashboard  # noqa: E402
from throughput import pct, submit_kafka, wait_done  # noqa: E402

from oncoroute_shared.db.migrations import migrate  # noqa: E402
from oncoroute_shared.embedded.stack import (  # noqa: E402
    SERVICES,
    Infrastructure,
    ServiceProcess,
    wait_ready,
)
from oncoroute_shared.operator_access import new_token  # noqa: E402


def log(msg: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {msg}", flush=True)


async def prepare(dsn: str, cases: int, specialists: int) -> dict[str, Any]:
    import importlib

    conn = await asyncpg.connect(dsn)
    try:
        for name in SERVICES:
            module = importlib.import_module(f"oncoroute_{name}")
            await migrate(conn, name, Path(module.__file__ or "").parent / "migrations")
        t0 = datetime.now(UTC)
        start = time.monotonic()
        await seed_roster(conn, specialists, t0)
        phases = await seed_cases(dsn, cases, specialists, t0, progress=log)
        seconds = round(time.monotonic() - start, 1)
        counts = await row_counts(conn)
        size = await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
    finally:
        await conn.close()
    return {"seed_seconds": seconds, "seed_phases": phases, "rows": counts,
            "rows_total": sum(counts.values()), "database_size": size}


@contextlib.contextmanager
def services(infra: Infrastructure, tmp: Path, digest: str) -> Iterator[dict[str, ServiceProcess]]:
    env = {**infra.env(), "LOG_LEVEL": "WARNING", "OPERATOR_TOKEN_HASHES": digest}
    procs = {name: ServiceProcess(name, free_port(), env, tmp / f"{name}.log").start()
             for name in SERVICES}
    try:
        wait_ready(list(procs.values()), deadline_s=180)
        yield procs
    finally:
        for p in procs.values():
            p.stop()


async def batch(infra: Infrastructure, cases: int, rate: float, timeout: float) -> dict[str, Any]:
    source = f"growth-{uuid.uuid4().hex[:6]}"
    cli(infra.env(), "keys", "create", "--source", source)
    sent = await submit_kafka(infra.kafka or "", source, cases, rate)
    done = await wait_done(infra.database_url or "", source, cases, timeout)
    latencies = [done[k] - sent[k] for k in sent]
    elapsed = max(done.values()) - min(sent.values())
    return {"cases": cases, "rate": rate or "max",
            "throughput_cases_per_s": round(cases / elapsed, 1),
            "latency_ms": {p: round(pct(latencies, q) * 1000, 1)
                           for p, q in (("p50", 50), ("p99", 99), ("max", 100))}}


async def measure_point(cases: int, specialists: int, args: argparse.Namespace) -> dict[str, Any]:
    point: dict[str, Any] = {"cases": cases, "specialists": specialists,
                             "load_average_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="oncoroute-growth-") as tmp:
        infra = Infrastructure(Path(tmp), broker_port=free_port(), pg_port=free_port()).start()
        try:
            dsn = infra.database_url or ""
            log(f"{cases:,} cases, {specialists:,} specialists: seeding")
            point |= await prepare(dsn, cases, specialists)
            log(f"seeded {point['rows_total']:,} rows ({point['database_size']}) in "
                f"{point['seed_seconds']} s")
            token, digest = new_token()
            start = time.monotonic()
            with services(infra, Path(tmp), digest) as procs:
                point["services_start_seconds"] = round(time.monotonic() - start, 1)
                warm = f"growth-warm-{uuid.uuid4().hex[:4]}"
                cli(infra.env(), "keys", "create", "--source", warm)
                await submit_kafka(infra.kafka or "", warm, 20, 0)
                await wait_done(dsn, warm, 20, 300)
                log("dashboard")
                point["dashboard"] = await measure_dashboard(
                    procs["sla"].url, token, dsn, args.requests)
                log("throughput")
                point["burst"] = await batch(infra, args.burst, 0, args.timeout)
                point["fixed_rate"] = await batch(infra, args.rate_cases, args.rate,
                                                  args.timeout)
                log(f"burst {point['burst']}  fixed rate {point['fixed_rate']}")
        finally:
            infra.stop()
    point["load_average_after"] = os.getloadavg()
    return point


def measure_matcher(sizes: list[int], seats: int) -> list[dict[str, Any]]:
    import matcher_decision as md

    from oncoroute_matcher.bootstrap import validate_policy
    from oncoroute_matcher.domain.panel import Deadlines, MatchingConfig
    from oncoroute_shared.policy import load_document

    doc = load_document(None)
    cfg = MatchingConfig(validate_policy(doc), Deadlines.from_policy(doc))
    found = []
    with tempfile.TemporaryDirectory() as tmp:
        infra = Infrastructure(Path(tmp), kafka="unused:9092", pg_port=free_port()).start()
        try:
            for n in sizes:
                ranking = md.bench_ranking(n, seats, cfg)
                dispatch = asyncio.run(md.bench_dispatch(n, seats, cfg, infra.database_url or ""))
                found.append({"specialists": n, "candidates_mean": ranking["candidates_mean"],
                              "choose_cpu": ranking["choose_cpu"], "choose": ranking["choose"],
                              "dispatch": dispatch["dispatch"]})
                log(f"matcher {n:,}: {found[-1]}")
        finally:
            infra.stop()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="cases on record")
    parser.add_argument("--specialists", type=int, default=1000,
                        help="roster at every --sizes point")
    parser.add_argument("--roster-sizes", default="100,10000",
                        help="extra points: these rosters with the smallest --sizes")
    parser.add_argument("--requests", type=int, default=200, help="per dashboard view")
    parser.add_argument("--burst", type=int, default=400, help="cases sent flat out")
    parser.add_argument("--rate", type=float, default=20, help="arrivals/s of the fixed run")
    parser.add_argument("--rate-cases", type=int, default=300)
    parser.add_argument("--matcher-seats", type=int, default=500)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--plots", type=Path, help="directory for the PNG plots")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    rosters = [int(s) for s in args.roster_sizes.split(",") if s]
    started = time.monotonic()
    result: dict[str, Any] = {"command": " ".join(["bench/growth.py", *sys.argv[1:]]),
                              "points": [], "matcher": []}

    def save() -> None:  # after every point: a long run that stops early keeps its figures
        result["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        result["run_seconds"] = round(time.monotonic() - started)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")

    for cases, roster in [(n, args.specialists) for n in sizes] + [(min(sizes), s)
                                                                   for s in rosters]:
        result["points"].append(asyncio.run(measure_point(cases, roster, args)))
        save()
    result["matcher"] = measure_matcher(sorted({*rosters, args.specialists}), args.matcher_seats)
    save()
    if args.plots:
        from growth_plots import plot_all

        plot_all(result, args.plots)
    from growth_plots import table

    print(table(result))


if __name__ == "__main__":
    main()
