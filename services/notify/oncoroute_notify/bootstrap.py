"""Notify's composition root."""

from __future__ import annotations

from pathlib import Path

from oncoroute_shared.runtime import Runtime, ServiceParts, ServiceSpec

from .entrypoints import http, kafka, worker
from .settings import NotifySettings


def build(runtime: Runtime) -> ServiceParts:
    return ServiceParts(subscriptions=kafka.subscriptions(runtime),
                        routers=[http.router(runtime)],
                        loops=[worker.delivery_loop(runtime)])


SPEC = ServiceSpec(
    name="notify",
    title="Tells patients, physicians, specialists and operators what they need to know",
    default_port=8084,
    migrations=Path(__file__).parent / "migrations",
    build=build,
    settings_cls=NotifySettings,
)
