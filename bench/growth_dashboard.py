"""Response times of the operator board and sla's read API, one request at a time, with an
operator token (as `tests/e2e` call them). Also the SQL behind sla's Grafana gauges."""

from __future__ import annotations

import time
from typing import Any

import asyncpg
import httpx

from oncoroute_shared.policy import load_document
from oncoroute_sla.adapters import readmodel
from oncoroute_sla.bootstrap import validate_policy

# (name, path, query); the board's own page asks for the snapshot without filters (limit 200)
# and with any of tier, tumour group, standing and source.
BOARD = [
    ("board", {}),
    ("board, tier=fast_progressing", {"tier": "fast_progressing"}),
    ("board, tumor_group=breast", {"tumor_group": "breast"}),
    ("board, state=at_risk", {"state": "at_risk"}),
    ("board, state=breached", {"state": "breached"}),
    ("board, source=hospital-07", {"source": "hospital-07"}),
]
API = [
    ("open clocks", "/v1/sla/cases", {}),
    ("open clocks, state=breached", "/v1/sla/cases", {"state": "breached"}),
    ("open clocks, awaiting records, latest first, page 2", "/v1/sla/cases",
     {"status": "awaiting_records", "sort": "-time_remaining", "offset": "50", "limit": "50"}),
    ("summary 7d", "/v1/sla/summary", {}),
    ("summary 24h", "/v1/sla/summary", {"window": "24h"}),
    ("summary 30d", "/v1/sla/summary", {"window": "30d"}),
]


def stats(samples: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples)

    def at(q: float) -> float:
        return round(ms[min(len(ms) - 1, int(round(q * (len(ms) - 1))))], 1)

    return {"p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": round(ms[-1], 1), "n": len(ms)}


async def _timed(client: httpx.AsyncClient, path: str, params: list[dict[str, str]]) -> list[float]:
    samples = []
    for query in params:
        start = time.perf_counter()
        r = await client.get(path, params=query)
        samples.append(time.perf_counter() - start)
        r.raise_for_status()
    return samples


async def measure_dashboard(url: str, token: str, dsn: str, n: int) -> dict[str, Any]:
    views: dict[str, Any] = {}
    conn = await asyncpg.connect(dsn)
    try:
        some = [r["case_id"] for r in await conn.fetch(
            "SELECT case_id FROM sla.clocks ORDER BY random() LIMIT $1", n)]
        async with httpx.AsyncClient(base_url=url, timeout=60,
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            await _timed(client, "/board/snapshot", [{}] * 3)  # warm connections and plans
            for name, query in BOARD:
                # a new limit each time: never the cached snapshot (cache holds 64 filters)
                views[name] = stats(await _timed(
                    client, "/board/snapshot",
                    [{**query, "limit": str(150 + i % 100)} for i in range(n)]))
            views["board, cached"] = stats(await _timed(
                client, "/board/snapshot", [{"limit": "200"}] * n))
            for name, path, query in API:
                views[name] = stats(await _timed(client, path, [query] * n))
            views["one case (history)"] = stats(await _one_cases(client, some, n))
        views["gauges (Grafana), SQL"] = stats(await _gauges(conn, n // 4 or 1))
    finally:
        await conn.close()
    board = [v["p99_ms"] for k, v in views.items() if k.startswith("board") and "cached" not in k]
    return {"views": views, "board_p99_ms": max(board),
            "all_p99_ms": max(v["p99_ms"] for v in views.values())}


async def _one_cases(client: httpx.AsyncClient, ids: list[str], n: int) -> list[float]:
    samples = []
    for i in range(n):
        start = time.perf_counter()
        r = await client.get(f"/v1/sla/cases/{ids[i % len(ids)]}")
        samples.append(time.perf_counter() - start)
        r.raise_for_status()
    return samples


async def _gauges(conn: asyncpg.Connection, n: int) -> list[float]:
    policy = validate_policy(load_document(None))
    tiers = sorted(policy.tiers)
    urgent = [name for name, t in policy.tiers.items() if t.expedite]
    await conn.execute("SET search_path TO sla, public")
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        await readmodel.open_counts_by_tier(conn, policy.at_risk_at, tiers)
        await readmodel.oldest_without_reviewer(conn, urgent)
        samples.append(time.perf_counter() - start)
    return samples
