"""Sla's composition root."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from oncoroute_shared.policy import section
from oncoroute_shared.runtime import Runtime, ServiceParts, ServiceSpec

from .domain.policy import SlaPolicy
from .entrypoints import http, kafka


def validate_policy(doc: dict[str, Any]) -> SlaPolicy:
    return section(doc, "sla", SlaPolicy)


def build(runtime: Runtime) -> ServiceParts:
    runtime.on_start(lambda: runtime.state.update(policy=validate_policy(runtime.policy)))
    return ServiceParts(subscriptions=kafka.subscriptions(runtime), routers=[http.router(runtime)])


SPEC = ServiceSpec(
    name="sla",
    title="Keeps every case's 24/48-hour clock, warns and escalates",
    default_port=8083,
    migrations=Path(__file__).parent / "migrations",
    build=build,
    validate_policy=validate_policy,
)
