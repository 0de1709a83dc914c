"""Sla's composition root."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import asyncpg

from oncoroute_shared.policy import section
from oncoroute_shared.runtime import Runtime, ServiceParts, ServiceSpec, database_url

from .domain.policy import SlaPolicy
from .entrypoints import board, http, kafka
from .entrypoints.board_feed import BoardChanges
from .entrypoints.gauges import Gauges
from .entrypoints.timer_loop import TimerLoop
from .handlers.firing import fire_due

log = logging.getLogger("oncoroute.sla")


def validate_policy(doc: dict[str, Any]) -> SlaPolicy:
    return section(doc, "sla", SlaPolicy)


def build(runtime: Runtime) -> ServiceParts:
    def start() -> None:
        scale = runtime.settings.oncoroute_time_scale
        policy = validate_policy(runtime.policy).scaled(scale)
        runtime.state["policy"] = policy
        log.info("sla clocks at time scale %s: %s", scale, ", ".join(
            f"{name} {t.turnaround} (accept within {t.acceptance_timeout})"
            for name, t in sorted(policy.tiers.items())))

    async def timers() -> None:
        policy: SlaPolicy = runtime.state["policy"]

        async def fire(conn: asyncpg.Connection, limit: int) -> Any:
            return await fire_due(conn, policy, limit)

        dsn = database_url(runtime.settings)
        await TimerLoop(runtime.db(), fire, f"{runtime.name}_timers", dsn).run()

    async def gauges() -> None:
        dsn = database_url(runtime.settings)
        await Gauges(dsn, runtime.name, lambda: runtime.state["policy"]).run()

    changes = BoardChanges(runtime.name)

    async def board_changes() -> None:
        await changes.run(database_url(runtime.settings))

    runtime.on_start(start)
    return ServiceParts(subscriptions=kafka.subscriptions(runtime),
                        routers=[http.router(runtime), board.router(runtime, changes)],
                        loops=[timers, gauges, board_changes])


SPEC = ServiceSpec(
    name="sla",
    title="Keeps every case's 24/48-hour clock, warns and escalates",
    default_port=8083,
    migrations=Path(__file__).parent / "migrations",
    build=build,
    validate_policy=validate_policy,
)
