"""Intake's composition root."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from oncoroute_shared.policy import section
from oncoroute_shared.runtime import Runtime, ServiceParts, ServiceSpec

from .domain.policy import ClassificationPolicy
from .entrypoints import http, kafka


def validate_policy(doc: dict[str, Any]) -> ClassificationPolicy:
    return section(doc, "classification", ClassificationPolicy)


def build(runtime: Runtime) -> ServiceParts:
    runtime.on_start(lambda: runtime.state.update(policy=validate_policy(runtime.policy)))
    return ServiceParts(subscriptions=kafka.subscriptions(runtime), routers=[http.router(runtime)])


SPEC = ServiceSpec(
    name="intake",
    title="Takes second-opinion requests, classifies the cancer and opens cases",
    default_port=8081,
    migrations=Path(__file__).parent / "migrations",
    build=build,
    validate_policy=validate_policy,
)
