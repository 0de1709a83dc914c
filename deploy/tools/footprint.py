"""Measure what one replica of each service costs: memory at rest and under a burst, CPU
seconds per case, and intake's HTTP throughput. The numbers behind the requests and limits in
deploy/k8s and the sizing in docs/SCALING.md.

    .venv/bin/python deploy/tools/footprint.py [--cases 400] [--concurrency 8]

Starts its own embedded broker and PostgreSQL (free ports, a temporary directory) and the four
services as processes, exactly as `oncoroute up` does, sends a burst of synthetic cases, waits
until every case is opened by intake, has a clock in sla and seats in matcher, and prints a
Markdown table. Stops everything it started.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

from oncoroute_shared.cli.demo import demo_api_key, load_demo_roster, synthetic_submission
from oncoroute_shared.embedded.stack import SERVICES, Infrastructure, ServiceProcess, wait_ready

TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def memory_mib(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise LookupError(key)


async def burst(url: str, key: str, cases: int, concurrency: int) -> list[float]:
    rng = random.Random(11)
    submissions = [synthetic_submission(rng) for _ in range(cases)]
    latencies: list[float] = []
    queue: asyncio.Queue[dict] = asyncio.Queue()
    for s in submissions:
        queue.put_nowait(s)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            submission = queue.get_nowait()
            start = time.perf_counter()
            response = await client.post("/v1/cases", json=submission)
            latencies.append(time.perf_counter() - start)
            assert response.status_code in (200, 201, 422), response.text[:200]

    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return latencies


async def wait_processed(dsn: str, deadline_s: float) -> tuple[int, float]:
    """Seconds until sla and matcher have caught up with every case intake opened."""
    start = time.monotonic()
    conn = await asyncpg.connect(dsn)
    try:
        while time.monotonic() - start < deadline_s:
            opened = await conn.fetchval("SELECT count(*) FROM intake.cases")
            clocks = await conn.fetchval("SELECT count(*) FROM sla.clocks")
            seated = await conn.fetchval("SELECT count(DISTINCT case_id) FROM matcher.seats")
            if opened and clocks >= opened and seated >= opened:
                return int(opened), time.monotonic() - start
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    raise TimeoutError("the services did not catch up")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        infra = Infrastructure(Path(tmp), broker_port=free_port(), pg_port=free_port()).start()
        procs: dict[str, ServiceProcess] = {}
        try:
            env = infra.env()
            load_demo_roster(env)
            procs = {s: ServiceProcess(s, free_port(), env, Path(tmp) / f"{s}.log").start()
                     for s in SERVICES}
            wait_ready(list(procs.values()), deadline_s=180)
            pids = {s: p.proc.pid for s, p in procs.items() if p.proc}
            rest = {s: memory_mib(pid, "VmRSS") for s, pid in pids.items()}
            cpu0 = {s: cpu_seconds(pid) for s, pid in pids.items()}
            key = demo_api_key(env)
            start = time.monotonic()
            latencies = asyncio.run(burst(procs["intake"].url, key, args.cases,
                                          args.concurrency))
            http_s = time.monotonic() - start
            opened, lag_s = asyncio.run(wait_processed(env["DATABASE_URL"], 600))
            total_s = time.monotonic() - start
            cpu = {s: cpu_seconds(pid) - cpu0[s] for s, pid in pids.items()}
            peak = {s: memory_mib(pid, "VmHWM") for s, pid in pids.items()}
        finally:
            for p in procs.values():
                p.stop()
            infra.stop()
    q = statistics.quantiles(latencies, n=20)
    print(f"{args.cases} submissions, concurrency {args.concurrency}, {opened} cases opened")
    print(f"intake HTTP: {args.cases / http_s:.0f} submissions/s, p50 {q[9] * 1000:.0f} ms, "
          f"p95 {q[18] * 1000:.0f} ms; all cases clocked and seated after {total_s:.1f} s "
          f"({lag_s:.1f} s after the last answer)")
    print("\n| service | RSS at rest (MiB) | peak RSS (MiB) | CPU ms per case |")
    print("|---|---|---|---|")
    for s in SERVICES:
        print(f"| {s} | {rest[s]:.0f} | {peak[s]:.0f} | {cpu[s] * 1000 / opened:.1f} |")


if __name__ == "__main__":
    main()
