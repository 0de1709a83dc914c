"""The board's live feed: one LISTEN connection per process (the shared `Wakeup`, which reopens
after a database restart) turns sla's `board` notifications into a version number; each open
stream recomputes its snapshot when the version moves and sends it only if it changed.

The version also moves every `refresh_s` seconds, because a clock turns at risk or breached
by time alone, with no write to wake anyone.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from oncoroute_shared.db.wakeup import Wakeup

from ..adapters import board, readmodel
from ..adapters.board import BoardFilters
from ..domain.policy import SlaPolicy

HEARTBEAT_S = 15.0
STOP_CHECK_S = 1.0
MIN_GAP_S = 1.0
RETRY_MS = 2000  # EventSource's own reconnection delay after a dropped stream
WEEK = timedelta(days=7)
DAY = timedelta(hours=24)


class BoardChanges:
    def __init__(self, schema: str, refresh_s: float = 2.0) -> None:
        self._channel = f"{schema}_board"
        self._refresh = refresh_s
        self._moved = asyncio.Condition()
        self.version = 0

    async def run(self, dsn: str | None) -> None:
        """Move the version on each notification and every `refresh_s` (`dsn` None: by
        time alone)."""
        wakeup = Wakeup(dsn, self._channel)
        try:
            while True:
                await wakeup.wait(self._refresh)
                async with self._moved:
                    self.version += 1
                    self._moved.notify_all()
        finally:
            await wakeup.close()

    async def after(self, version: int, timeout: float) -> int:
        """The version once it has moved past `version` (or the same one after `timeout`)."""
        async with self._moved:
            try:  # not `wait_for`, which can swallow a cancellation on 3.11 (see wakeup.py)
                async with asyncio.timeout(timeout):
                    await self._moved.wait_for(lambda: self.version != version)
            except TimeoutError:
                pass
            return self.version


async def snapshot(conn: Any, policy: SlaPolicy, f: BoardFilters) -> dict[str, Any]:
    """Everything the board shows, for one set of filters."""
    tiers = sorted(policy.tiers)
    total, cases = await board.open_cases(conn, policy.at_risk_at, f)
    for case in cases:  # a running clock counts down in the browser from its deadline
        if case["clock"] == "running":
            case["remaining_seconds"] = None
    week = await readmodel.summary(conn, policy.at_risk_at, WEEK, tiers)
    open_counts = week["open"]
    return {
        "filters": {"tier": f.tier, "tumor_group": f.tumor_group, "state": f.standing,
                    "source": f.source},
        "tiers": [{"name": t, "fast": policy.tier(t).expedite,
                   "turnaround_seconds": policy.tier(t).turnaround.total_seconds()}
                  for t in tiers],
        "choices": await board.choices(conn),
        "cases": {"total": total, "shown": len(cases), "items": cases},
        "tiles": {
            "open": sum(sum(by.values()) for by in open_counts.values()),
            "at_risk": sum(by.get("at_risk", 0) for by in open_counts.values()),
            "breached_open": sum(by.get("breached", 0) for by in open_counts.values()),
            "breached_24h": await board.breaches_since(conn, DAY.total_seconds()),
            "window_seconds": WEEK.total_seconds(),
            "by_tier": {t: {"met": out["met"], "on_time_rate": out["met_on_time_rate"],
                            "median_turnaround_seconds": out["turnaround_p50_seconds"]}
                        for t, out in week["by_tier"].items()},
        },
        "unmatched": await board.unmatched(conn),
        "workload": await board.workload(conn),
        "feed": await board.feed(conn),
    }


def encode(doc: dict[str, Any]) -> str:
    return json.dumps(doc, default=_plain, separators=(",", ":"), sort_keys=True)


def _plain(v: object) -> str:
    if isinstance(v, datetime):
        return v.isoformat()
    raise TypeError(f"cannot encode {type(v).__name__}")


def sse(event: str, data: str) -> str:
    """One server-sent event; `data` is a single line of JSON."""
    return f"event: {event}\ndata: {data}\n\n"


async def stream(changes: BoardChanges, build: Callable[[], Awaitable[str]],
                 now: Callable[[], datetime], stopping: Callable[[], bool] = lambda: False,
                 heartbeat_s: float = HEARTBEAT_S,
                 min_gap_s: float = MIN_GAP_S) -> AsyncIterator[str]:
    """Snapshots as server-sent events: the first at once, then each one that differs; a
    `heartbeat` event when nothing was sent for `heartbeat_s`, so proxies keep the connection
    and the page can tell a quiet board from a dead stream. Ends when the server is stopping
    (the page reconnects to another process or to this one once it is back)."""
    yield f"retry: {RETRY_MS}\n\n"
    last = None
    sent_at = time.monotonic()
    version = changes.version
    while not stopping():
        body = await build()
        if body != last:
            last = body
            yield sse("snapshot", body[:-1] + f',"server_time":"{now().isoformat()}"}}')
            sent_at = time.monotonic()
            await asyncio.sleep(min_gap_s)  # a busy system: at most one snapshot a second
        elif time.monotonic() - sent_at >= heartbeat_s:
            yield sse("heartbeat", "{}")
            sent_at = time.monotonic()
        version = await changes.after(version, min(heartbeat_s, STOP_CHECK_S))
