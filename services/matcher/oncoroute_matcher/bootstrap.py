"""Matcher's composition root."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from oncoroute_shared.policy import section
from oncoroute_shared.runtime import Runtime, ServiceParts, ServiceSpec, database_url

from .domain.panel import Deadlines, MatchingConfig, MatchingPolicy
from .entrypoints import http, kafka
from .entrypoints.dispatcher import Dispatcher
from .entrypoints.gauges import gauges_loop
from .settings import MatcherSettings


def validate_policy(doc: dict[str, Any]) -> MatchingPolicy:
    return section(doc, "matching", MatchingPolicy)


def build(runtime: Runtime) -> ServiceParts:
    def configure() -> None:
        runtime.state["config"] = MatchingConfig(
            validate_policy(runtime.policy), Deadlines.from_policy(runtime.policy),
            runtime.settings.oncoroute_time_scale)
        runtime.state["link_secrets"] = runtime.settings.link_secrets()

    runtime.on_start(configure)
    dispatcher = Dispatcher(runtime.db, lambda: runtime.state["config"],
                            dsn=lambda: database_url(runtime.settings))
    runtime.state["dispatcher"] = dispatcher

    async def dispatch_waiting_seats() -> None:
        await dispatcher.run()

    return ServiceParts(subscriptions=kafka.subscriptions(runtime),
                        routers=[http.router(runtime)],
                        loops=[dispatch_waiting_seats, gauges_loop(runtime.db)])


SPEC = ServiceSpec(
    name="matcher",
    title="Assigns reviewers by expertise, workload, availability and independence",
    default_port=8082,
    migrations=Path(__file__).parent / "migrations",
    build=build,
    settings_cls=MatcherSettings,
    validate_policy=validate_policy,
)
