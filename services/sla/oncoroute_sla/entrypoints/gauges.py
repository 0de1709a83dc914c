"""Gauges that describe all clocks (open cases by tier and state; the oldest fast-progressing
case without an accepted reviewer). One sla process reports them, the one holding an advisory
lock on its own connection, so that summing over processes in Prometheus stays right; the
others report nothing. A lost connection (database restart) is reopened on the next round."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable

import asyncpg

from oncoroute_shared.metrics import FAST_PROGRESSING_UNACCEPTED, OPEN_CASES

from ..adapters import readmodel
from ..domain.policy import SlaPolicy

log = logging.getLogger("oncoroute.sla.gauges")
LOCK = int.from_bytes(hashlib.sha256(b"sla:gauges").digest()[:8], "big", signed=True)


class Gauges:
    def __init__(self, dsn: str, schema: str, policy: Callable[[], SlaPolicy],
                 every_s: float = 15.0) -> None:
        self._dsn = dsn
        self._settings = {"search_path": f"{schema},public", "application_name": schema}
        self._policy = policy
        self._every = every_s

    async def run(self) -> None:
        conn: asyncpg.Connection | None = None
        leader = False
        try:
            while True:
                try:
                    if conn is None or conn.is_closed():
                        conn = await asyncpg.connect(self._dsn, timeout=5,
                                                     server_settings=self._settings)
                        leader = False
                    if not leader:
                        leader = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)",
                                                          LOCK))
                    if leader:
                        await self.refresh(conn)
                    else:
                        OPEN_CASES.clear()
                        FAST_PROGRESSING_UNACCEPTED.set(0)
                except Exception as exc:  # never let the loop die
                    log.warning("gauges not refreshed: %s", type(exc).__name__)
                    if conn is not None:
                        conn.terminate()
                        conn = None
                await asyncio.sleep(self._every)
        finally:  # closing the session releases the lock
            if conn is not None and not conn.is_closed():
                conn.terminate()

    async def refresh(self, conn: asyncpg.Connection) -> None:
        policy = self._policy()
        counts = await readmodel.open_counts_by_tier(conn, policy.at_risk_at,
                                                     sorted(policy.tiers))
        for tier, by_state in counts.items():
            for state, n in by_state.items():
                OPEN_CASES.labels(tier, state).set(n)
        urgent = [name for name, t in policy.tiers.items() if t.expedite]
        FAST_PROGRESSING_UNACCEPTED.set(await readmodel.oldest_without_reviewer(conn, urgent))
